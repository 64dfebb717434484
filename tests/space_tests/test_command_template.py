"""parse_command and CommandTemplate: searched flags out, everything else through, in order."""

from __future__ import annotations

import argparse
import json
import random

import pytest

from metaopt.errors import SpaceError
from metaopt.space import CommandTemplate
from metaopt.space import ConstantPrior
from metaopt.space import Space
from metaopt.space import parse_command

ORION_STYLE = [
    "train.py",
    "--lr~loguniform(1e-5, 1e-1)",
    "--layers~randint(1, 6)",
    "--opt~choice(adam, sgd)",
    "--epochs~fidelity(1, 50)",
    "--batch=32",
    "data/",
]


def test_parse_command_splits_template_and_space() -> None:
    template, space = parse_command(ORION_STYLE)
    assert template.args == tuple(ORION_STYLE)
    assert template.names == ("lr", "layers", "opt", "epochs")
    assert space == Space.from_dict(
        {
            "lr": "loguniform(1e-5, 1e-1)",
            "layers": "randint(1, 6)",
            "opt": "choice(adam, sgd)",
            "epochs": "fidelity(1, 50)",
        }
    )
    assert space.names == template.names
    params = {"lr": 0.001, "layers": 3, "opt": "sgd", "epochs": 50}
    assert template.render(params) == [
        "train.py",
        "--lr=0.001",
        "--layers=3",
        "--opt=sgd",
        "--epochs=50",
        "--batch=32",
        "data/",
    ]


def test_other_arguments_pass_through_unchanged_and_in_order() -> None:
    args = ["train.py", "--a=b", "--c", "d", "-x", "pos", "--n~randint(1, 3)", "-vv", "--", "z"]
    template, space = parse_command(args)
    assert space.names == ("n",)
    assert template.render({"n": 2}) == [
        "train.py",
        "--a=b",
        "--c",
        "d",
        "-x",
        "pos",
        "--n=2",
        "-vv",
        "--",
        "z",
    ]


@pytest.mark.parametrize(
    "arg", ["--out=~/runs", "~/runs", "--pattern=a~b", "data~1", "-", "--", "--a b~c"]
)
def test_tilde_outside_a_declaration_passes_through(arg: str) -> None:
    template, space = parse_command(["run.py", arg])
    assert len(space) == 0
    assert template.render({}) == ["run.py", arg]


def test_single_dash_flag_renders_as_two_arguments() -> None:
    template, space = parse_command(["train.py", "-n~randint(1, 3)", "-lr~uniform(0, 1)"])
    assert space.names == ("n", "lr")
    assert template.render({"n": 2, "lr": 0.25}) == ["train.py", "-n", "2", "-lr", "0.25"]


def test_flag_spelling_is_kept() -> None:
    template, space = parse_command(["t.py", "--learning-rate~uniform(0, 1)", "--d.p~choice(1)"])
    assert space.names == ("learning-rate", "d.p")
    assert template.render({"learning-rate": 0.5, "d.p": 1}) == [
        "t.py",
        "--learning-rate=0.5",
        "--d.p=1",
    ]


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        (3, "3"),
        (-2, "-2"),
        (2.0, "2.0"),
        (0.1, "0.1"),
        (1e-05, "1e-05"),
        (0.30000000000000004, "0.30000000000000004"),
        ("adam", "adam"),
        ("a b", "a b"),
        (True, "True"),
        (False, "False"),
        (None, "None"),
    ],
)
def test_render_formats_values_safely(value: object, rendered: str) -> None:
    template, _ = parse_command(["t.py", "--x~choice(1)"])
    assert template.render({"x": value}) == ["t.py", f"--x={rendered}"]


