"""Random search: independent draws from the priors."""

from __future__ import annotations

from metaopt.algo._base import BaseAlgorithm
from metaopt.algo._base import Params
from metaopt.algo._base import SearchHistory
from metaopt.space import params_key

# Draws tried per wanted point before a finite space is judged used up.
_TRIES_PER_POINT = 50


class RandomAlgorithm(BaseAlgorithm):
    name = "random"

    def suggest(self, history: SearchHistory, n: int = 1) -> list[Params]:
        rng = self.rng(history)
        if not self.space.is_finite:
            return [self.space.sample(rng) for _ in range(n)]
        seen = history.seen()
        out: list[Params] = []
        for _ in range(n * _TRIES_PER_POINT):
            if len(out) == n:
                break
            params = self.space.sample(rng)
            key = params_key(params)
            if key not in seen:
                seen.add(key)
                out.append(params)
        if len(out) < n:  # draws keep colliding: finish with the points nobody took yet
            out.extend(_untaken(self, seen, n - len(out)))
        return out

    def is_exhausted(self, history: SearchHistory) -> bool:
        size = self.space.cardinality()
        return size is not None and len(history.seen()) >= size


def _untaken(algo: BaseAlgorithm, seen: set[str], n: int) -> list[Params]:
    out: list[Params] = []
    for params in algo.space.grid_points():
        if len(out) == n:
            break
        if params_key(params) not in seen:
            out.append(params)
    return out
