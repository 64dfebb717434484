"""Trial: one point of the search space, its process, its learning curve and its outcome."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

from metaopt.records._status import TrialStatus

Metrics = dict[str, float]


@dataclasses.dataclass(frozen=True, slots=True)
class Trial:
    id: str
    experiment: str
    params: dict[str, Any]
    status: TrialStatus = TrialStatus.NEW
    node: str = ""  # the node that runs (or last ran) it
    attempt: int = 0  # bumped each time an interrupted trial is started again
    created: float = 0.0
    started: float | None = None
    ended: float | None = None
    slot: str | None = None
    gpu: str | None = None  # CUDA_VISIBLE_DEVICES the trial saw
    pid: int | None = None  # the trial's supervisor process on ``node``
    curve: tuple[tuple[int, Metrics], ...] = ()  # (step, metrics), sorted by step
    exit_code: int | None = None
    signal: int | None = None
    stderr_tail: str = ""
    experiment_uid: str = ""  # the Experiment.uid this trial belongs to

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

    def with_reports(self, reports: list[tuple[int, Metrics]]) -> Trial:
        """Merge reported steps into the curve; a step reported twice keeps its last values."""
        by_step = dict(self.curve)
        for step, metrics in reports:
            by_step[step] = {**by_step.get(step, {}), **metrics}
        return dataclasses.replace(self, curve=tuple(sorted(by_step.items())))

    def to_json(self) -> bytes:
        body = {name: getattr(self, name) for name in _NAMES}
        body["status"] = int(self.status)
        return json.dumps(body, separators=(",", ":"), allow_nan=True).encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> Trial:
        body = json.loads(data)
        body["status"] = TrialStatus(body["status"])
        body["curve"] = tuple((step, metrics) for step, metrics in body.get("curve", ()))
        return cls(**{k: v for k, v in body.items() if k in _NAMES})


_NAMES = frozenset(f.name for f in dataclasses.fields(Trial))
