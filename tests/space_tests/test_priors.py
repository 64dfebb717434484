"""Each prior: sampling inside its bounds, membership, value lists, kinds and canonical texts."""

from __future__ import annotations

import math
import random

import pytest

from metaopt.errors import SpaceError
from metaopt.space import ChoicePrior
from metaopt.space import ConstantPrior
from metaopt.space import FidelityPrior
from metaopt.space import GridPrior
from metaopt.space import LogUniformPrior
from metaopt.space import NormalPrior
from metaopt.space import RandIntPrior
from metaopt.space import UniformPrior
from metaopt.space import parse_prior

SEEDS = range(300)

# text, kind, low, high (None where the prior is unbounded or unordered)
PRIORS = [
    ("uniform(-2, 3.5)", "real", -2.0, 3.5),
    ("loguniform(1e-5, 1e-1)", "real", 1e-5, 0.1),
    ("normal(0, 1)", "real", None, None),
    ("randint(1, 6)", "integer", 1, 6),
    ("choice(adam, sgd, 'rms prop', 3, 0.5, True, None)", "categorical", None, None),
    ("grid(0, 1, step=0.1)", "real", 0.0, 1.0),
    ("grid(2, 10, step=4)", "integer", 2, 10),
    ("geometric(1e-4, 1, factor=10)", "real", 1e-4, 1.0),
    ("geometric(16, 256, factor=2)", "integer", 16, 256),
    ("fidelity(1, 50)", "fidelity", 1, 50),
    ("42", "constant", None, None),
    ("adam", "constant", None, None),
]


@pytest.mark.parametrize(("text", "kind", "low", "high"), PRIORS)
def test_prior_samples_stay_inside_over_many_seeds(
    text: str, kind: str, low: float | None, high: float | None
) -> None:
    prior = parse_prior(text)
    assert prior.kind == kind
    values = prior.values()
    for seed in SEEDS:
        value = prior.sample(random.Random(seed))
        assert prior.contains(value), (seed, value)
        if low is not None and high is not None:
            assert low <= value <= high  # type: ignore[operator]
        if values is not None:
            assert value in values
        if kind == "integer":
            assert type(value) is int


@pytest.mark.parametrize(("text", "kind", "low", "high"), PRIORS)
def test_prior_sampling_is_a_function_of_the_rng(
    text: str, kind: str, low: float | None, high: float | None
) -> None:
    prior = parse_prior(text)
    first = [prior.sample(random.Random(seed)) for seed in range(20)]
    again = [prior.sample(random.Random(seed)) for seed in range(20)]
    assert first == again


@pytest.mark.parametrize(("text", "kind", "low", "high"), PRIORS)
def test_prior_bounds_are_exposed(
    text: str, kind: str, low: float | None, high: float | None
) -> None:
    prior = parse_prior(text)
    if low is None:
        assert not hasattr(prior, "low")
    else:
        assert (prior.low, prior.high) == (low, high)  # type: ignore[attr-defined]


def test_loguniform_samples_spread_evenly_over_decades() -> None:
    prior = LogUniformPrior(1e-5, 1e-1)
    rng = random.Random(7)
    decades = [0, 0, 0, 0]
    for _ in range(4000):
        exponent = math.log10(prior.sample(rng))
        decades[min(int(exponent + 5), 3)] += 1
    # A linear sampler would put about 90% of the draws in the top decade.
    assert all(800 <= count <= 1200 for count in decades), decades
    assert prior.log


def test_uniform_samples_spread_linearly() -> None:
    prior = UniformPrior(0, 10)
    rng = random.Random(3)
    below_one = sum(prior.sample(rng) < 1 for _ in range(4000))
    assert 300 <= below_one <= 500
    assert not prior.log


def test_normal_samples_center_on_mu() -> None:
    prior = NormalPrior(5, 0.5)
    rng = random.Random(11)
    draws = [prior.sample(rng) for _ in range(4000)]
    assert abs(sum(draws) / len(draws) - 5) < 0.05
    assert prior.values() is None
    assert prior.contains(-1e9)
    assert not prior.contains(math.inf)


