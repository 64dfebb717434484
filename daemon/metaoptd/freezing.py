"""How a trial of a multi-fidelity experiment ends: frozen, to be thawed later, or done.

A lease gives a trial a budget of steps below the fidelity's high; the script trains that far
and exits, or is asked to stop sooner (``runner.ask_to_stop``: its next report returns False)
and exits with ``FROZEN_EXIT``, or is stopped after the grace period. Whichever way, a trial
that left a checkpoint and has steps to go is frozen; one without a checkpoint was stopped
early for good (it is never thawed: it would start over); one that reached the high is done.
Failures stay failures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from metaopt.records import Trial
from metaopt.records import TrialStatus


def settle(
    status: TrialStatus, steps: int, high: int, checkpoint_bytes: int, asked_to_stop: bool
) -> TrialStatus:
    """The status a multi-fidelity trial ends in, from how its process ended."""
    stopped = status in (TrialStatus.COMPLETED, TrialStatus.FROZEN) or (
        status == TrialStatus.INTERRUPTED and asked_to_stop
    )
    if not stopped:
        return status  # failed, broken, or interrupted by a shutdown: requeued as before
    if steps >= high or checkpoint_bytes == 0:
        return TrialStatus.COMPLETED
    return TrialStatus.FROZEN


def settle_whole(status: TrialStatus) -> TrialStatus:
    """A whole-trial experiment never thaws: a script that exits frozen unasked has failed."""
    return TrialStatus.FAILED if status == TrialStatus.FROZEN else status


def over_limit(
    frozen: Sequence[Trial], ranks: dict[str, float], limit_bytes: float
) -> list[Trial]:
    """The frozen trials to stop for good so that the rest's checkpoints fit in the limit:
    the least promising first (``ranks``: 0 the best of its rung, 1 the worst)."""
    held = sum(t.checkpoint_bytes for t in frozen)
    out = []
    for trial in sorted(frozen, key=lambda t: (-ranks.get(t.id, 1.0), t.id)):
        if held <= limit_bytes:
            break
        out.append(trial)
        held -= trial.checkpoint_bytes
    return out


def rung_ranks(trials: Sequence[Trial], objective: str | None, maximize: bool) -> dict[str, float]:
    """Each frozen trial's place among the trials that reached as many steps: 0 best, 1 worst."""
    sign = -1.0 if maximize else 1.0

    def at(trial: Trial, steps: int) -> float | None:
        values = [m.get(objective or trial.first_metric() or "") for _, m in trial.curve[:steps]]
        seen = [sign * v for v in values if v is not None and math.isfinite(v)]
        return min(seen) if seen else None

    ranks = {}
    for trial in trials:
        if not trial.status.is_frozen():
            continue
        steps = len(trial.curve)
        mine = at(trial, steps)
        others = [v for t in trials if len(t.curve) >= steps and (v := at(t, steps)) is not None]
        if mine is None or len(others) < 2:
            ranks[trial.id] = 1.0
            continue
        ranks[trial.id] = sum(1 for v in others if v < mine) / (len(others) - 1)
    return ranks
