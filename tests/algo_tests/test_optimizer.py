"""metaopt.Optimizer: ask and tell in-process, with no daemon."""

from __future__ import annotations

import math

import pytest

import metaopt
from metaopt.errors import MetaoptError
from metaopt.errors import SpaceError
from metaopt.errors import SpaceExhausted

BRANIN = {"x": "uniform(-5, 10)", "y": "uniform(0, 15)"}


def branin(x: float, y: float) -> float:
    a = y - 5.1 / (4 * math.pi**2) * x**2 + 5 / math.pi * x - 6
    return a**2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x) + 10


def run(seed: int, evaluations: int, algo: str = "bayes") -> metaopt.Optimizer:
    opt = metaopt.Optimizer(BRANIN, algo=algo, seed=seed)
    for _ in range(evaluations):
        params = opt.ask()
        opt.tell(params, branin(**params))
    return opt


def test_ask_tell_finds_branin_and_is_reproducible():
    opt = run(0, 30)
    best = opt.best
    assert best is not None
    assert best[1] < 0.397887 + 0.5
    assert [t.params for t in run(0, 30).trials] == [t.params for t in opt.trials]
    assert [t.params for t in run(1, 12).trials] != [t.params for t in opt.trials[:12]]


def test_pending_points_are_known_to_the_next_ask():
    opt = run(0, 12)
    batch = opt.ask(4)
    assert len(batch) == 4
    assert opt.pending == batch
    nxt = opt.ask()
    assert nxt not in batch
    for params in batch:
        opt.tell(params, branin(**params))
    assert opt.pending == [nxt]


def test_failures_and_nan_are_recorded_and_the_search_goes_on():
    opt = metaopt.Optimizer(BRANIN, seed=2)
    for i in range(16):
        params = opt.ask()
        opt.tell(params, None if i % 3 == 0 else math.nan if i % 3 == 1 else branin(**params))
    statuses = [t.status.label for t in opt.trials]
    assert statuses.count("failed") == 11
    assert statuses.count("completed") == 5
    assert opt.best is not None


def test_known_results_warm_start_and_maximize_flips_best():
    opt = metaopt.Optimizer({"x": "uniform(0, 1)"}, algo="random", maximize=True)
    opt.tell({"x": 0.2}, 1.0)
    opt.tell({"x": 0.7}, 3.0)
    assert opt.best == ({"x": 0.7}, 3.0)
    assert opt.ask() not in ({"x": 0.2}, {"x": 0.7})


def test_bad_tells_say_what_is_wrong():
    opt = metaopt.Optimizer({"x": "uniform(0, 1)"})
    params = opt.ask()
    with pytest.raises(MetaoptError, match="must be a number"):
        opt.tell(params, "low")
    with pytest.raises(SpaceError, match="x"):
        opt.tell({"x": 2.0}, 1.0)
    opt.tell(params, 0.5)
    with pytest.raises(MetaoptError, match="told already"):
        opt.tell(params, 0.4)
    assert opt.best == (params, 0.5)


def test_a_malformed_prior_names_its_parameter():
    with pytest.raises(SpaceError, match="lr"):
        metaopt.Optimizer({"lr": "loguniform(0, 1)"})


def test_an_exhausted_grid_ends_cleanly():
    opt = metaopt.Optimizer({"a": "choice(x, y)", "b": "randint(1, 2)"}, algo="bayes")
    first = opt.ask(10)
    assert len(first) == 4
    assert opt.ask(2) == []
    with pytest.raises(SpaceExhausted, match="all 4 points"):
        opt.ask()
