"""What each node tells the others about itself: its slots, how many are free, what it runs,
the digest of the history it shows, and the port it serves checkpoints on. It travels as the
member metadata of the gossip core (at most 512 bytes, announced with each change), so it costs
no record and is never stored.

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
    transfer_port: int = 0  # TCP port of its checkpoint transfers; 0: none

    @classmethod
    def of(
        cls, slots: list[Slot], free: int, running: int, digest: str, transfer_port: int = 0
    ) -> Card:
        per_gpu: dict[str, str] = {s.gpu: s.model for s in slots if s.gpu is not None}
        models = Counter(per_gpu.values())
        gpus = tuple(sorted(models.items()))
        return cls(len(slots), free, running, gpus, digest, transfer_port=transfer_port)

    def encode(self) -> bytes:
        fields: dict[str, Any] = {
            "v": 1,
            "slots": self.slots,
            "free": self.free,
            "run": self.running,
            "gpus": [list(g) for g in self.gpus],
            "digest": self.digest,
            "ver": self.version,
            "xfer": self.transfer_port,
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
                transfer_port=int(fields.get("xfer", 0)),
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            return None
