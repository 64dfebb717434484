"""Where a learning curve is heading: the value a paused trial would reach at the full budget.

The curve's best-so-far values are fitted by ``a + b * exp(-c * t)`` (the decay family of the
freeze-thaw model, Swersky et al. 2014): for each rate c, a and b by least squares; the rate is
the best of a log grid, refined between its neighbours. The forecast is that fit at the full
budget, never worse than the curve's best value so far. It is a reading aid for `metaopt status`
and `top`, not the model an algorithm decides with.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

_RATES = tuple(10 ** (k / 8) for k in range(-24, 5))  # 0.001 .. 3.2 per step
MIN_STEPS = 3  # fewer points than parameters: no forecast


def forecast(values: Sequence[float], at: int, maximize: bool = False) -> float | None:
    """The value at step count ``at`` of a curve whose steps 1..n reported ``values``."""
    sign = -1.0 if maximize else 1.0
    best: list[float] = []
    for v in values:
        if not math.isfinite(v):
            return None
        best.append(min(best[-1], sign * v) if best else sign * v)
    n = len(best)
    if n < MIN_STEPS:
        return None
    if at <= n:
        return sign * best[at - 1]
    _, a, b, rate = _best_fit(best)
    return sign * min(best[-1], a + b * math.exp(-rate * at))


def _best_fit(ys: list[float]) -> tuple[float, float, float, float]:
    """The grid's best rate, refined by golden-section search between its neighbours."""
    errors = [_fit(ys, rate)[0] for rate in _RATES]
    i = min(range(len(_RATES)), key=errors.__getitem__)
    lo, hi = math.log(_RATES[max(i - 1, 0)]), math.log(_RATES[min(i + 1, len(_RATES) - 1)])
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(30):
        m1, m2 = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        if _fit(ys, math.exp(m1))[0] <= _fit(ys, math.exp(m2))[0]:
            hi = m2
        else:
            lo = m1
    return min(_fit(ys, math.exp((lo + hi) / 2)), _fit(ys, _RATES[i]), key=lambda f: f[0])


def _fit(ys: list[float], rate: float) -> tuple[float, float, float, float]:
    """(squared error, a, b, rate) of the least-squares a + b * exp(-rate * t), t = 1..n."""
    es = [math.exp(-rate * t) for t in range(1, len(ys) + 1)]
    n = len(ys)
    se, sy = sum(es), sum(ys)
    see = sum(e * e for e in es)
    sey = sum(e * y for e, y in zip(es, ys, strict=True))
    det = n * see - se * se
    if abs(det) < 1e-12:
        return (math.inf, ys[-1], 0.0, rate)
    b = (n * sey - se * sy) / det
    a = (sy - b * se) / n
    if b < 0:  # a curve that worsens is not heading anywhere better: flat at its mean
        a, b = sy / n, 0.0
    error = sum((a + b * e - y) ** 2 for e, y in zip(es, ys, strict=True))
    return (error, a, b, rate)
