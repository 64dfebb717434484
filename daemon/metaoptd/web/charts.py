"""The numbers behind the dashboard's plots, as JSON: the same series ``metaopt plot`` draws
(``metaopt.analysis``), so the page and the figures never disagree."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from metaopt._history import History
from metaopt.analysis._series import by_end
from metaopt.analysis._series import curves
from metaopt.analysis._series import failures
from metaopt.analysis._series import leaderboard as top_trials
from metaopt.analysis._series import log_scaled
from metaopt.analysis._series import running_best
from metaopt.analysis._series import samples
from metaopt.analysis._series import trend

TOP_CURVES = 10
EXAMPLES = 20  # trial ids listed per failure group


def series(history: History) -> dict[str, Any]:
    scored = by_end(history)  # one order for the history and the samples, sorted once
    every = samples(history, scored)
    objective = [v for _, v in scored]
    return {
        "experiment": history.name,
        "objective": history.objective,
        "maximize": history.experiment.maximize,
        # the best value up to each completed trial of ``samples`` (the same order)
        "history": {"best": running_best(objective, history.experiment.maximize)},
        "curves": [
            {"id": c.trial_id, "status": c.status, "steps": c.steps, "values": c.values}
            for c in curves(history, TOP_CURVES)
        ],
        # every parameter's values in one order: that of ``objective`` and ``trial_ids``
        "samples": {
            "trial_ids": [t.id for t, _ in scored],
            "objective": objective,
            "params": [
                {
                    "name": s.param,
                    "values": s.values,
                    "labels": s.labels,
                    "log": not s.labels and log_scaled(history, s.param),
                }
                for s in every
            ],
        },
        "failures": [
            {
                "signature": g.signature,
                "count": len(g.trial_ids),
                "trial_ids": g.trial_ids[:EXAMPLES],
                "example": g.example,
            }
            for g in failures(history)
        ],
    }


def leaderboard(group: Sequence[History], top: int) -> dict[str, Any]:
    """``group``: one experiment first, then the others of its script (``same_script``)."""
    return {
        "experiments": [h.name for h in group],
        "maximize": group[0].experiment.maximize,
        "top": [
            {"experiment": e.experiment, "id": e.trial_id, "value": e.value, "params": e.params}
            for e in top_trials(group, top)
        ],
        "trend": [{"experiment": name, "best": best} for name, best in trend(group)],
    }
