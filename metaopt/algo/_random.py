"""Random search: independent draws from the priors."""

from __future__ import annotations

import random

from metaopt.algo._base import BaseAlgorithm
from metaopt.algo._base import Params
from metaopt.algo._base import SearchHistory
from metaopt.space import Space
from metaopt.space import params_key

# Draws tried per wanted point before a finite space is judged used up.
_TRIES_PER_POINT = 50


class RandomAlgorithm(BaseAlgorithm):
    name = "random"

    def suggest(self, history: SearchHistory, n: int = 1) -> list[Params]:
        rng = self.rng(history)
        if not self.space.is_finite:
            return [self.space.sample(rng) for _ in range(n)]
        return draw_unseen(self.space, rng, history.seen(), n, history.share)


def draw_unseen(
    space: Space, rng: random.Random, seen: set[str], n: int, share: tuple[int, int] = (0, 1)
) -> list[Params]:
    """Up to ``n`` random points whose keys are not in ``seen`` (which grows with them).

    Draws in this node's ``share`` of a finite space come first (see SearchHistory), so that
    nodes drawing at once rarely draw alike; where draws keep colliding, the points nobody took
    yet finish the batch.
    """
    out: list[Params] = []
    for attempt in range(n * _TRIES_PER_POINT):
        if len(out) == n:
            return out
        params = space.sample(rng)
        key = params_key(params)
        mine = in_share(space, params, share)
        if key not in seen and (mine or attempt >= n * _TRIES_PER_POINT // 2):
            seen.add(key)
            out.append(params)
    if space.is_finite:
        for params in space.grid_points():
            if len(out) == n:
                break
            key = params_key(params)
            if key not in seen:
                seen.add(key)
                out.append(params)
    return out


def in_share(space: Space, params: Params, share: tuple[int, int]) -> bool:
    """Whether a point is in this node's share (see SearchHistory): by its grid position, so
    that the shares of a finite space are even; every point of a continuous one is."""
    k, m = share
    index = space.grid_index(params) if m > 1 else None
    return index is None or index % m == k