def test_randint_includes_both_ends() -> None:
    prior = parse_prior("randint(1, 3)")
    assert {prior.sample(random.Random(seed)) for seed in SEEDS} == {1, 2, 3}
    assert list(prior.values()) == [1, 2, 3]  # type: ignore[arg-type]
    assert prior.contains(1)
    assert prior.contains(3)
    assert not prior.contains(0)
    assert not prior.contains(4)
    assert not prior.contains(2.5)
    assert not prior.contains(True)


def test_randint_values_do_not_materialise_wide_ranges() -> None:
    prior = parse_prior("randint(0, 1000000000000)")
    values = prior.values()
    assert values is not None
    assert len(values) == 1000000000001


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("grid(0, 1, step=0.1)", (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)),
        ("grid(0, 0.3, step=0.1)", (0.0, 0.1, 0.2, 0.3)),
        ("grid(-1, 1, step=0.5)", (-1.0, -0.5, 0.0, 0.5, 1.0)),
        ("grid(1, 10, step=3)", (1, 4, 7, 10)),
        ("grid(1, 11, step=3)", (1, 4, 7, 10)),
        ("grid(0, 10, 5)", (0, 5, 10)),
        ("grid(0.5, 0.5, step=1)", (0.5,)),
        ("grid(1e-3, 5e-3, step=1e-3)", (0.001, 0.002, 0.003, 0.004, 0.005)),
        ("geometric(1, 100, factor=2)", (1, 2, 4, 8, 16, 32, 64)),
        ("geometric(1e-5, 1e-1, factor=10)", (1e-05, 0.0001, 0.001, 0.01, 0.1)),
        ("geometric(0.5, 4, factor=2)", (0.5, 1.0, 2.0, 4.0)),
        ("geometric(1, 3, factor=1.5)", (1.0, 1.5, 2.25)),
        ("geometric(3, 3, factor=2)", (3,)),
    ],
)
def test_grid_and_geometric_values_are_exact(text: str, expected: tuple[float, ...]) -> None:
    values = parse_prior(text).values()
    assert values == expected
    assert [type(v) for v in values] == [type(v) for v in expected]


def test_grid_of_tenths_holds_three_tenths_not_its_float_neighbour() -> None:
    prior = parse_prior("grid(0, 1, step=0.1)")
    values = prior.values()
    assert values is not None
    assert len(values) == 11
    assert 0.3 in values
    assert 0.30000000000000004 not in values
    assert prior.contains(0.3)
    assert not prior.contains(0.30000000000000004)
    assert not prior.contains(0.35)
    assert not prior.contains("0.3")


def test_choice_keeps_value_types_and_matches_numbers_by_value() -> None:
    prior = parse_prior("choice(1, 2.5, adam, 'x y', True, None)")
    assert prior.values() == (1, 2.5, "adam", "x y", True, None)
    assert [type(v) for v in prior.values()] == [int, float, str, str, bool, type(None)]  # type: ignore[union-attr]
    assert prior.contains(1.0)
    assert prior.contains("adam")
    assert prior.contains(None)
    assert not prior.contains("1")
    assert not prior.contains(False)
    assert not prior.contains(2)


def test_choice_of_one_value_is_allowed() -> None:
    prior = parse_prior("choice(relu)")
    assert prior.values() == ("relu",)
    assert prior.sample(random.Random(0)) == "relu"


def test_choice_treats_bools_and_ints_as_different_values() -> None:
    assert parse_prior("choice(1, True, 0, False)").values() == (1, True, 0, False)


def test_fidelity_samples_its_high_and_contains_every_budget() -> None:
    prior = parse_prior("fidelity(1, 50)")
    assert isinstance(prior, FidelityPrior)
    assert prior.sample(random.Random(0)) == 50
    assert prior.values() == (50,)
    assert prior.base == 2
    assert all(prior.contains(budget) for budget in range(1, 51))
    assert not prior.contains(0)
    assert not prior.contains(51)
    assert not prior.contains(2.5)
    assert parse_prior("fidelity(1, 81, base=3)").base == 3  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", 3),
        ("-0.5", -0.5),
        ("1e-3", 0.001),
        ("adam", "adam"),
        ("data/train.csv", "data/train.csv"),
        ("'hello world'", "hello world"),
        ('"uniform"', "uniform"),
        ("True", True),
        ("None", None),
    ],
)
def test_bare_value_is_a_constant(text: str, value: object) -> None:
    prior = parse_prior(text)
    assert prior == ConstantPrior(value)  # type: ignore[arg-type]
    assert prior.kind == "constant"
    assert prior.values() == (value,)
    assert prior.sample(random.Random(0)) == value
    assert prior.contains(value)
    assert parse_prior(prior.text()) == prior


