"""Grid search over finite priors: randint, choice, grid(step=), geometric(factor=), fidelity."""

from __future__ import annotations

from metaopt.algo._base import BaseAlgorithm
from metaopt.algo._base import Params
from metaopt.algo._base import SearchHistory
from metaopt.errors import AlgorithmError
from metaopt.errors import SpaceError
from metaopt.space import params_key


class GridAlgorithm(BaseAlgorithm):
    """Every point of the grid once, in a fixed order, then exhausted."""

    name = "grid"

    def configure(self) -> None:
        try:
            next(iter(self.space.grid_points()), None)
        except SpaceError as exc:
            raise AlgorithmError(f"grid search needs a finite space: {exc}") from exc

    def suggest(self, history: SearchHistory, n: int = 1) -> list[Params]:
        seen = history.seen()
        out: list[Params] = []
        for params in self.space.grid_points():
            if len(out) == n:
                break
            if params_key(params) not in seen:
                out.append(params)
        return out
