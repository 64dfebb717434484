"""Space: construction from texts, sampling, validation, enumeration for grid search."""

from __future__ import annotations

import json
import random

import pytest

from metaopt.errors import SpaceError
from metaopt.space import ConstantPrior
from metaopt.space import Space
from metaopt.space import UniformPrior
from metaopt.space import parse_prior

TEXTS = {
    "lr": "loguniform(1e-5, 1e-1)",
    "layers": "randint(1, 6)",
    "opt": "choice(adam, sgd)",
    "epochs": "fidelity(1, 50)",
    "seed": "3",
}


@pytest.fixture
def space() -> Space:
    return Space.from_dict(TEXTS)


def test_space_keeps_declaration_order_and_canonical_texts(space: Space) -> None:
    assert space.names == ("lr", "layers", "opt", "epochs", "seed")
    assert list(space) == list(space.names)
    assert len(space) == 5
    assert space["layers"] == parse_prior("randint(1, 6)")
    assert space.to_dict() == {
        "lr": "loguniform(1e-05, 0.1)",
        "layers": "randint(1, 6)",
        "opt": "choice(adam, sgd)",
        "epochs": "fidelity(1, 50)",
        "seed": "3",
    }
    assert list(space.to_dict()) == list(space.names)


def test_space_round_trips_through_json(space: Space) -> None:
    again = Space.from_dict(json.loads(json.dumps(space.to_dict())))
    assert again == space
    assert again.to_dict() == space.to_dict()


def test_space_equality_compares_canonical_texts_in_any_order() -> None:
    one = Space.from_dict({"lr": "loguniform(1e-5, 1e-1)", "n": "randint(1, 6)"})
    other = Space.from_dict({"n": "randint(1,6)", "lr": "loguniform(0.00001,0.1)"})
    assert one == other
    assert hash(one) == hash(other)
    assert one != Space.from_dict({"lr": "loguniform(1e-5, 1e-2)", "n": "randint(1, 6)"})
    assert one != Space.from_dict({"lr": "loguniform(1e-5, 1e-1)"})


def test_space_is_immutable(space: Space) -> None:
    with pytest.raises(TypeError):
        space["lr"] = UniformPrior(0, 1)  # type: ignore[index]


def test_from_dict_names_the_bad_key() -> None:
    with pytest.raises(SpaceError) as caught:
        Space.from_dict({"lr": "uniform(0, 1)", "momentum": "loguniform(0, 1)"})
    assert caught.value.flag == "momentum"
    assert caught.value.position == 11
    assert str(caught.value).startswith("momentum: low must be > 0")


def test_from_dict_refuses_a_value_that_is_not_text() -> None:
    with pytest.raises(SpaceError, match="expected a prior text") as caught:
        Space.from_dict({"lr": 0.1})  # type: ignore[dict-item]
    assert caught.value.flag == "lr"


def test_space_built_from_priors() -> None:
    space = Space([("lr", UniformPrior(0, 1)), ("seed", ConstantPrior(3))])
    assert space.to_dict() == {"lr": "uniform(0, 1)", "seed": "3"}
    assert Space({"lr": UniformPrior(0, 1)}) == Space.from_dict({"lr": "uniform(0.0, 1.0)"})
    with pytest.raises(SpaceError, match="declared twice"):
        Space([("lr", UniformPrior(0, 1)), ("lr", UniformPrior(0, 2))])
    with pytest.raises(SpaceError, match="non-empty string"):
        Space({"": UniformPrior(0, 1)})
    with pytest.raises(TypeError, match="expected a Prior"):
        Space({"lr": "uniform(0, 1)"})  # type: ignore[arg-type]


def test_space_holds_at_most_one_fidelity() -> None:
    with pytest.raises(SpaceError, match="at most one fidelity") as caught:
        Space.from_dict({"epochs": "fidelity(1, 50)", "steps": "fidelity(10, 1000)"})
    assert caught.value.flag == "steps"


def test_fidelity_names_the_fidelity_dimension(space: Space) -> None:
    assert space.fidelity == "epochs"
    assert Space.from_dict({"lr": "uniform(0, 1)"}).fidelity is None


