"""The numbers behind the dashboard's plots, as JSON: the same series ``metaopt plot`` draws
(``metaopt.analysis``), so the page and the figures never disagree."""

from __future__ import annotations

from typing import Any

from metaopt._history import History
from metaopt.analysis._series import best_so_far
from metaopt.analysis._series import curves
from metaopt.analysis._series import failures
from metaopt.analysis._series import log_scaled
from metaopt.analysis._series import samples

TOP_CURVES = 10
EXAMPLES = 20  # trial ids listed per failure group


def series(history: History) -> dict[str, Any]:
    points = best_so_far(history)
    every = samples(history)
    return {
        "experiment": history.name,
        "objective": history.objective,
        "maximize": history.experiment.maximize,
        "history": {
            "trial_ids": [p.trial_id for p in points],
            "values": [p.value for p in points],
            "best": [p.best for p in points],
        },
        "curves": [
            {"id": c.trial_id, "status": c.status, "steps": c.steps, "values": c.values}
            for c in curves(history, TOP_CURVES)
        ],
        # every parameter's values in one order: that of ``objective`` and ``trial_ids``
        "samples": {
            "trial_ids": list(every[0].trial_ids) if every else [],
            "objective": list(every[0].objective) if every else [],
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