@pytest.mark.parametrize(
    ("texts", "canonical"),
    [
        (
            ["loguniform(1e-5, 1e-1)", "loguniform(1e-05,0.1)", "loguniform(0.00001, 0.1)"],
            "loguniform(1e-05, 0.1)",
        ),
        (
            [
                "uniform(0, 1)",
                "uniform(0.0, 1.0)",
                "  uniform ( 0 , 1 , )  ",
                "uniform(high=1, low=0)",
            ],
            "uniform(0, 1)",
        ),
        (["uniform(-1e-3, 1E+2)"], "uniform(-0.001, 100)"),
        (["normal(0, 1.5)"], "normal(0, 1.5)"),
        (["randint(1, 6)", "randint(+1, 6)"], "randint(1, 6)"),
        (["choice(adam, sgd)", "choice('adam', \"sgd\")"], "choice(adam, sgd)"),
        (["choice('a b', True, None, 1, 2.5e0)"], "choice('a b', True, None, 1, 2.5)"),
        (["choice('True', '3', \"it's\")"], "choice('True', '3', \"it's\")"),
        (
            ["grid(0, 1, step=0.1)", "grid(0, 1, 0.1)", "grid(step=0.1, low=0, high=1)"],
            "grid(0, 1, step=0.1)",
        ),
        (["grid(0.0, 10.0, step=2.0)"], "grid(0.0, 10.0, step=2.0)"),
        (["geometric(1e-5, 1e-1, factor=10)"], "geometric(1e-05, 0.1, factor=10)"),
        (["fidelity(1, 50)", "fidelity(1, 50, base=2)"], "fidelity(1, 50)"),
        (["fidelity(1, 81, base=3)"], "fidelity(1, 81, base=3)"),
    ],
)
def test_canonical_text_is_shared_and_parses_back(texts: list[str], canonical: str) -> None:
    priors = [parse_prior(text) for text in texts]
    assert {prior.text() for prior in priors} == {canonical}
    assert parse_prior(canonical) == priors[0]
    assert len(set(priors)) == 1


def test_choice_canonical_text_of_quoted_strings_round_trips() -> None:
    prior = ChoicePrior(("it's", 'say "hi"', "back\\slash", "é", "uniform", ""))
    assert parse_prior(prior.text()) == prior
    assert parse_prior(prior.text()).values() == prior.values()


def test_grid_of_ints_and_grid_of_floats_are_different_priors() -> None:
    assert parse_prior("grid(0, 10, step=2)") != parse_prior("grid(0.0, 10.0, step=2.0)")
    assert parse_prior("uniform(0, 1)") != parse_prior("loguniform(0.5, 1)")


def test_priors_built_in_python_validate_their_arguments() -> None:
    assert UniformPrior(0, 1) == parse_prior("uniform(0, 1)")
    assert GridPrior(0, 1, 0.25).values() == (0.0, 0.25, 0.5, 0.75, 1.0)
    with pytest.raises(SpaceError, match="high must be greater than low"):
        UniformPrior(1, 0)
    with pytest.raises(SpaceError, match="low must be > 0"):
        LogUniformPrior(0, 1)
    with pytest.raises(SpaceError, match="randint needs integers"):
        RandIntPrior(1, 2.5)  # type: ignore[arg-type]
    with pytest.raises(SpaceError, match="duplicate"):
        ChoicePrior(("a", "a"))
    with pytest.raises(SpaceError, match="not a number, string"):
        ConstantPrior([1, 2])  # type: ignore[arg-type]


def test_priors_are_immutable() -> None:
    prior = parse_prior("uniform(0, 1)")
    with pytest.raises(AttributeError):
        prior.low = 5  # type: ignore[attr-defined]
