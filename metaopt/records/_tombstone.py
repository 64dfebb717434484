"""Tombstone: the record that an experiment (one incarnation of its name) was deleted.

A deletion is a record like any other, so it replicates, survives restarts, and outlives every
copy of the deleted incarnation: whatever a peer still holds of it, with whatever clock, stays
hidden. A new experiment of the same name has a new uid and is not touched by the tombstone.
"""

from __future__ import annotations

import dataclasses
import json

from metaopt.records._format import FORMAT
from metaopt.records._format import check_format


@dataclasses.dataclass(frozen=True, slots=True)
class Tombstone:
    experiment: str
    uid: str  # the deleted incarnation's Experiment.uid
    deleted: float = 0.0  # wall time of the deletion
    node: str = ""  # the node that deleted it

    def to_json(self) -> bytes:
        body = {"v": FORMAT, **dataclasses.asdict(self)}
        return json.dumps(body, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> Tombstone:
        body = check_format(json.loads(data), "tombstone")
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in body.items() if k in known})
