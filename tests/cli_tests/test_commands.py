"""Commands that must not surprise: what is refused, where options go, versions, following."""

from __future__ import annotations

import pytest

from metaopt import __version__
from tests.helpers import metaopt
from tests.helpers import metaoptd


@pytest.mark.parametrize("words", [["rm", "k9"], ["ls"], ["cp", "k9", "k10"]])
def test_a_command_with_nothing_searched_is_refused_and_runs_nothing(tmp_path, words):
    victim = tmp_path / "k9"
    victim.write_text("keep me")
    out = metaopt(tmp_path / "home", *words, cwd=tmp_path)
    assert out.returncode == 2
    assert f"nothing to search in `{' '.join(words)}`" in out.stderr
    assert "--lr~'loguniform(1e-5, 1e-1)'" in out.stderr
    assert victim.read_text() == "keep me"
    assert not (tmp_path / "k10").exists()
    assert not (tmp_path / "home").exists()  # no experiment, no store, not even the folder


def test_a_mistyped_subcommand_gets_a_suggestion(tmp_path):
    out = metaopt(tmp_path, "stauts")
    assert out.returncode == 2
    assert "did you mean `metaopt status`?" in out.stderr
    late = metaopt(tmp_path, "--max-trials", "3", "history", "x")
    assert "`history` is a subcommand: it goes first" in late.stderr


def test_the_list_algorithm_is_not_refused_for_having_no_prior(tmp_path):
    """`--algo list` takes its points from --configs: its own error is the one to show."""
    out = metaopt(tmp_path, "--algo", "list", "quadratic.py")
    assert "nothing to search" not in out.stderr
    assert "--configs" in out.stderr


def test_data_dir_before_the_subcommand(tmp_path):
    node = tmp_path / "node"
    ran = metaopt(node, "--max-trials", "2", "quadratic.py", "--x~uniform(0, 1)")
    assert ran.returncode == 0, ran.stderr
    elsewhere = tmp_path / "elsewhere"  # METAOPT_HOME points here: only --data-dir finds it
    for args, expected in (
        (["--data-dir", str(node), "status"], "quadratic   done"),
        ([f"--data-dir={node}", "status", "quadratic"], "quadratic   done"),
        (["--data-dir", str(node), "top", "quadratic"], "rank  trial"),
        (["--data-dir", str(node), "history", "quadratic", "--csv"], "trial,status,"),
    ):
        out = metaopt(elsewhere, *args)
        assert out.returncode == 0, (args, out.stderr)
        assert expected in out.stdout, (args, out.stdout)
    assert "no experiments yet" in metaopt(elsewhere, "status").stdout


def test_versions():
    assert metaopt(None, "--version").stdout.strip() == f"metaopt {__version__}"
    assert metaoptd("--version").stdout.strip() == f"metaoptd {__version__}"


def test_help_lists_the_subcommands(tmp_path):
    out = metaopt(tmp_path, "--help")
    assert out.returncode == 0
    for name in ("status", "follow", "top", "history", "stop", "resume", "delete"):
        assert f"  {name} " in out.stdout


@pytest.mark.parametrize("how", [["follow", "exp"], ["status", "exp", "--follow"]])
def test_following_an_experiment_by_name(start_daemon, how):
    daemon = start_daemon()
    daemon.submit("quadratic.py", "--x~uniform(0, 1)", "--sleep=0.2", max_trials=3)
    out = metaopt(daemon.data_dir, *how)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert any("completed, " in line and " elapsed" in line for line in lines)
    assert any(line.endswith(" left") for line in lines)  # an estimate once a trial is done
    assert "exp: done (3 trials completed)" in lines
    assert any(line.startswith("best trial ") for line in lines)


def test_following_with_no_daemon_says_where_to_look(tmp_path):
    out = metaopt(tmp_path, "follow", "exp")
    assert out.returncode == 1
    assert "no metaoptd is running" in out.stderr
    assert "`metaopt status exp`" in out.stderr


def test_status_without_a_daemon_says_nothing_runs_a_running_experiment(start_daemon):
    daemon = start_daemon()
    daemon.submit("sleeper.py", "--x~uniform(0, 1)", "--seconds=60", max_trials=1)
    daemon.wait_status("running")
    daemon.stop()  # a standalone daemon's experiments stay running: its next start goes on
    out = metaopt(daemon.data_dir, "status")
    assert "running" in out.stdout
    assert "no metaoptd runs on this data dir" in out.stdout
