"""Learning curves as increments: each report of a trial is a record of its new steps alone.

A node writes one increment per batch of reports under ``curve/EXP/TRIAL/ATTEMPT/SEQ`` (its own
origin), so what a report costs to store and to gossip is the size of its steps, whatever the
length of the curve. An increment names the claim it belongs to, and the view composes the
curve from the increments of the claims that won (see ``compose``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from typing import Any

from metaopt.records._format import FORMAT
from metaopt.records._format import check_format
from metaopt.records._trial import Curve
from metaopt.records._trial import Metrics
from metaopt.records._trial import Trial

Claim = tuple[int, int, str]  # (attempt, claim HLC, claimant), as Trial.claim


@dataclasses.dataclass(frozen=True, slots=True)
class CurveIncrement:
    experiment: str
    trial: str  # the trial id
    experiment_uid: str
    attempt: int
    claim_hlc: int
    node: str  # the claimant, who wrote it
    seq: int  # 0, 1, 2... within one claim
    steps: tuple[tuple[int, Metrics], ...]

    @property
    def claim(self) -> Claim:
        return (self.attempt, self.claim_hlc, self.node)

    @classmethod
    def of(cls, trial: Trial, seq: int, steps: Iterable[tuple[int, Metrics]]) -> CurveIncrement:
        """The next increment of ``trial``'s claim (this node's own copy)."""
        return cls(
            trial.experiment,
            trial.id,
            trial.experiment_uid,
            trial.attempt,
            trial.claim_hlc,
            trial.node,
            seq,
            tuple(steps),
        )

    def to_json(self) -> bytes:
        body: dict[str, Any] = {"v": FORMAT, **dataclasses.asdict(self)}
        body["steps"] = [list(step) for step in self.steps]
        return json.dumps(body, separators=(",", ":"), allow_nan=True).encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> CurveIncrement:
        body = check_format(json.loads(data), "curve increment")
        body["steps"] = tuple((int(step), dict(metrics)) for step, metrics in body["steps"])
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in body.items() if k in known})


def compose(winner: Trial, increments: Iterable[CurveIncrement]) -> Curve:
    """The curve of a trial whose merged copy is ``winner``.

    Attempts up to the winner's count, oldest first, a later attempt's value of a step replacing
    an earlier one (a thawed or requeued trial goes on from its checkpoint). Within an attempt
    only one claim counts: the winner's for its own attempt, else the earliest claim stamp, the
    same rule that picks between two copies; a lost claim's reports are left out. Within a claim,
    increments in ``seq`` order, a step reported twice keeping its last values.
    """
    by_attempt: dict[int, list[CurveIncrement]] = {}
    for inc in increments:
        if inc.attempt <= winner.attempt and inc.experiment_uid == winner.experiment_uid:
            by_attempt.setdefault(inc.attempt, []).append(inc)
    steps: dict[int, Metrics] = {}
    for attempt in sorted(by_attempt):
        incs = by_attempt[attempt]
        chosen = winner.claim if attempt == winner.attempt else min(i.claim for i in incs)
        for inc in sorted((i for i in incs if i.claim == chosen), key=lambda i: i.seq):
            for step, metrics in inc.steps:
                steps[step] = {**steps.get(step, {}), **metrics}
    return tuple(sorted(steps.items()))
