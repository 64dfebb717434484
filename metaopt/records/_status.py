"""Trial and experiment statuses.

Only append: the numbers are part of the store format and of what other nodes read.
"""

from __future__ import annotations

import enum


class TrialStatus(enum.IntEnum):
    NEW = 0  # proposed, not yet claimed by a slot
    RESERVED = 1  # claimed by a node; its process is being started
    RUNNING = 2
    FROZEN = 3  # paused with a checkpoint by early stopping; may be thawed
    COMPLETED = 4
    FAILED = 5  # the script exited with an error
    BROKEN = 6  # could not be run at all (missing script, bad command)
    INTERRUPTED = 7  # killed by a signal or exit 130: requeued, not a failure

    def is_finished(self) -> bool:
        return self in (TrialStatus.COMPLETED, TrialStatus.FAILED, TrialStatus.BROKEN)

    def is_active(self) -> bool:
        """Holds a slot somewhere."""
        return self in (TrialStatus.RESERVED, TrialStatus.RUNNING)

    def is_runnable(self) -> bool:
        """Waiting for a slot: requeued work is taken before new proposals."""
        return self in (TrialStatus.NEW, TrialStatus.INTERRUPTED)

    def is_frozen(self) -> bool:
        """Paused with a checkpoint: only its algorithm thaws it, with a larger budget. A frozen
        trial is neither pending (its curve so far is data) nor finished (it may go on)."""
        return self == TrialStatus.FROZEN

    @property
    def label(self) -> str:
        return self.name.lower()


class ExperimentStatus(enum.IntEnum):
    RUNNING = 0
    STOPPED = 1  # by the user; `metaopt resume` starts it again
    DONE = 2  # max_trials reached or the search space exhausted
    BROKEN = 3  # too many consecutive failures

    @property
    def label(self) -> str:
        return self.name.lower()
