"""Experiment: what to run, over which space, how to search, and its lifecycle status."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from metaopt.records._format import FORMAT
from metaopt.records._format import Unreadable
from metaopt.records._format import check_format
from metaopt.records._status import ExperimentStatus

_PRIOR_ARG = re.compile(r"^--?[A-Za-z_][\w.-]*~")


@dataclasses.dataclass(frozen=True, slots=True)
class Experiment:
    name: str
    command: tuple[str, ...]  # template arguments, priors included, absolute script path
    cwd: str
    space: dict[str, str]  # parameter name -> canonical prior text
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    algo: str = "bayes"
    algo_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    max_trials: int = 20
    objective: str | None = None  # None: the first metric a trial reports
    maximize: bool = False
    seed: int = 0
    max_broken: int = 3
    status: ExperimentStatus = ExperimentStatus.RUNNING
    message: str = ""
    created: float = 0.0
    resumed: float = 0.0  # failures that ended before this time no longer count as a streak
    # Tells this experiment from an earlier, deleted one of the same name: its trials carry it.
    # Empty for experiments stored before uids existed.
    uid: str = ""

    def differences(self, other: Experiment) -> list[str]:
        """What makes ``other`` a different experiment under the same name (empty: same)."""
        diffs = []
        if _fixed_args(self.command) != _fixed_args(other.command):
            diffs.append(
                f"command: stored {' '.join(self.command)!r}, given {' '.join(other.command)!r}"
            )
        if self.cwd != other.cwd:
            diffs.append(f"working directory: stored {self.cwd!r}, given {other.cwd!r}")
        for name in sorted(set(self.space) | set(other.space)):
            mine, theirs = self.space.get(name), other.space.get(name)
            if mine != theirs:
                diffs.append(
                    f"parameter {name}: stored {mine or 'absent'}, given {theirs or 'absent'}"
                )
        if self.algo != other.algo or self.algo_options != other.algo_options:
            diffs.append(f"algorithm: stored {self.algo!r}, given {other.algo!r}")
        if (self.objective, self.maximize) != (other.objective, other.maximize):
            diffs.append(f"objective: stored {_goal(self)}, given {_goal(other)}")
        return diffs

    def to_json(self) -> bytes:
        body = {"v": FORMAT, **dataclasses.asdict(self)}
        body["status"] = int(self.status)
        return json.dumps(body, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> Experiment:
        body = check_format(json.loads(data), "experiment")
        body["command"] = tuple(body["command"])
        try:
            body["status"] = ExperimentStatus(body["status"])
        except ValueError:
            raise Unreadable(
                f"experiment status {body['status']!r}, newer than this node knows"
            ) from None
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in body.items() if k in known})


def _fixed_args(command: tuple[str, ...]) -> list[str]:
    """The arguments that are not priors: priors are compared through the canonical space."""
    return [arg for arg in command if not _PRIOR_ARG.match(arg)]


def _goal(exp: Experiment) -> str:
    return f"{'maximize' if exp.maximize else 'minimize'} {exp.objective or '(first metric)'}"
