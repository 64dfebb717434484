"""When an experiment may start trials, and when it is over: pure functions of its trials."""

from __future__ import annotations

from collections.abc import Sequence

from metaopt.records import Experiment
from metaopt.records import ExperimentStatus
from metaopt.records import Trial
from metaopt.records import TrialStatus


def requeued(trials: Sequence[Trial]) -> list[Trial]:
    """Trials waiting to run again, oldest first: they go before any new proposal."""
    return [t for t in trials if t.status.is_runnable()]


def new_allowed(experiment: Experiment, trials: Sequence[Trial]) -> int:
    """How many new points may be proposed without overshooting ``max_trials``."""
    taken = sum(
        1 for t in trials if t.status == TrialStatus.COMPLETED or not t.status.is_finished()
    )
    return max(0, experiment.max_trials - taken)


def consecutive_failures(experiment: Experiment, trials: Sequence[Trial]) -> list[Trial]:
    """The failed trials since the last one that completed (or the last resume), as they ended."""
    ended = sorted(
        (t for t in trials if t.status.is_finished() and (t.ended or 0.0) >= experiment.resumed),
        key=lambda t: t.ended or 0.0,
    )
    streak: list[Trial] = []
    for trial in ended:
        streak = [] if trial.status == TrialStatus.COMPLETED else [*streak, trial]
    return streak


def end_state(
    experiment: Experiment, trials: Sequence[Trial], exhausted: bool
) -> tuple[ExperimentStatus, str] | None:
    """The status a running experiment moves to now, with its message, or None to go on."""
    failures = consecutive_failures(experiment, trials)
    if len(failures) >= experiment.max_broken:
        last = failures[-1]
        how = f"exit code {last.exit_code}" if last.exit_code is not None else "an error"
        tail = last.stderr_tail.strip()[-1500:]
        return ExperimentStatus.BROKEN, (
            f"{len(failures)} trials failed in a row (--max-broken {experiment.max_broken}); "
            f"the last one, {last.id}, ended with {how}:\n{tail}"
        )
    if any(t.status.is_active() for t in trials):
        return None
    completed = sum(1 for t in trials if t.status == TrialStatus.COMPLETED)
    if completed >= experiment.max_trials:
        return ExperimentStatus.DONE, f"{completed} trials completed"
    if exhausted and not requeued(trials):
        return ExperimentStatus.DONE, f"search space exhausted after {len(trials)} trials"
    return None
