"""Grid search over finite priors: randint, choice, grid(step=), geometric(factor=), fidelity."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable

from metaopt.algo._base import BaseAlgorithm
from metaopt.algo._base import Params
from metaopt.algo._base import SearchHistory
from metaopt.errors import AlgorithmError
from metaopt.errors import SpaceError
from metaopt.space import params_key


class GridAlgorithm(BaseAlgorithm):
    """Every point of the grid once, in a fixed order (this node's share first), then exhausted."""

    name = "grid"

    def configure(self) -> None:
        try:
            next(iter(self.space.grid_points()), None)
        except SpaceError as exc:
            raise AlgorithmError(f"grid search needs a finite space: {exc}") from exc

    def suggest(self, history: SearchHistory, n: int = 1) -> list[Params]:
        return unseen_in_order(self.space.grid_points, history, n)


def unseen_in_order(
    points: Callable[[], Iterable[Params]], history: SearchHistory, n: int
) -> list[Params]:
    """The first ``n`` unseen of ``points()``, this node's share first (see SearchHistory)."""
    seen = history.seen()
    out: list[Params] = []
    for mine in (True, False):
        for index, params in enumerate(points()):
            if len(out) == n:
                return out
            if history.in_share(index) != mine:
                continue
            key = params_key(params)
            if key not in seen:
                seen.add(key)
                out.append(params)
    return out
