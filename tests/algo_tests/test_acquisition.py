"""Expected improvement as bayes computes it: its gradient, the polish, and pending points.

Every check runs on a GP fitted by bayes itself to a real history, not on a hand-made model.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from metaopt.algo import SearchHistory
from metaopt.algo import make_algorithm
from metaopt.algo._acquisition import ExpectedImprovement
from metaopt.algo._acquisition import polish
from metaopt.algo._acquisition import posterior
from metaopt.algo._bayes import _Model
from metaopt.records import Trial
from metaopt.records import TrialStatus
from metaopt.space import Space
from metaopt.space import trial_id

SPACE = Space.from_dict(
    {"a": "uniform(0, 1)", "b": "loguniform(1e-3, 1)", "c": "uniform(-2, 2)", "k": "choice(x, y)"}
)


def objective(p: dict) -> float:
    bonus = 0.3 if p["k"] == "y" else 0.0
    return (p["a"] - 0.3) ** 2 + math.log10(p["b"]) ** 2 / 9 + math.sin(2 * p["c"]) + bonus


def trial(params: dict, value: float | None, status=TrialStatus.COMPLETED) -> Trial:
    curve = () if value is None else ((0, {"loss": value}),)
    return Trial(trial_id("e", params), "e", params, status=status, curve=curve)


def fitted_model(pending: int) -> tuple[_Model, object]:
    """A model round over 16 evaluations and ``pending`` points still out."""
    algo = make_algorithm("bayes", SPACE, seed=3, node_id="n1")
    trials: list[Trial] = []
    for _ in range(16):
        (params,) = algo.suggest(SearchHistory(trials, "loss"), 1)
        trials.append(trial(params, objective(params)))
    for params in algo.suggest(SearchHistory(trials, "loss"), pending):
        trials.append(trial(params, None, TrialStatus.RUNNING))
    history = SearchHistory(trials, "loss")
    observed = history.observations()
    model = _Model(algo, history, observed, algo._kernel(observed))
    return model, model._fit()


@pytest.mark.parametrize("pending", [0, 3])
def test_the_gradient_is_the_derivative_of_expected_improvement(pending):
    model, gp = fitted_model(pending)
    ei = ExpectedImprovement(gp, model.y_best, 0.01, model.observed, model._fantasies())
    rows = model._one_hot(np.random.default_rng(0).random((8, model.encoding.width)))
    value, grad = ei.with_gradient(rows)
    assert np.allclose(value, ei(rows), rtol=1e-10, atol=1e-14)
    step = 1e-6
    for axis in model.encoding.real_axes():
        shift = np.zeros(model.encoding.width)
        shift[axis] = step
        numeric = (ei(rows + shift) - ei(rows - shift)) / (2 * step)
        assert np.allclose(grad[:, axis], numeric, rtol=1e-4, atol=1e-6 * value.max())


def test_polish_climbs_within_the_cube_and_keeps_the_choices():
    model, gp = fitted_model(0)
    ei = ExpectedImprovement(gp, model.y_best, 0.01, model.observed)
    starts = model._one_hot(np.random.default_rng(1).random((5, model.encoding.width)))
    moved = polish(ei, starts, model.encoding.real_axes())
    assert (ei(moved) >= ei(starts)).all()
    assert ei(moved).max() > ei(starts).max()
    assert ((moved >= 0.0) & (moved <= 1.0)).all()
    for start, size in model.encoding.blocks():
        assert (moved[:, start : start + size] == starts[:, start : start + size]).all()


def test_a_pending_point_is_worth_nothing_more_but_the_rest_of_the_space_still_is():
    model, gp = fitted_model(1)
    spot = model.x[model.observed :]
    batch = ExpectedImprovement(gp, model.y_best, 0.0, model.observed, model._fantasies())
    elsewhere = batch(model._one_hot(np.random.default_rng(2).random((500, spot.shape[1]))))
    assert elsewhere.max() > 0.0
    # Evaluating the pending point again could only repeat its value, up to the noise,
    # whatever its believed value: that value is part of the best in every draw.
    noise = posterior(gp, spot)[1][0]
    assert batch(spot)[0] <= 0.5 * noise
    assert batch(spot)[0] < 0.1 * elsewhere.max()
