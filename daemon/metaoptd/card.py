"""What each node tells the others about itself: its slots, how many are free, what it runs,
and the digest of the history it shows. It travels as the member metadata of the gossip core
(at most 512 bytes, announced with each change), so it costs no record and is never stored.

Unknown fields are ignored and a card that cannot be read is no card: nodes of other versions
still show as members.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from typing import Any

from metaopt import __version__
from metaoptd.slots import Slot

MAX_BYTES = 512  # the core's bound on member metadata


@dataclasses.dataclass(frozen=True)
class Card:
    slots: int
    free: int
    running: int
    gpus: tuple[tuple[str, int], ...] = ()  # (model, GPUs of that model)
    digest: str = ""
    version: str = __version__

    @classmethod
    def of(cls, slots: list[Slot], free: int, running: int, digest: str) -> Card:
        per_gpu: dict[str, str] = {s.gpu: s.model for s in slots if s.gpu is not None}
        models = Counter(per_gpu.values())
        return cls(len(slots), free, running, tuple(sorted(models.items())), digest)

    def encode(self) -> bytes:
        fields: dict[str, Any] = {
            "v": 1,
            "slots": self.slots,
            "free": self.free,
            "run": self.running,
            "gpus": [list(g) for g in self.gpus],
            "digest": self.digest,
            "ver": self.version,
        }
        data = json.dumps(fields, separators=(",", ":")).encode()
        while len(data) > MAX_BYTES and fields["gpus"]:  # many GPU models: keep what fits
            fields["gpus"] = [[name[:24], n] for name, n in fields["gpus"][:-1]]
            data = json.dumps(fields, separators=(",", ":")).encode()
        return data

    @classmethod
    def decode(cls, data: bytes) -> Card | None:
        try:
            fields = json.loads(data)
            return cls(
                slots=int(fields["slots"]),
                free=int(fields["free"]),
                running=int(fields["run"]),
                gpus=tuple((str(name), int(n)) for name, n in fields.get("gpus", ())),
                digest=str(fields.get("digest", "")),
                version=str(fields.get("ver", "")),
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            return None
