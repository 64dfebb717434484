"""The one deterministic rule that turns every origin's copy of a record into one view.

Each node writes only under its own origin, so the same trial or experiment may exist in several
versions, one per origin. Every node applies this rule to the same set and gets the same answer:

* a completed trial is never overwritten by any other copy;
* otherwise the copy from the latest attempt wins (an interrupted trial rerun elsewhere);
* then the later hybrid-logical-clock time, then the larger origin id, so ties cannot remain.

Experiments are last-writer-wins on (HLC, origin): stop and resume are plain updates.
"""

from __future__ import annotations

from collections.abc import Iterable

from metaopt._core import Record
from metaopt.records._status import TrialStatus
from metaopt.records._trial import Trial


def merge_trial(copies: Iterable[tuple[Record, Trial]]) -> Trial:
    """Pick the winning copy of one trial; ``copies`` is never empty."""

    def rank(item: tuple[Record, Trial]) -> tuple[bool, int, int, str]:
        record, trial = item
        return (trial.status == TrialStatus.COMPLETED, trial.attempt, record.hlc, record.origin)

    return max(copies, key=rank)[1]


def latest(records: Iterable[Record]) -> Record:
    """Last writer wins: the record with the greatest (HLC, origin)."""
    return max(records, key=lambda r: (r.hlc, r.origin))
