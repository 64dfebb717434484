"""Counts and best trial of one experiment: what `metaopt status` shows."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence

from metaopt.records._experiment import Experiment
from metaopt.records._status import TrialStatus
from metaopt.records._trial import Trial
from metaopt.records._view import HistoryView


@dataclasses.dataclass(frozen=True, slots=True)
class Summary:
    name: str
    status: str
    algo: str
    max_trials: int
    objective: str | None  # the metric ranked on, resolved from the trials when not given
    maximize: bool
    counts: dict[str, int]  # status label -> number of trials
    best_trial: str | None
    best_value: float | None
    best_params: dict[str, object] | None
    message: str

    @property
    def completed(self) -> int:
        return self.counts.get("completed", 0)

    @property
    def active(self) -> int:
        return self.counts.get("running", 0) + self.counts.get("reserved", 0)

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, body: dict[str, object]) -> Summary:
        return cls(**body)  # type: ignore[arg-type]


def objective_name(experiment: Experiment, trials: Sequence[Trial]) -> str | None:
    """The experiment's objective: as given, else the first metric any trial reported."""
    if experiment.objective:
        return experiment.objective
    for trial in trials:
        name = trial.first_metric()
        if name is not None:
            return name
    return None


def best_trial(experiment: Experiment, trials: Sequence[Trial]) -> tuple[Trial, float] | None:
    """The first of ``ranked_trials``, found without sorting them all."""
    metric = objective_name(experiment, trials)
    sign = -1.0 if experiment.maximize else 1.0
    best: tuple[Trial, float] | None = None
    for trial in trials:
        if trial.status != TrialStatus.COMPLETED:
            continue
        value = trial.objective(metric)
        if value is not None and (best is None or sign * value < sign * best[1]):
            best = (trial, value)
    return best


def ranked_trials(experiment: Experiment, trials: Sequence[Trial]) -> list[tuple[Trial, float]]:
    """Completed trials with an objective value, best first."""
    metric = objective_name(experiment, trials)
    scored = []
    for trial in trials:
        value = trial.objective(metric) if trial.status == TrialStatus.COMPLETED else None
        if value is not None:
            scored.append((trial, value))
    scored.sort(key=lambda tv: -tv[1] if experiment.maximize else tv[1])
    return scored


def summarize(experiment: Experiment, trials: Sequence[Trial]) -> Summary:
    by_status = Counter(trial.status for trial in trials)
    counts = {status.label: n for status, n in by_status.items()}
    best = best_trial(experiment, trials)
    return Summary(
        name=experiment.name,
        status=experiment.status.label,
        algo=experiment.algo,
        max_trials=experiment.max_trials,
        objective=objective_name(experiment, trials),
        maximize=experiment.maximize,
        counts=counts,
        best_trial=best[0].id if best else None,
        best_value=best[1] if best else None,
        best_params=best[0].params if best else None,
        message=experiment.message,
    )


def summarize_in(view: HistoryView, experiment: Experiment) -> Summary:
    """The summary the view gives, saying so when another definition of the name was set aside."""
    summary = summarize(experiment, view.trials(experiment.name))
    aside = view.set_aside(experiment.name)
    if not aside:
        return summary
    nodes = ", ".join(sorted({origin for origin, _ in aside}))
    note = (
        f"also submitted on {nodes} at the same time with another definition; that one was set "
        "aside and does not run (submit it under another name)"
    )
    message = f"{summary.message}; {note}" if summary.message else note
    return dataclasses.replace(summary, message=message)
