"""Trial: one point of the search space, its process, its learning curve and its outcome.

A node writes its own copy of a trial (``to_record``): who runs it and how it went, never the
learning curve, which travels as increments (``CurveIncrement``) so that a report costs bytes in
proportion to its new steps, not to the curve so far. The merged view puts the two together;
``to_json`` and ``from_json`` carry that whole trial, curve included, to the CLI.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

from metaopt.records._format import FORMAT
from metaopt.records._format import Unreadable
from metaopt.records._format import check_format
from metaopt.records._status import TrialStatus

Metrics = dict[str, float]
Curve = tuple[tuple[int, Metrics], ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Trial:
    id: str
    experiment: str
    params: dict[str, Any]
    status: TrialStatus = TrialStatus.NEW
    node: str = ""  # the claimant: the node that runs (or last ran) this attempt
    attempt: int = 0  # bumped by each claim: a rerun after an interruption, an adoption
    claim_hlc: int = 0  # when ``node`` claimed this attempt; with ``node``, the claim stamp
    created: float = 0.0
    started: float | None = None
    ended: float | None = None
    slot: str | None = None
    gpu: str | None = None  # CUDA_VISIBLE_DEVICES the trial saw
    pid: int | None = None  # the trial's supervisor process on ``node``
    curve: Curve = ()  # (step, metrics), sorted by step; assembled by the view
    exit_code: int | None = None
    signal: int | None = None
    stderr_tail: str = ""
    experiment_uid: str = ""  # the Experiment.uid this trial belongs to
    budget: int | None = None  # the steps this attempt may train to (its fidelity); None: all
    checkpoint_bytes: int = 0  # the checkpoint this attempt left on ``node``; 0: none
    checkpoint_step: int = 0  # the steps reported when that checkpoint was left
    copy_node: str = ""  # a peer holding a copy of this attempt's checkpoint; "": none
    copy_step: int = 0  # the steps reported when that copy was taken
    copy_bytes: int = 0

    @property
    def claim(self) -> tuple[int, int, str]:
        """(attempt, claim HLC, claimant): fixed when the attempt is claimed, never rewritten."""
        return (self.attempt, self.claim_hlc, self.node)

    def objective(self, name: str | None) -> float | None:
        """The last reported value of metric ``name`` (the first metric reported when None)."""
        metric = name or self.first_metric()
        if metric is None:
            return None
        for _, metrics in reversed(self.curve):
            if metric in metrics:
                value = metrics[metric]
                return None if math.isnan(value) else value
        return None

    def first_metric(self) -> str | None:
        for _, metrics in self.curve:
            for name in metrics:
                return name
        return None

    def to_record(self) -> bytes:
        """This node's copy for the store and the wire: everything but the curve."""
        return _dumps(self, curve=False)

    @classmethod
    def from_record(cls, data: bytes | str) -> Trial:
        """A copy as stored; a copy from before the format had versions keeps its curve."""
        return _loads(data)

    def to_json(self) -> bytes:
        """The whole trial, curve included, as the control protocol carries it."""
        return _dumps(self, curve=True)

    @classmethod
    def from_json(cls, data: bytes | str) -> Trial:
        return _loads(data)


def _dumps(trial: Trial, curve: bool) -> bytes:
    body: dict[str, Any] = {"v": FORMAT}
    body.update((name, getattr(trial, name)) for name in _NAMES if curve or name != "curve")
    body["status"] = int(trial.status)
    return json.dumps(body, separators=(",", ":"), allow_nan=True).encode()


def _loads(data: bytes | str) -> Trial:
    body = check_format(json.loads(data), "trial")
    try:
        body["status"] = TrialStatus(body["status"])
    except ValueError:
        raise Unreadable(f"trial status {body['status']!r}, newer than this node knows") from None
    body["curve"] = tuple((step, metrics) for step, metrics in body.get("curve", ()))
    return Trial(**{k: v for k, v in body.items() if k in _NAMES})


_NAMES = tuple(f.name for f in dataclasses.fields(Trial))
