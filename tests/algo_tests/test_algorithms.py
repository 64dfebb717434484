"""Every algorithm: respects the space, never repeats a point of a finite space, reproducible."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from metaopt.algo import ALGORITHMS
from metaopt.algo import MultiFidelityAlgorithm
from metaopt.algo import SearchHistory
from metaopt.algo import load_configs
from metaopt.algo import make_algorithm
from metaopt.errors import AlgorithmError
from metaopt.records import Trial
from metaopt.records import TrialStatus
from metaopt.space import Space
from metaopt.space import params_key
from metaopt.space import trial_id

FINITE = Space.from_dict(
    {"a": "choice(x, y, z)", "b": "randint(1, 3)", "c": "grid(0, 1, step=0.5)"}
)
MIXED = Space.from_dict(
    {"lr": "loguniform(1e-5, 1e-1)", "n": "randint(1, 6)", "opt": "choice(adam, sgd)"}
)
CONFIGS = [
    {"a": "x", "b": 1, "c": 0.0},
    {"a": "z", "b": 3, "c": 1.0},
    {"a": "y", "b": 2, "c": 0.5},
]


# Small enough that evolution breeds (and bayes models) within these tests' few points.
OPTIONS = {"list": {"configs": CONFIGS}, "evolution": {"population": 4, "tournament": 2}}
# Whole-trial algorithms; those that freeze and thaw (a space with a fidelity) have test_fidelity.
WHOLE = sorted(n for n, cls in ALGORITHMS.items() if not issubclass(cls, MultiFidelityAlgorithm))
CONTINUOUS = sorted(set(WHOLE) - {"grid", "list"})


def algo(name: str, space: Space, seed: int = 0, node: str = "n1"):
    return make_algorithm(name, space, seed=seed, node_id=node, options=OPTIONS.get(name))


def history(points, status=TrialStatus.COMPLETED, values=None) -> SearchHistory:
    values = values or [float(i) for i in range(len(points))]
    trials = [
        Trial(trial_id("e", p), "e", p, status=status, created=i, curve=((0, {"loss": v}),))
        for i, (p, v) in enumerate(zip(points, values, strict=True))
    ]
    return SearchHistory(trials, "loss")


def mixed_loss(params) -> float:
    return (math.log10(params["lr"]) + 3) ** 2 + (params["n"] - 4) ** 2 + (params["opt"] == "sgd")


@pytest.mark.parametrize("name", WHOLE)
def test_points_are_in_the_space_and_reproducible(name):
    first = algo(name, FINITE).suggest(history([]), 3)
    assert first == algo(name, FINITE).suggest(history([]), 3)
    for params in first:
        FINITE.validate(params)
    assert len({params_key(p) for p in first}) == len(first)


@pytest.mark.parametrize("name", WHOLE)
def test_finite_space_is_used_up_without_repeats(name):
    space_size = len(CONFIGS) if name == "list" else FINITE.cardinality()
    a = algo(name, FINITE)
    seen: list[dict] = []
    while True:
        batch = a.suggest(history(seen), 2)
        if not batch:
            break
        seen.extend(batch)
    assert len(seen) == space_size
    assert len({params_key(p) for p in seen}) == space_size
    assert a.is_exhausted(history(seen))


@pytest.mark.parametrize("name", WHOLE)
def test_pending_points_are_not_proposed_again(name):
    a = algo(name, FINITE)
    pending = a.suggest(history([]), 2)
    nxt = a.suggest(history(pending, status=TrialStatus.RUNNING), 5)
    assert not {params_key(p) for p in pending} & {params_key(p) for p in nxt}


@pytest.mark.parametrize("name", CONTINUOUS)
def test_a_long_run_keeps_types_and_bounds_through_failures_and_nan(name):
    a = algo(name, MIXED)
    points: list[dict] = []
    values: list[float] = []
    for i in range(36):
        (params,) = a.suggest(history(points, values=values), 1)
        MIXED.validate(params)
        assert type(params["lr"]) is float
        assert 1e-5 <= params["lr"] <= 1e-1
        assert type(params["n"]) is int
        assert 1 <= params["n"] <= 6
        assert params["opt"] in ("adam", "sgd")
        points.append(params)
        values.append(math.nan if i % 5 == 3 else math.inf if i % 7 == 6 else mixed_loss(params))
    trials = list(history(points, values=values).trials)
    trials[::4] = [dataclasses.replace(t, status=TrialStatus.FAILED) for t in trials[::4]]
    for params in a.suggest(SearchHistory(trials, "loss"), 3):
        MIXED.validate(params)


@pytest.mark.parametrize("name", CONTINUOUS)
def test_a_suggestion_depends_only_on_the_history(name):
    # An instance that answered other histories before (caches, fitted models) must answer
    # exactly what a fresh one does: nodes rely on it to replay and to agree.
    points = algo("random", MIXED).suggest(history([]), 24)
    values = [mixed_loss(p) for p in points]
    warm = algo(name, MIXED)
    for k in (12, 18, 23):  # 23 and 24 share a refit point: the second is a cache hit
        warm.suggest(history(points[:k], values=values[:k]), 2)
    target = history(points, values=values)
    assert warm.suggest(target, 2) == algo(name, MIXED).suggest(target, 2)


def test_random_depends_on_seed_and_node():
    base = algo("random", MIXED).suggest(history([]), 4)
    assert base != algo("random", MIXED, seed=1).suggest(history([]), 4)
    assert base != algo("random", MIXED, node="n2").suggest(history([]), 4)
    for params in base:
        assert 1e-5 <= params["lr"] <= 1e-1
        assert params["n"] in range(1, 7)


def test_grid_refuses_continuous_priors_by_name():
    with pytest.raises(AlgorithmError, match="lr"):
        algo("grid", MIXED)


def test_list_validates_each_configuration():
    with pytest.raises(AlgorithmError, match="configuration 2"):
        make_algorithm(
            "list", FINITE, options={"configs": [CONFIGS[0], {"a": "w", "b": 1, "c": 0.0}]}
        )
    with pytest.raises(AlgorithmError, match="--configs"):
        make_algorithm("list", FINITE)


@pytest.mark.parametrize(
    ("filename", "text"),
    [
        ("c.json", json.dumps(CONFIGS)),
        ("c.jsonl", "\n".join(json.dumps(c) for c in CONFIGS)),
        ("c.csv", "a,b,c\nx,1,0.0\nz,3,1.0\ny,2,0.5\n"),
    ],
)
def test_load_configs_reads_json_jsonl_and_csv(tmp_path, filename, text):
    path = tmp_path / filename
    path.write_text(text)
    assert load_configs(path) == CONFIGS


def test_load_configs_reports_the_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("[1, 2")
    with pytest.raises(AlgorithmError, match=r"bad\.json"):
        load_configs(path)
    with pytest.raises(AlgorithmError, match="cannot read"):
        load_configs(tmp_path / "missing.json")


def test_observations_exclude_failed_and_nan_and_flip_for_maximize():
    trials = [
        Trial("1", "e", {"x": 1}, TrialStatus.COMPLETED, curve=((0, {"acc": 0.5}),)),
        Trial("2", "e", {"x": 2}, TrialStatus.FAILED, curve=((0, {"acc": 0.9}),)),
        Trial("3", "e", {"x": 3}, TrialStatus.COMPLETED, curve=((0, {"acc": float("nan")}),)),
        Trial("4", "e", {"x": 4}, TrialStatus.RUNNING),
    ]
    h = SearchHistory(trials, "acc", maximize=True)
    assert h.observations() == [({"x": 1}, -0.5)]
    assert h.pending() == [{"x": 4}]


@pytest.mark.parametrize("name", ["grid", "random", "list", "evolution", "bayes"])
def test_nodes_proposing_at_once_on_a_small_grid_pick_different_points(name):
    """Three nodes, one empty history, a 3x3 space: each node's share keeps them apart."""
    space = Space.from_dict({"a": "choice(1, 2, 3)", "b": "choice(x, y, z)"})
    options = {"configs": list(space.grid_points())} if name == "list" else {}
    picks = []
    for k, node in enumerate(["node-a", "node-b", "node-c"]):
        algorithm = make_algorithm(name, space, seed=5, node_id=node, options=options)
        shared = SearchHistory([], share=(k, 3))
        picks += [params_key(p) for p in algorithm.suggest(shared, 2)]
    assert len(set(picks)) == len(picks) == 6
