"""Points of a Space as vectors in the unit cube, and back: what model-based algorithms fit.

Each searched prior gets one or more coordinates in [0, 1], chosen so that distances in the cube
mean what the prior means:

* ``uniform``: linear; ``loguniform``: linear in the log; ``normal(mu, sigma)``: through the
  Gaussian CDF, so the cube is uniform under the prior and no bound is invented.
* ``randint``: linear over [low - 0.5, high + 0.5], rounded back: neighbours stay neighbours.
* ``choice``, ``grid``, ``geometric``: one coordinate per value (one-hot), decoded by argmax; a
  list of values has no order the model should assume.
* ``fidelity`` and constants are not searched: they take their fixed value.

Stdlib only, so the space stays importable without numpy; callers wrap rows in arrays.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist
from typing import Any

from metaopt.space import Space
from metaopt.space._base import Prior
from metaopt.space._priors import ChoicePrior
from metaopt.space._priors import GeometricPrior
from metaopt.space._priors import GridPrior
from metaopt.space._priors import LogUniformPrior
from metaopt.space._priors import NormalPrior
from metaopt.space._priors import RandIntPrior
from metaopt.space._priors import UniformPrior

_UNIT = NormalDist()
_EDGE = 1e-9  # keeps the normal CDF's inverse finite at the cube's faces

Params = dict[str, Any]


class UnitEncoding:
    """Encodes the searched priors of ``space``; ``width`` coordinates per point."""

    def __init__(self, space: Space) -> None:
        self.space = space
        self.fixed: Params = {}
        self._slots: list[tuple[str, Prior, int, int]] = []  # name, prior, start, width
        width = 0
        for name, prior in space.items():
            size = _width(prior)
            if size == 0:  # fidelity and constants: a single value each
                (self.fixed[name],) = prior.values() or ()
                continue
            self._slots.append((name, prior, width, size))
            width += size
        self.width = width

    def encode(self, params: Params) -> list[float]:
        out = [0.0] * self.width
        for name, prior, start, _ in self._slots:
            value = params[name]
            values = _values_of(prior)
            if values is not None:
                out[start + _index_of(values, value)] = 1.0
            else:
                out[start] = _to_unit(prior, value)
        return out

    def decode(self, row: Sequence[float]) -> Params:
        params = dict(self.fixed)
        for name, prior, start, size in self._slots:
            values = _values_of(prior)
            if values is not None:
                block = [float(row[start + i]) for i in range(size)]
                params[name] = values[max(range(size), key=block.__getitem__)]
            else:
                params[name] = _from_unit(prior, float(row[start]))
        return {name: params[name] for name in self.space}

    def real_axes(self) -> list[int]:
        """Coordinates that are real axes (not one-hot), for local moves."""
        return [start for _, prior, start, _ in self._slots if _values_of(prior) is None]

    def blocks(self) -> list[tuple[int, int]]:
        """(start, width) of each one-hot block."""
        return [(s, w) for _, p, s, w in self._slots if _values_of(p) is not None]


def _values_of(prior: Prior) -> tuple[Any, ...] | None:
    if isinstance(prior, ChoicePrior | GridPrior | GeometricPrior):
        return tuple(prior.values())
    return None


def _width(prior: Prior) -> int:
    values = _values_of(prior)
    if values is not None:
        return len(values)
    if isinstance(prior, UniformPrior | LogUniformPrior | NormalPrior | RandIntPrior):
        return 1
    return 0  # fidelity, constant: fixed


def _index_of(values: tuple[Any, ...], value: Any) -> int:
    for i, candidate in enumerate(values):
        if type(candidate) is type(value) and candidate == value:
            return i
    for i, candidate in enumerate(values):  # 3 for 3.0 and the like, from hand-written history
        if candidate == value:
            return i
    raise ValueError(f"{value!r} is not one of {values!r}")


def _clip(u: float) -> float:
    return min(1.0, max(0.0, u))


def _to_unit(prior: Prior, value: Any) -> float:
    x = float(value)
    if isinstance(prior, UniformPrior):
        return _clip((x - prior.low) / (prior.high - prior.low))
    if isinstance(prior, LogUniformPrior):
        low, high = math.log(prior.low), math.log(prior.high)
        return _clip((math.log(x) - low) / (high - low))
    if isinstance(prior, NormalPrior):
        return _clip(_UNIT.cdf((x - prior.mu) / prior.sigma))
    if isinstance(prior, RandIntPrior):
        return _clip((x - prior.low + 0.5) / (prior.high - prior.low + 1))
    raise TypeError(f"no unit encoding for {prior.text()}")


def _from_unit(prior: Prior, u: float) -> Any:
    u = _clip(u)
    if isinstance(prior, UniformPrior):
        return min(prior.high, max(prior.low, prior.low + u * (prior.high - prior.low)))
    if isinstance(prior, LogUniformPrior):
        low, high = math.log(prior.low), math.log(prior.high)
        return min(prior.high, max(prior.low, math.exp(low + u * (high - low))))
    if isinstance(prior, NormalPrior):
        return prior.mu + prior.sigma * _UNIT.inv_cdf(min(1 - _EDGE, max(_EDGE, u)))
    if isinstance(prior, RandIntPrior):
        span = prior.high - prior.low + 1
        return min(prior.high, prior.low + int(u * span))
    raise TypeError(f"no unit encoding for {prior.text()}")
