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
    """The trials since the last useful one (or the last resume) that were not, as they ended.

    A trial that completed without reporting anything counts with the failures: the search
    learns nothing from it, and a script that never reports would otherwise run forever.
    """
    ended = sorted(
        (t for t in trials if t.status.is_finished() and (t.ended or 0.0) >= experiment.resumed),
        key=lambda t: t.ended or 0.0,
    )
    streak: list[Trial] = []
    for trial in ended:
        streak = [] if _useful(trial) else [*streak, trial]
    return streak


def missing_objective(experiment: Experiment, trials: Sequence[Trial]) -> str | None:
    """Why the named objective must be a mistake: trials completed with metrics, never with it."""
    wanted = experiment.objective
    if not wanted:
        return None
    reported: dict[str, None] = {}  # ordered, as first seen
    for trial in trials:
        if trial.status != TrialStatus.COMPLETED:
            continue
        for _, metrics in trial.curve:
            if wanted in metrics:
                return None
            reported.update(dict.fromkeys(metrics))
    if not reported:
        return None
    names = list(reported)
    return (
        f"no trial reported the objective {wanted!r}; the trials reported: {', '.join(names)}. "
        f"Run it again with --objective {names[0]} (under another --name, or after "
        f"`metaopt delete {experiment.name}`)"
    )


def end_state(
    experiment: Experiment, trials: Sequence[Trial], exhausted: bool
) -> tuple[ExperimentStatus, str] | None:
    """The status a running experiment moves to now, with its message, or None to go on."""
    wrong_objective = missing_objective(experiment, trials)
    if wrong_objective is not None:
        return ExperimentStatus.BROKEN, wrong_objective
    failures = consecutive_failures(experiment, trials)
    useful = sum(1 for t in trials if _useful(t))
    if len(failures) >= experiment.max_broken:
        limit = f"(--max-broken {experiment.max_broken})"
        streak = f"{len(failures)} trials failed in a row {limit}"
        if not useful:
            streak = f"every trial failed: {len(failures)} in a row {limit}"
        return ExperimentStatus.BROKEN, f"{streak}; {_last_failure(failures[-1])}"
    if any(t.status.is_active() for t in trials):
        return None
    completed = sum(1 for t in trials if t.status == TrialStatus.COMPLETED)
    if completed >= experiment.max_trials:
        return ExperimentStatus.DONE, f"{completed} trials completed"
    if exhausted and not requeued(trials):
        failed = [t for t in trials if t.status.is_finished() and not _useful(t)]
        if not useful and failed:
            last = max(failed, key=lambda t: t.ended or 0.0)
            return ExperimentStatus.BROKEN, (
                f"every trial failed (the search space is exhausted after {len(trials)} "
                f"trials); {_last_failure(last)}"
            )
        frozen = sum(1 for t in trials if t.status.is_frozen())
        if frozen:
            return ExperimentStatus.DONE, (
                f"no trial is worth more steps: {completed} completed, {frozen} frozen"
            )
        return ExperimentStatus.DONE, f"search space exhausted after {len(trials)} trials"
    return None


def _useful(trial: Trial) -> bool:
    """It taught the search something: a curve, whole or frozen partway."""
    done = trial.status == TrialStatus.COMPLETED or trial.status.is_frozen()
    return done and bool(trial.curve)


def _last_failure(trial: Trial) -> str:
    if trial.status == TrialStatus.COMPLETED:
        return (
            f"the last one, {trial.id}, completed without reporting any metric: report with "
            "metaopt.report(step, loss=...) or print lines like 'metaopt: loss=0.25' on stdout"
        )
    how = f"exit code {trial.exit_code}" if trial.exit_code is not None else "an error"
    tail = trial.stderr_tail.strip()[-1500:]
    return f"the last one, {trial.id}, ended with {how}:\n{tail}"
