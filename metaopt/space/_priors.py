"""The priors of the search-space language, one frozen dataclass each, and ``PRIORS`` by name.

Each class validates its arguments when built, so a prior that exists is a valid one whether it
came from the parser or from Python.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Callable
from typing import ClassVar
from typing import TypeGuard

from metaopt.space._base import ArgumentError
from metaopt.space._base import Prior
from metaopt.space._literals import Value
from metaopt.space._literals import format_literal
from metaopt.space._literals import format_real
from metaopt.space._literals import is_literal
from metaopt.space._literals import is_real
from metaopt.space._literals import same_value
from metaopt.space._sequences import geometric_values
from metaopt.space._sequences import grid_values


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class UniformPrior(Prior):
    """``uniform(low, high)``: a real number drawn uniformly from [low, high]."""

    low: float
    high: float
    NAME: ClassVar[str] = "uniform"
    KIND: ClassVar[str] = "real"

    def __post_init__(self) -> None:
        _set(self, low=_real(self.low, "low", 0), high=_real(self.high, "high", 1))
        _check_order(self.low, self.high)

    def sample(self, rng: random.Random) -> float:
        return rng.uniform(self.low, self.high)

    def contains(self, value: object) -> bool:
        return is_real(value) and self.low <= value <= self.high

    def text(self) -> str:
        return f"{self.NAME}({format_real(self.low)}, {format_real(self.high)})"


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class LogUniformPrior(Prior):
    """``loguniform(low, high)``: a real number whose log is uniform; needs 0 < low < high."""

    low: float
    high: float
    NAME: ClassVar[str] = "loguniform"
    KIND: ClassVar[str] = "real"
    log: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _set(self, low=_real(self.low, "low", 0), high=_real(self.high, "high", 1))
        if self.low <= 0:
            raise ArgumentError("low must be > 0", 0)
        _check_order(self.low, self.high)

    def sample(self, rng: random.Random) -> float:
        value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        return min(max(value, self.low), self.high)  # exp(log(x)) may land just outside

    def contains(self, value: object) -> bool:
        return is_real(value) and self.low <= value <= self.high

    def text(self) -> str:
        return f"{self.NAME}({format_real(self.low)}, {format_real(self.high)})"


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class NormalPrior(Prior):
    """``normal(mu, sigma)``: an unbounded real number from a Gaussian; needs sigma > 0."""

    mu: float
    sigma: float
    NAME: ClassVar[str] = "normal"
    KIND: ClassVar[str] = "real"

    def __post_init__(self) -> None:
        _set(self, mu=_real(self.mu, "mu", 0), sigma=_real(self.sigma, "sigma", 1))
        if self.sigma <= 0:
            raise ArgumentError("sigma must be > 0", 1)

    def sample(self, rng: random.Random) -> float:
        return rng.gauss(self.mu, self.sigma)

    def contains(self, value: object) -> bool:
        return is_real(value)

    def text(self) -> str:
        return f"{self.NAME}({format_real(self.mu)}, {format_real(self.sigma)})"


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class RandIntPrior(Prior):
    """``randint(low, high)``: an integer from low to high, both INCLUDED.

    ``randint(1, 6)`` is a die: unlike numpy's ``randint``, the high end can be drawn.
    """

    low: int
    high: int
    NAME: ClassVar[str] = "randint"
    KIND: ClassVar[str] = "integer"

    def __post_init__(self) -> None:
        _integer(self.low, "low", 0, self.NAME)
        _integer(self.high, "high", 1, self.NAME)
        _check_order(self.low, self.high)

    def sample(self, rng: random.Random) -> int:
        return rng.randint(self.low, self.high)

    def contains(self, value: object) -> bool:
        return _is_int(value) and self.low <= value <= self.high

    def values(self) -> range:
        return range(self.low, self.high + 1)

    def text(self) -> str:
        return f"{self.NAME}({self.low}, {self.high})"


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class ChoicePrior(Prior):
    """``choice(v1, v2, ...)``: one of the listed values, all equally likely.

    Values are numbers, quoted strings, True, False, None, or bare words read as strings
    (``choice(adam, sgd)``); at least one, no duplicates. Also serves as a fixed list.
    """

    choices: tuple[Value, ...]
    NAME: ClassVar[str] = "choice"
    KIND: ClassVar[str] = "categorical"
    VARIADIC: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _set(self, choices=tuple(self.choices))
        if not self.choices:
            raise ArgumentError("choice needs at least one value", 0)
        for index, value in enumerate(self.choices):
            if not is_literal(value):
                raise ArgumentError(
                    f"{value!r} is not a number, string, True, False or None", index
                )
            if any(same_value(value, earlier) for earlier in self.choices[:index]):
                raise ArgumentError(f"duplicate value {format_literal(value)}", index)

    def sample(self, rng: random.Random) -> Value:
        return rng.choice(self.choices)

    def contains(self, value: object) -> bool:
        return any(same_value(value, choice) for choice in self.choices)

    def values(self) -> tuple[Value, ...]:
        return self.choices

    def text(self) -> str:
        return f"{self.NAME}({', '.join(format_literal(value) for value in self.choices)})"


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class GridPrior(Prior):
    """``grid(low, high, step=s)``: low, low + s, ... up to high; ints when all three are ints."""

    low: int | float
    high: int | float
    step: int | float
    _values: tuple[int | float, ...] = dataclasses.field(init=False, repr=False)
    NAME: ClassVar[str] = "grid"

    def __post_init__(self) -> None:
        _number(self.low, "low", 0)
        _number(self.high, "high", 1)
        _number(self.step, "step", 2)
        if self.step <= 0:
            raise ArgumentError("step must be > 0", 2)
        if self.high < self.low:
            raise ArgumentError("high must be >= low", 1)
        _set(self, _values=_finite(grid_values, self.low, self.high, self.step, "step"))

    @property
    def kind(self) -> str:
        return "integer" if isinstance(self._values[0], int) else "real"

    def sample(self, rng: random.Random) -> int | float:
        return rng.choice(self._values)

    def contains(self, value: object) -> bool:
        return is_real(value) and any(same_value(value, v) for v in self._values)

    def values(self) -> tuple[int | float, ...]:
        return self._values

    def text(self) -> str:
        bounds = f"{format_literal(self.low)}, {format_literal(self.high)}"
        return f"{self.NAME}({bounds}, step={format_literal(self.step)})"


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class GeometricPrior(Prior):
    """``geometric(low, high, factor=f)``: low, low*f, low*f**2, ... up to high.

    Needs low > 0 and f > 1; the values are ints when low and f are ints.
    """

    low: int | float
    high: int | float
    factor: int | float
    _values: tuple[int | float, ...] = dataclasses.field(init=False, repr=False)
    NAME: ClassVar[str] = "geometric"
    log: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _number(self.low, "low", 0)
        _number(self.high, "high", 1)
        _number(self.factor, "factor", 2)
        if self.low <= 0:
            raise ArgumentError("low must be > 0", 0)
        if self.factor <= 1:
            raise ArgumentError("factor must be > 1", 2)
        if self.high < self.low:
            raise ArgumentError("high must be >= low", 1)
        _set(self, _values=_finite(geometric_values, self.low, self.high, self.factor, "factor"))

    @property
    def kind(self) -> str:
        return "integer" if isinstance(self._values[0], int) else "real"

    def sample(self, rng: random.Random) -> int | float:
        return rng.choice(self._values)

    def contains(self, value: object) -> bool:
        return is_real(value) and any(same_value(value, v) for v in self._values)

    def values(self) -> tuple[int | float, ...]:
        return self._values

    def text(self) -> str:
        bounds = f"{format_literal(self.low)}, {format_literal(self.high)}"
        return f"{self.NAME}({bounds}, factor={format_literal(self.factor)})"


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class FidelityPrior(Prior):
    """``fidelity(low, high, base=2)``: an integer budget such as epochs, 1 <= low < high.

    It is not searched: ``sample`` gives ``high`` (a full run) and multi-fidelity algorithms
    pick budgets in between, spaced by powers of ``base``. A space holds at most one.
    """

    low: int
    high: int
    base: int | float = 2
    NAME: ClassVar[str] = "fidelity"
    KIND: ClassVar[str] = "fidelity"

    def __post_init__(self) -> None:
        _integer(self.low, "low", 0, self.NAME)
        _integer(self.high, "high", 1, self.NAME)
        _number(self.base, "base", 2)
        if self.low < 1:
            raise ArgumentError("low must be >= 1", 0)
        _check_order(self.low, self.high)
        if self.base <= 1:
            raise ArgumentError("base must be > 1", 2)

    def sample(self, rng: random.Random) -> int:
        return self.high

    def contains(self, value: object) -> bool:
        return _is_int(value) and self.low <= value <= self.high

    def values(self) -> tuple[int]:
        return (self.high,)

    def text(self) -> str:
        base = "" if self.base == 2 else f", base={format_literal(self.base)}"
        return f"{self.NAME}({self.low}, {self.high}{base})"


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class ConstantPrior(Prior):
    """A fixed value, written without a prior call: ``--seed~3`` or ``--opt~adam``."""

    value: Value
    NAME: ClassVar[str] = "constant"
    KIND: ClassVar[str] = "constant"

    def __post_init__(self) -> None:
        if not is_literal(self.value):
            raise ArgumentError(f"{self.value!r} is not a number, string, True, False or None", 0)

    def sample(self, rng: random.Random) -> Value:
        return self.value

    def contains(self, value: object) -> bool:
        return same_value(value, self.value)

    def values(self) -> tuple[Value]:
        return (self.value,)

    def text(self) -> str:
        # A bare prior name would read as a call without arguments, so quote it.
        return repr(self.value) if self.value in PRIORS else format_literal(self.value)


PRIORS: dict[str, type[Prior]] = {
    cls.NAME: cls
    for cls in (
        UniformPrior,
        LogUniformPrior,
        NormalPrior,
        RandIntPrior,
        ChoicePrior,
        GridPrior,
        GeometricPrior,
        FidelityPrior,
    )
}
"""The priors a text may call, by name."""


def _set(prior: Prior, **fields: object) -> None:
    """Normalise fields of a frozen prior while it is being built."""
    for name, value in fields.items():
        object.__setattr__(prior, name, value)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: object, name: str, index: int) -> int | float:
    if not is_real(value):
        raise ArgumentError(f"{name} must be a number, got {value!r}", index)
    return value


def _real(value: object, name: str, index: int) -> float:
    return float(_number(value, name, index))


def _integer(value: object, name: str, index: int, prior: str) -> None:
    if not _is_int(value):
        raise ArgumentError(f"{prior} needs integers: {name} is {value!r}", index)


def _check_order(low: float, high: float) -> None:
    if high <= low:
        raise ArgumentError("high must be greater than low", 1)


def _finite(
    values: Callable[[float, float, float], tuple[int | float, ...]],
    low: float,
    high: float,
    ratio: float,
    third: str,
) -> tuple[int | float, ...]:
    """The value list from ``values(low, high, ratio)``; too many is the third argument's fault."""
    try:
        return values(low, high, ratio)
    except ValueError as exc:
        raise ArgumentError(f"{exc}; use a larger {third}", 2) from None
