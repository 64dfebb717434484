"""Which experiment gets each free slot: fair share, a pure function.

Each free slot goes to the experiment with the fewest trials running on this node, counting the
slots handed out in this same round; ties go to the older experiment.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, slots=True)
class Demand:
    experiment: str
    running: int  # trials of this experiment holding a slot on this node
    capacity: int  # trials it may start now (requeued ones plus new proposals allowed)
    created: float


def fair_share(free: int, demands: list[Demand]) -> list[str]:
    """The experiment each of ``free`` slots goes to, in slot order (fewer when none wants it)."""
    running = {d.experiment: d.running for d in demands}
    left = {d.experiment: d.capacity for d in demands}
    order = {d.experiment: (d.created, d.experiment) for d in demands}
    given = []
    for _ in range(free):
        wanting = [name for name, n in left.items() if n > 0]
        if not wanting:
            break
        name = min(wanting, key=lambda e: (running[e], order[e]))
        given.append(name)
        running[name] += 1
        left[name] -= 1
    return given
