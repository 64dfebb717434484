"""Which experiment gets each free slot: a pure decision, carried out by the daemon.

Fair share: each free slot goes to the experiment with the fewest trials running on this node,
counting the slots handed out in this same round; ties go to the older experiment.
"""

from __future__ import annotations

import dataclasses

from metaoptd.slots import Slot


@dataclasses.dataclass(frozen=True, slots=True)
class Demand:
    experiment: str
    running: int  # trials of this experiment holding a slot on this node
    capacity: int  # trials it may start now (requeued ones plus new proposals allowed)
    created: float


@dataclasses.dataclass(frozen=True, slots=True)
class Start:
    slot: Slot
    experiment: str


def decide(free: list[Slot], demands: list[Demand]) -> list[Start]:
    running = {d.experiment: d.running for d in demands}
    left = {d.experiment: d.capacity for d in demands}
    order = {d.experiment: (d.created, d.experiment) for d in demands}
    starts = []
    for slot in free:
        wanting = [name for name, n in left.items() if n > 0]
        if not wanting:
            break
        name = min(wanting, key=lambda e: (running[e], order[e]))
        starts.append(Start(slot, name))
        running[name] += 1
        left[name] -= 1
    return starts
