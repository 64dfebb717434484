"""Every malformed prior raises SpaceError naming the flag and the reason, with a caret on it."""

from __future__ import annotations

import pytest

from metaopt.errors import SpaceError
from metaopt.space import PRIORS
from metaopt.space import parse_prior

# text, column of the caret, words the reason must contain
ERRORS = [
    ("logunif(0, 1)", 0, "unknown prior 'logunif'"),
    ("Uniform(0, 1)", 0, "unknown prior 'Uniform'"),
    ("3(0, 1)", 0, "unknown prior '3'"),
    ("uniform(0, 1", 7, "unbalanced parenthesis: '(' is never closed"),
    ("uniform(", 7, "unbalanced parenthesis"),
    ("uniform(0,", 7, "unbalanced parenthesis"),
    ("uniform(0, 1))", 13, "unbalanced parenthesis: unexpected ')'"),
    ("uniform(0)", 9, "missing argument high: uniform(low, high)"),
    ("uniform()", 8, "missing argument low"),
    ("grid(0, 1)", 9, "missing argument step: grid(low, high, step)"),
    ("uniform(0, 1, 2)", 14, "too many arguments: uniform(low, high)"),
    ("fidelity(1, 5, 2, 3)", 18, "too many arguments: fidelity(low, high, base=2)"),
    ("uniform(0, 1, foo=3)", 14, "unknown argument 'foo'"),
    ("grid(0, 1, stride=0.1)", 11, "unknown argument 'stride': grid(low, high, step)"),
    ("uniform(low=0, 1)", 15, "positional argument after a keyword argument"),
    ("uniform(0, low=1)", 11, "argument low given twice"),
    ("choice(x=1)", 7, "choice takes no keyword arguments"),
    ("uniform(a, 1)", 8, "low must be a number, got 'a'"),
    ("uniform(0, '1')", 11, "high must be a number, got '1'"),
    ("normal(zero, 1)", 7, "mu must be a number"),
    ("grid(0, 1, step=x)", 16, "step must be a number"),
    ("uniform(0, inf)", 11, "high must be a number, got 'inf'"),
    ("uniform(1e999, 2)", 8, "number out of range"),
    ("loguniform(0, 1)", 11, "low must be > 0"),
    ("loguniform(-1e-3, 1)", 11, "low must be > 0"),
    ("uniform(1, 1)", 11, "high must be greater than low"),
    ("uniform(2, -1)", 11, "high must be greater than low"),
    ("loguniform(0.1, 0.01)", 16, "high must be greater than low"),
    ("normal(0, 0)", 10, "sigma must be > 0"),
    ("randint(1.5, 3)", 8, "randint needs integers: low is 1.5"),
    ("randint(1, 3.0)", 11, "randint needs integers: high is 3.0"),
    ("randint(3, 3)", 11, "high must be greater than low"),
    ("choice()", 7, "choice needs at least one value"),
    ("choice(adam, sgd, adam)", 18, "duplicate value adam"),
    ("choice(1, 2, 1.0)", 13, "duplicate value 1.0"),
    ("grid(0, 1, step=0)", 16, "step must be > 0"),
    ("grid(0, 1, step=-0.1)", 16, "step must be > 0"),
    ("grid(1, 0, step=0.1)", 8, "high must be >= low"),
    ("grid(0, 1e9, step=1e-3)", 18, "more than 100000 values; use a larger step"),
    ("geometric(1, 10, factor=1)", 24, "factor must be > 1"),
    ("geometric(1, 10, factor=0.5)", 24, "factor must be > 1"),
    ("geometric(0, 10, factor=2)", 10, "low must be > 0"),
    ("geometric(10, 1, factor=2)", 14, "high must be >= low"),
    ("fidelity(0, 10)", 9, "low must be >= 1"),
    ("fidelity(1, 10.5)", 12, "fidelity needs integers"),
    ("fidelity(5, 5)", 12, "high must be greater than low"),
    ("fidelity(1, 10, base=1)", 21, "base must be > 1"),
    ("uniform(0, 1) extra", 14, "unexpected text after ')'"),
    ("uniform(0, 1),", 13, "unexpected text after ')'"),
    ("uniform(0,, 1)", 10, "missing argument"),
    ("uniform(, 1)", 8, "missing argument"),
    ("grid(0, 1, step=)", 16, "missing value for step"),
    ("uniform((0), 1)", 8, "unexpected '('"),
    ("uniform(0 1)", 10, "expected ',' or ')' before '1'"),
    ("choice('adam, sgd)", 7, "unterminated string"),
    ("loguniform", 10, "loguniform needs arguments: loguniform(low, high)"),
    ("3 4", 2, "a constant is one value"),
    ("(0, 1)", 0, "expected a prior name or a value"),
]


@pytest.mark.parametrize(("text", "column", "reason"), ERRORS)
def test_malformed_prior_points_at_the_column(text: str, column: int, reason: str) -> None:
    with pytest.raises(SpaceError) as caught:
        parse_prior(text, flag="--lr")
    error = caught.value
    assert reason in error.reason
    assert (error.flag, error.text, error.position) == ("--lr", text, column)
    lines = str(error).splitlines()
    assert lines[0].startswith("--lr: ")
    assert reason in lines[0]
    assert lines[1] == f"    {text}"
    assert lines[2] == " " * (4 + column) + "^"


def test_unknown_prior_suggests_the_closest_name_and_lists_the_known_ones() -> None:
    with pytest.raises(SpaceError) as caught:
        parse_prior("loguniorm(1e-5, 1)", flag="--lr")
    reason = caught.value.reason
    assert "did you mean loguniform?" in reason
    assert all(name in reason for name in PRIORS)


def test_unknown_prior_far_from_any_name_gets_no_suggestion() -> None:
    with pytest.raises(SpaceError) as caught:
        parse_prior("zzz(1)")
    assert "did you mean" not in caught.value.reason


def test_empty_prior_is_refused() -> None:
    with pytest.raises(SpaceError, match="empty prior") as caught:
        parse_prior("   ", flag="--lr")
    assert caught.value.position == 0


def test_error_without_flag_starts_with_the_reason() -> None:
    with pytest.raises(SpaceError) as caught:
        parse_prior("uniform(1, 0)")
    assert str(caught.value).startswith("high must be greater than low\n")


def test_caret_counts_leading_whitespace() -> None:
    with pytest.raises(SpaceError) as caught:
        parse_prior("  loguniform(0, 1)")
    assert caught.value.position == 13
