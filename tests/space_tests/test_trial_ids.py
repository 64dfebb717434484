"""params_key and trial_id: the same point gives the same id on every node."""

from __future__ import annotations

import hashlib
import math

import pytest

from metaopt.space import params_key
from metaopt.space import trial_id

PARAMS = {"lr": 0.001, "layers": 3, "opt": "adam", "amp": True, "tag": None}


def test_params_key_is_compact_sorted_json() -> None:
    assert params_key(PARAMS) == ('{"amp":true,"layers":3,"lr":0.001,"opt":"adam","tag":null}')


def test_params_key_writes_floats_by_repr() -> None:
    assert params_key({"x": 0.1 + 0.2, "y": 1e-05, "z": 2.0}) == (
        '{"x":0.30000000000000004,"y":1e-05,"z":2.0}'
    )


def test_trial_id_is_stable_across_dict_order() -> None:
    reordered = dict(reversed(list(PARAMS.items())))
    assert list(reordered) != list(PARAMS)
    assert params_key(reordered) == params_key(PARAMS)
    assert trial_id("train", reordered) == trial_id("train", PARAMS)


def test_trial_id_is_sixteen_hex_of_the_sha256() -> None:
    expected = hashlib.sha256(("train\0" + params_key(PARAMS)).encode()).hexdigest()[:16]
    assert trial_id("train", PARAMS) == expected
    assert len(expected) == 16
    int(expected, 16)


def test_trial_id_is_a_known_constant() -> None:
    # Pinned so that a change to the key format, which would split ids across versions, fails.
    assert trial_id("train", {"n": 3, "lr": 0.1}) == "0da8728a342a51f1"


@pytest.mark.parametrize(
    ("experiment", "params"),
    [
        ("other", PARAMS),
        ("train", {**PARAMS, "lr": 0.002}),
        ("train", {**PARAMS, "layers": 3.0}),
        ("train", {**PARAMS, "amp": 1}),
        ("train", {k: v for k, v in PARAMS.items() if k != "tag"}),
    ],
)
def test_trial_id_differs_for_a_different_point_or_experiment(
    experiment: str, params: dict[str, object]
) -> None:
    assert trial_id(experiment, params) != trial_id("train", PARAMS)


def test_params_key_refuses_nan() -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        params_key({"x": math.nan})
