"""ASHA and asynchronous Hyperband (Li et al., 2020): successive halving without barriers.

Trials are compared at rungs of the budget (``fidelity(low, high, base)``: low, low*base, ...,
high). A trial runs to its next rung and is frozen there; an idle slot thaws the best frozen
trial that lies in the top 1/base of everything that reached its rung (highest rung first), and
otherwise starts a new point at the lowest rung. No slot ever waits for a rung to fill.

Hyperband runs several such ladders (brackets) side by side, each starting its new points at a
higher rung, so that a budget where early values mislead still gets full runs. A point's bracket
follows from its parameters alone: every node files it in the same one.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

from metaopt.algo._base import SearchHistory
from metaopt.algo._fidelity import Lease
from metaopt.algo._fidelity import MultiFidelityAlgorithm
from metaopt.algo._fidelity import is_frozen
from metaopt.algo._fidelity import running_best
from metaopt.algo._fidelity import steps_done
from metaopt.records import Trial
from metaopt.space import params_key


def promotion(
    trials: Sequence[Trial], ladder: Sequence[int], eta: float, history: SearchHistory
) -> Lease | None:
    """The thaw ASHA makes now among ``trials`` on rungs ``ladder``, or None."""
    curves = {t.id: running_best(t, history) for t in trials}
    for k in reversed(range(len(ladder) - 1)):
        rung, upper = ladder[k], ladder[k + 1]
        reached = [t for t in trials if len(curves[t.id]) >= rung]
        top = sorted(reached, key=lambda t: (curves[t.id][rung - 1], t.id))
        for trial in top[: math.floor(len(reached) / eta)]:
            if is_frozen(trial) and rung <= steps_done(trial) < upper:
                return Lease(trial.params, steps_done(trial), upper, trial.id)
    return None


class AshaAlgorithm(MultiFidelityAlgorithm):
    name = "asha"

    def lease(self, history: SearchHistory) -> Lease | None:
        thaw = promotion(history.trials, self.rungs, self.fidelity.base, history)
        if thaw is not None:
            return thaw
        points = self.new_points(history, 1)
        return Lease(points[0], 0, self.rungs[0]) if points else None


class HyperbandAlgorithm(MultiFidelityAlgorithm):
    name = "hyperband"

    def configure_search(self) -> None:
        # Bracket s starts its points at rung s; it gets new points in Hyperband's proportion.
        top = len(self.rungs) - 1
        eta = self.fidelity.base
        self.weights = [
            math.ceil((top + 1) / (top - s + 1) * eta ** (top - s)) for s in range(top + 1)
        ]

    def bracket(self, params: dict[str, object]) -> int:
        digest = hashlib.sha256(params_key(params).encode()).digest()
        draw = int.from_bytes(digest[:8], "big") / 2**64 * sum(self.weights)
        for s, weight in enumerate(self.weights):
            draw -= weight
            if draw < 0:
                return s
        return len(self.weights) - 1

    def lease(self, history: SearchHistory) -> Lease | None:
        by_bracket: dict[int, list[Trial]] = {}
        for trial in history.trials:
            by_bracket.setdefault(self.bracket(trial.params), []).append(trial)
        for s, trials in sorted(by_bracket.items()):
            thaw = promotion(trials, self.rungs[s:], self.fidelity.base, history)
            if thaw is not None:
                return thaw
        points = self.new_points(history, 1)
        if not points:
            return None
        return Lease(points[0], 0, self.rungs[self.bracket(points[0])])
