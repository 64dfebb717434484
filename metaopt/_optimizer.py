"""Optimizer: the search algorithms in-process, ask and tell, with no daemon and no store.

For notebooks and for tools that run their own evaluations::

    opt = metaopt.Optimizer({"lr": "loguniform(1e-5, 1e-1)", "layers": "randint(1, 6)"})
    for _ in range(50):
        params = opt.ask()
        opt.tell(params, train(**params))
    opt.best

Points asked and not told yet are pending: the next ``ask`` knows them and looks elsewhere,
so several workers can evaluate at once.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any
from typing import overload

from metaopt.algo import Params
from metaopt.algo import SearchHistory
from metaopt.algo import make_algorithm
from metaopt.errors import MetaoptError
from metaopt.errors import SpaceExhausted
from metaopt.records import Trial
from metaopt.records import TrialStatus
from metaopt.space import Space
from metaopt.space import params_key
from metaopt.space import trial_id

_METRIC = "objective"


class Optimizer:
    """Ask for points, tell their objective; ``algo`` is any name ``metaopt --algo`` accepts.

    Args:
        space: ``{name: prior text}`` such as ``{"lr": "loguniform(1e-5, 1e-1)"}``, or a Space.
        algo: ``bayes``, ``evolution``, ``random``, ``grid``...
        seed: the same seed and the same tells give the same asks.
        maximize: the objective is a score to maximize rather than a loss.
        options: the algorithm's options, as ``--algo-option`` takes them.
    """

    def __init__(
        self,
        space: Mapping[str, str] | Space,
        algo: str = "bayes",
        *,
        seed: int = 0,
        maximize: bool = False,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.space = space if isinstance(space, Space) else Space.from_dict(space)
        self.maximize = maximize
        self.algorithm = make_algorithm(algo, self.space, seed=seed, options=options)
        self._trials: dict[str, Trial] = {}  # by params key, in the order they were asked

    @overload
    def ask(self) -> Params: ...

    @overload
    def ask(self, n: int) -> list[Params]: ...

    def ask(self, n: int | None = None) -> Params | list[Params]:
        """One new point, or a list of ``n`` that spread out (fewer when the space runs out).

        Raises:
            SpaceExhausted: ``ask()`` on a finite space whose every point was asked already.
        """
        points = self.algorithm.suggest(self._history(), 1 if n is None else n)
        for params in points:
            self._add(params, TrialStatus.RESERVED, None)
        if n is not None:
            return points
        if not points:
            raise SpaceExhausted(f"all {len(self._trials)} points of the space were asked already")
        return points[0]

    def tell(self, params: Params, value: float | None) -> None:
        """The objective of ``params``: a number, or None or NaN for an evaluation that failed.

        ``params`` need not come from ``ask``: known results can be told first to warm-start.

        Raises:
            MetaoptError: ``params`` is outside the space, or its value was told already.
        """
        if value is not None and not isinstance(value, int | float):
            try:
                value = float(value)  # numpy scalars, 0-d arrays, tensors with __float__
            except (TypeError, ValueError):
                message = f"tell: the value must be a number or None, got {value!r}"
                raise MetaoptError(message) from None
        self.space.validate(params)
        key = params_key(params)
        known = self._trials.get(key)
        if known is not None and known.status.is_finished():
            raise MetaoptError(f"the value of {params} was told already")
        failed = value is None or math.isnan(value)
        status = TrialStatus.FAILED if failed else TrialStatus.COMPLETED
        if known is None:
            self._add(params, status, value)
        else:
            curve = () if value is None or failed else ((0, {_METRIC: float(value)}),)
            self._trials[key] = dataclasses.replace(known, status=status, curve=curve)

    @property
    def trials(self) -> list[Trial]:
        """Every point asked or told, oldest first, with its status and value."""
        return list(self._trials.values())

    @property
    def pending(self) -> list[Params]:
        """Points asked and not told yet."""
        return [t.params for t in self._trials.values() if not t.status.is_finished()]

    @property
    def best(self) -> tuple[Params, float] | None:
        """The best point told so far and its value; None before the first good value."""
        done = [(t.params, t.objective(_METRIC)) for t in self._trials.values()]
        scored = [(p, v) for p, v in done if v is not None and math.isfinite(v)]
        if not scored:
            return None
        sign = -1.0 if self.maximize else 1.0
        return min(scored, key=lambda pv: sign * pv[1])

    def _history(self) -> SearchHistory:
        return SearchHistory(list(self._trials.values()), _METRIC, self.maximize)

    def _add(self, params: Params, status: TrialStatus, value: float | None) -> None:
        curve = () if value is None or math.isnan(value) else ((0, {_METRIC: float(value)}),)
        trial = Trial(
            trial_id("", params),
            "",
            dict(params),
            status=status,
            created=float(len(self._trials)),  # the order of asks: what ageing and refits follow
            curve=curve,
        )
        self._trials[params_key(params)] = trial
