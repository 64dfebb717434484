"""How a trial of a multi-fidelity experiment ends: frozen, to be thawed later, or done.

A lease gives a trial a budget of steps below the fidelity's high; the script trains that far
and exits, or is asked to stop sooner (``runner.ask_to_stop``: its next report returns False)
and exits with ``FROZEN_EXIT``, or is stopped after the grace period. Whichever way, a trial
that left a checkpoint and has steps to go is frozen; one without a checkpoint was stopped
early for good (it is never thawed: it would start over); one that reached the high is done.
Failures stay failures.
"""

from __future__ import annotations

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
