"""Regularized (aging) evolution, asynchronous: Real et al., "Regularized Evolution for Image
Classifier Architecture Search", AAAI 2019.

The population is the ``population`` most recently created completed trials: old members die
of age, however good, which keeps the search from settling on one lucky evaluation. A proposal
is a tournament (``tournament`` members drawn at random, the best one wins) and a mutation of the
winner. Nothing waits for a generation to finish: every node breeds from whatever completed
so far, which is what makes it asynchronous.

Mutation works in the unit cube of ``UnitEncoding``, one searched parameter at a time (each
with probability 1/k, at least one): a real or integer coordinate moves by a Gaussian step of
``sigma`` (reflected into the cube), a choice switches to another of its values. Log scales
and normal priors therefore mutate on their own scale.

Until the population is filled (completed plus pending trials), proposals are random draws.
"""

from __future__ import annotations

import random

from metaopt.algo._base import BaseAlgorithm
from metaopt.algo._base import Params
from metaopt.algo._base import SearchHistory
from metaopt.algo._encoding import UnitEncoding
from metaopt.algo._random import draw_unseen
from metaopt.space import params_key

_DEFAULTS: dict[str, float] = {
    "population": 20,  # completed trials alive at once, the most recent
    "tournament": 5,  # members drawn per tournament
    "sigma": 0.15,  # the Gaussian step of a mutation, in unit-cube coordinates
}
# Mutations tried per wanted point before falling back to a random draw (finite spaces).
_TRIES = 20


class EvolutionAlgorithm(BaseAlgorithm):
    name = "evolution"

    def configure(self) -> None:
        self.settings = self.numeric_options(_DEFAULTS)
        self.encoding = UnitEncoding(self.space)
        # What a mutation can change: a real axis, or a one-hot block of two values or more.
        blocks = [list(range(s, s + w)) for s, w in self.encoding.blocks() if w > 1]
        self._genes: list[int | list[int]] = [*self.encoding.real_axes(), *blocks]

    def suggest(self, history: SearchHistory, n: int = 1) -> list[Params]:
        rng = self.rng(history)
        seen = history.seen()
        population = max(1, int(self.settings["population"]))
        alive = [
            (params, value)
            for params, value in history.observations()[-population:]
            if self.space.contains(params) and value == value  # NaN never wins a tournament
        ]
        size = max(1, int(self.settings["tournament"]))
        filled = len(alive) + len(history.pending()) >= population
        if not self._genes or not alive or not filled:
            return draw_unseen(self.space, rng, seen, n, history.share)
        out: list[Params] = []
        for _ in range(n):
            child = self._child(rng, alive, size, seen)
            if child is None:
                break
            seen.add(params_key(child))
            out.append(child)
        return out + draw_unseen(self.space, rng, seen, n - len(out), history.share)

    def _child(
        self,
        rng: random.Random,
        alive: list[tuple[Params, float]],
        size: int,
        seen: set[str],
    ) -> Params | None:
        for _ in range(_TRIES):
            contenders = rng.sample(alive, min(size, len(alive)))
            parent = min(contenders, key=lambda pv: pv[1])[0]
            child = self.encoding.decode(self._mutate(rng, self.encoding.encode(parent)))
            if params_key(child) not in seen:
                return child
        return None

    def _mutate(self, rng: random.Random, row: list[float]) -> list[float]:
        row = list(row)
        genes = [g for g in self._genes if rng.random() < 1.0 / len(self._genes)]
        for gene in genes or [rng.choice(self._genes)]:
            if isinstance(gene, int):
                row[gene] = _reflect(row[gene] + rng.gauss(0.0, self.settings["sigma"]))
            else:
                current = max(gene, key=row.__getitem__)
                row[current] = 0.0
                row[rng.choice([axis for axis in gene if axis != current])] = 1.0
        return row


def _reflect(u: float) -> float:
    """Folds a coordinate back into [0, 1], so steps near a face are not piled on the face."""
    u = abs(u) % 2.0
    return 2.0 - u if u > 1.0 else u
