"""Every algorithm: respects the space, never repeats a point of a finite space, reproducible."""

from __future__ import annotations

import json

import pytest

from metaopt.algo import ALGORITHMS
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


def algo(name: str, space: Space, seed: int = 0, node: str = "n1"):
    options = {"configs": CONFIGS} if name == "list" else {}
    return make_algorithm(name, space, seed=seed, node_id=node, options=options)


def history(points, status=TrialStatus.COMPLETED) -> SearchHistory:
    trials = [
        Trial(trial_id("e", p), "e", p, status=status, curve=((0, {"loss": float(i)}),))
        for i, p in enumerate(points)
    ]
    return SearchHistory(trials, "loss")


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_points_are_in_the_space_and_reproducible(name):
    first = algo(name, FINITE).suggest(history([]), 3)
    assert first == algo(name, FINITE).suggest(history([]), 3)
    for params in first:
        FINITE.validate(params)
    assert len({params_key(p) for p in first}) == len(first)


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
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


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_pending_points_are_not_proposed_again(name):
    a = algo(name, FINITE)
    pending = a.suggest(history([]), 2)
    nxt = a.suggest(history(pending, status=TrialStatus.RUNNING), 5)
    assert not {params_key(p) for p in pending} & {params_key(p) for p in nxt}


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