def test_samples_are_inside_the_space_over_many_seeds(space: Space) -> None:
    for seed in range(200):
        params = space.sample(random.Random(seed))
        assert list(params) == list(space.names)
        assert space.contains(params)
        space.validate(params)
        assert params["epochs"] == 50
        assert params["seed"] == 3


def test_sample_depends_only_on_the_rng(space: Space) -> None:
    assert space.sample(random.Random(5)) == space.sample(random.Random(5))
    assert space.sample(random.Random(5)) != space.sample(random.Random(6))


GOOD = {"lr": 0.01, "layers": 3, "opt": "adam", "epochs": 10, "seed": 3}


@pytest.mark.parametrize(
    ("change", "name", "reason"),
    [
        ({"lr": None}, "lr", "missing parameter"),
        ({"momentum": 0.9}, "momentum", "unknown parameter"),
        ({"lr": 0.5}, "lr", "0.5 is outside loguniform(1e-05, 0.1)"),
        ({"lr": "0.01"}, "lr", "'0.01' is outside"),
        ({"layers": 7}, "layers", "7 is outside randint(1, 6)"),
        ({"layers": 2.5}, "layers", "outside randint"),
        ({"opt": "adamw"}, "opt", "'adamw' is outside choice(adam, sgd)"),
        ({"epochs": 51}, "epochs", "outside fidelity(1, 50)"),
        ({"seed": 4}, "seed", "4 is outside 3"),
    ],
)
def test_validate_names_the_bad_parameter(
    space: Space, change: dict[str, object], name: str, reason: str
) -> None:
    params = {**GOOD, **change}
    if change.get("lr", 0) is None:
        del params["lr"]
    assert not space.contains(params)
    with pytest.raises(SpaceError) as caught:
        space.validate(params)
    assert caught.value.flag == name
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"{name}: ")


def test_validate_accepts_a_good_point_in_any_order(space: Space) -> None:
    params = dict(reversed(list(GOOD.items())))
    space.validate(params)
    assert space.contains(params)


def test_validate_refuses_a_non_mapping(space: Space) -> None:
    with pytest.raises(SpaceError, match="must be a mapping"):
        space.validate([("lr", 0.1)])  # type: ignore[arg-type]
    assert not space.contains(None)  # type: ignore[arg-type]


def test_cardinality_and_finiteness() -> None:
    finite = Space.from_dict(
        {"n": "randint(1, 6)", "opt": "choice(a, b)", "e": "fidelity(1, 9)", "s": "7"}
    )
    assert finite.is_finite
    assert finite.cardinality() == 12
    continuous = Space.from_dict({"n": "randint(1, 6)", "lr": "uniform(0, 1)"})
    assert not continuous.is_finite
    assert continuous.cardinality() is None
    assert Space().cardinality() == 1


def test_grid_points_enumerate_the_product_first_name_slowest() -> None:
    space = Space.from_dict(
        {"opt": "choice(adam, sgd)", "n": "randint(1, 3)", "e": "fidelity(1, 9)", "s": "0"}
    )
    points = list(space.grid_points())
    assert points == [
        {"opt": opt, "n": n, "e": 9, "s": 0} for opt in ("adam", "sgd") for n in (1, 2, 3)
    ]
    assert len(points) == space.cardinality()
    assert all(space.contains(point) for point in points)
    assert list(space.grid_points()) == points


def test_grid_points_of_grid_and_geometric_priors() -> None:
    space = Space.from_dict({"x": "grid(0, 0.2, step=0.1)", "b": "geometric(16, 64, factor=2)"})
    points = [(point["x"], point["b"]) for point in space.grid_points()]
    assert points == [(x, b) for x in (0.0, 0.1, 0.2) for b in (16, 32, 64)]


def test_grid_points_refuse_a_continuous_space_naming_every_continuous_prior() -> None:
    space = Space.from_dict(
        {"lr": "loguniform(1e-5, 1e-1)", "n": "randint(1, 3)", "momentum": "uniform(0, 1)"}
    )
    with pytest.raises(SpaceError) as caught:
        space.grid_points()  # raised at the call, before iterating
    reason = caught.value.reason
    assert "lr~loguniform(1e-05, 0.1)" in reason
    assert "momentum~uniform(0, 1)" in reason
    assert "n~" not in reason
    assert "grid(a, b, step=s)" in reason
