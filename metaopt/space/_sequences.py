"""The finite value lists of ``grid`` and ``geometric``, computed in decimal so 0.1 steps stay 0.3.

Floats are stepped as the decimals the user wrote (``Decimal(repr(x))``) and converted back once,
so ``grid(0, 1, step=0.1)`` holds 0.3, not 0.30000000000000004.
"""

from __future__ import annotations

from decimal import Decimal

MAX_VALUES = 100_000
"""Most values a grid or geometric prior may hold; more is a typo, not a search."""


def grid_values(low: float, high: float, step: float) -> tuple[int | float, ...]:
    """``low, low + step, ...`` up to ``high`` inclusive; ints when all three are ints.

    Raises:
        ValueError: more than MAX_VALUES values.
    """
    if isinstance(low, int) and isinstance(high, int) and isinstance(step, int):
        _check_count((high - low) // step + 1)
        return tuple(range(low, high + 1, step))
    start, stop, stride = _decimal(low), _decimal(high), _decimal(step)
    count = int((stop - start) // stride) + 1
    _check_count(count)
    return tuple(float(start + i * stride) for i in range(count))


def geometric_values(low: float, high: float, factor: float) -> tuple[int | float, ...]:
    """``low, low * factor, low * factor**2, ...`` up to ``high``; ints when low and factor are.

    Raises:
        ValueError: more than MAX_VALUES values.
    """
    if isinstance(low, int) and isinstance(factor, int):
        ints: list[int] = []
        value = low
        while value <= high:
            ints.append(value)
            _check_count(len(ints))
            value *= factor
        return tuple(ints)
    start, stop, ratio = _decimal(low), _decimal(high), _decimal(factor)
    floats: list[float] = []
    power = start
    while power <= stop:
        floats.append(float(power))
        _check_count(len(floats))
        power *= ratio
    return tuple(floats)


def _decimal(number: float) -> Decimal:
    """The decimal the user wrote: ``Decimal(repr(0.1))`` is exactly 0.1."""
    return Decimal(repr(number)) if isinstance(number, float) else Decimal(number)


def _check_count(count: int) -> None:
    if count > MAX_VALUES:
        raise ValueError(f"more than {MAX_VALUES} values")
