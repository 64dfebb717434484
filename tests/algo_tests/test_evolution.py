"""The ``evolution`` algorithm: ageing, tournaments, and better than random where it should be."""

from __future__ import annotations

import math

import pytest

from metaopt.algo import SearchHistory
from metaopt.algo import make_algorithm
from metaopt.errors import AlgorithmError
from metaopt.records import Trial
from metaopt.records import TrialStatus
from metaopt.space import Space
from metaopt.space import trial_id

LINE = Space.from_dict({"x": "uniform(0, 1)"})
SPHERE = Space.from_dict({f"x{i}": "uniform(-5, 5)" for i in range(6)})


def trial(params: dict, value: float | None, created: int, status=TrialStatus.COMPLETED) -> Trial:
    curve = () if value is None else ((0, {"loss": value}),)
    return Trial(trial_id("e", params), "e", params, status=status, created=created, curve=curve)


def test_old_members_die_of_age_however_good():
    # The best point ever seen is the oldest; with a population of 5 it is dead, and children
    # come from the five recent points near x = 0.9, never from x = 0.
    trials = [trial({"x": 0.0}, 0.0, 0)]
    trials += [trial({"x": 0.9 + i / 100}, 1.0 + i, 1 + i) for i in range(5)]
    for seed in range(20):
        algo = make_algorithm(
            "evolution", LINE, seed=seed, options={"population": 5, "tournament": 5}
        )
        (child,) = algo.suggest(SearchHistory(trials, "loss"), 1)
        assert child["x"] > 0.3, (seed, child)


def test_random_until_the_population_is_filled_counting_pending_points():
    algo = make_algorithm("evolution", LINE, seed=1, options={"population": 4})
    done = [trial({"x": 0.5}, 1.0, 0)]
    pending = [trial({"x": x}, None, 1 + i, TrialStatus.RUNNING) for i, x in enumerate((0.1, 0.2))]
    random_draw = make_algorithm("random", LINE, seed=1).suggest(SearchHistory(done + pending), 1)
    assert algo.suggest(SearchHistory(done + pending, "loss"), 1) == random_draw
    # One more pending point fills the population: the next one is bred from x = 0.5.
    more = [*done, *pending, trial({"x": 0.3}, None, 3, TrialStatus.RUNNING)]
    assert algo.suggest(SearchHistory(more, "loss"), 1) != make_algorithm(
        "random", LINE, seed=1
    ).suggest(SearchHistory(more), 1)


def test_unknown_or_negative_options_are_refused_by_name():
    with pytest.raises(AlgorithmError, match="popsize"):
        make_algorithm("evolution", LINE, options={"popsize": 3})
    with pytest.raises(AlgorithmError, match="sigma"):
        make_algorithm("evolution", LINE, options={"sigma": -1})


def best_after(name: str, seed: int, evaluations: int) -> float:
    algo = make_algorithm(name, SPHERE, seed=seed, node_id="n1")
    trials: list[Trial] = []
    for i in range(evaluations):
        (params,) = algo.suggest(SearchHistory(trials, "loss"), 1)
        trials.append(trial(params, sum(v * v for v in params.values()), i))
    return min(t.objective("loss") or math.inf for t in trials)


def test_evolution_beats_random_on_a_sphere_over_seeds():
    # Sign test over 8 seeds, as for bayes: 7 wins of 8 has probability 9/256 by chance.
    wins = sum(best_after("evolution", s, 120) < best_after("random", s, 120) for s in range(8))
    assert wins >= 7
