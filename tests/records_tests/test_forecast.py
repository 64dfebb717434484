"""The forecast of a paused trial's final value: exact on its own curve family, sane elsewhere."""

from __future__ import annotations

import math

from metaopt.records import forecast


def decay(a: float, b: float, c: float, n: int) -> list[float]:
    return [a + b * math.exp(-c * t) for t in range(1, n + 1)]


def test_a_curve_of_the_decay_family_is_continued_exactly():
    rate = 10 ** (-8 / 8)  # a rate on the fitted grid
    assert math.isclose(forecast(decay(0.2, 1.0, rate, 5), 27), 0.2 + math.exp(-rate * 27))


def test_a_rate_between_grid_points_is_continued_closely():
    truth = decay(0.2, 1.0, 0.25, 27)[-1]
    assert abs(forecast(decay(0.2, 1.0, 0.25, 6), 27) - truth) < 0.02


def test_too_short_or_broken_curves_have_no_forecast():
    assert forecast([1.0, 0.5], 27) is None
    assert forecast([1.0, math.nan, 0.4], 27) is None


def test_a_forecast_is_never_worse_than_the_best_so_far():
    assert forecast([0.5, 0.6, 0.7, 0.8], 27) == 0.5  # a curve that worsens: its best
    assert forecast([0.9, 0.5, 0.7, 0.4], 3) == 0.5  # within the curve: the best up to there


def test_a_maximized_metric_is_forecast_upwards():
    accuracy = [1.0 - v for v in decay(0.1, 0.8, 0.3, 5)]
    value = forecast(accuracy, 27, maximize=True)
    assert max(accuracy) < value <= 0.9 + 1e-9
