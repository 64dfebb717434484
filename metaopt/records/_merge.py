"""The one deterministic rule that turns every origin's copy of a record into one view.

Each node writes only under its own origin, so the same trial may exist in several copies, one
per node that claimed it. Every node applies this rule to the same set and gets the same answer:

1. a completed copy beats every copy that is not: a result is never lost to another view;
2. then the copy of the latest attempt: a rerun after an interruption, or an adoption of a dead
   node's trial, is a new attempt and supersedes the old one;
3. then the earliest claim stamp (claim HLC, then claimant id): of two nodes that claimed the
   same attempt of the same point, the first keeps it and the other has lost its claim.

The stamp is fixed when the attempt is claimed, so reports, status changes and an interrupted
loser's last words never move the winner. ``docs/records.md`` tables the cases.

Experiments are last-writer-wins on (HLC, origin): stop and resume are plain updates.
"""

from __future__ import annotations

from collections.abc import Iterable

from metaopt._core import Record
from metaopt.records._status import TrialStatus
from metaopt.records._trial import Trial


def merge_trial(copies: Iterable[Trial]) -> Trial:
    """Pick the winning copy of one trial; ``copies`` is never empty."""
    return min(
        copies, key=lambda t: (t.status != TrialStatus.COMPLETED, -t.attempt, t.claim_hlc, t.node)
    )


def latest(records: Iterable[Record]) -> Record:
    """Last writer wins: the record with the greatest (HLC, origin)."""
    return max(records, key=lambda r: (r.hlc, r.origin))