@pytest.mark.parametrize(
    ("arg", "value"),
    [("--seed~3", 3), ("--opt~adam", "adam"), ("--p~'a b'", "a b"), ("--f~0.5", 0.5)],
)
def test_bare_value_after_tilde_declares_a_constant(arg: str, value: object) -> None:
    template, space = parse_command(["t.py", arg])
    name = space.names[0]
    assert space[name] == ConstantPrior(value)  # type: ignore[arg-type]
    assert template.render(space.sample(random.Random(0))) == [
        "t.py",
        f"{arg.partition('~')[0]}={value}",
    ]


def test_rendered_command_parses_with_an_unchanged_argparse_script() -> None:
    template, space = parse_command(
        ["--lr~loguniform(1e-5, 1e-1)", "-n~randint(1, 6)", "--opt~choice(adam, sgd)", "--b=32"]
    )
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float)
    parser.add_argument("-n", type=int)
    parser.add_argument("--opt", choices=["adam", "sgd"])
    parser.add_argument("--b", type=int)
    for seed in range(20):
        params = space.sample(random.Random(seed))
        parsed = parser.parse_args(template.render(params))
        assert (parsed.lr, parsed.n, parsed.opt, parsed.b) == (
            params["lr"],
            params["n"],
            params["opt"],
            32,
        )


@pytest.mark.parametrize(
    "args",
    [
        ["--lr~uniform(0, 1)", "--lr~uniform(0, 2)"],
        ["-l~3", "--l~4"],
        ["--lr~uniform(0, 1)", "x", "--lr~3"],
    ],
)
def test_duplicate_parameter_names_are_refused(args: list[str]) -> None:
    with pytest.raises(SpaceError, match="declared twice") as caught:
        parse_command(args)
    assert caught.value.flag == args[-1].partition("~")[0]


@pytest.mark.parametrize("plain", ["--lr=0.1", "--lr"])
def test_searched_flag_also_passed_plainly_is_refused(plain: str) -> None:
    with pytest.raises(SpaceError, match="also passed") as caught:
        parse_command(["t.py", "--lr~uniform(0, 1)", plain, "0.1"])
    assert caught.value.flag == "--lr"


@pytest.mark.parametrize("arg", ["--~uniform(0, 1)", "-~3", "---lr~3", "--1x~3", "--a/b~3"])
def test_malformed_parameter_name_is_refused(arg: str) -> None:
    with pytest.raises(SpaceError, match="searched flag is") as caught:
        parse_command(["t.py", arg])
    assert caught.value.flag == arg.partition("~")[0]


def test_prior_error_carries_the_flag_and_the_column_in_the_prior_text() -> None:
    with pytest.raises(SpaceError) as caught:
        parse_command(["train.py", "--batch=32", "--lr~loguniform(0, 1)"])
    error = caught.value
    assert (error.flag, error.text, error.position) == ("--lr", "loguniform(0, 1)", 11)
    assert str(error).splitlines() == [
        "--lr: low must be > 0",
        "    loguniform(0, 1)",
        "               ^",
    ]


def test_template_round_trips_through_json_storage() -> None:
    template, _ = parse_command(ORION_STYLE)
    stored = json.dumps(template.to_list())
    again = CommandTemplate.from_list(json.loads(stored))
    assert again == template
    assert again.args == template.args
    params = {"lr": 0.01, "layers": 1, "opt": "adam", "epochs": 7}
    assert again.render(params) == template.render(params)


def test_render_refuses_missing_and_unknown_parameters() -> None:
    template, _ = parse_command(ORION_STYLE)
    with pytest.raises(SpaceError, match="no value") as caught:
        template.render({"lr": 0.01, "layers": 1, "opt": "adam"})
    assert caught.value.flag == "epochs"
    with pytest.raises(SpaceError, match="not a parameter") as caught:
        template.render({"lr": 0.01, "layers": 1, "opt": "adam", "epochs": 3, "wd": 0.1})
    assert caught.value.flag == "wd"


def test_template_args_are_an_immutable_copy() -> None:
    args = ["t.py", "--lr~uniform(0, 1)"]
    template, _ = parse_command(args)
    args.append("--extra")
    assert template.args == ("t.py", "--lr~uniform(0, 1)")
