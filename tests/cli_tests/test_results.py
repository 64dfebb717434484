"""Honest ends and clear errors: wrong objectives, failed searches, bad data dirs, pipes, JSON."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import CLI
from tests.helpers import metaopt

ROOT = Path(__file__).resolve().parents[2]
QUADRATIC = ["quadratic.py", "--x~uniform(0, 1)"]
# Python's json reads NaN and Infinity unless told not to: this parser refuses them, as jq does
STRICT_JSON_LINES = (
    "import json, sys\n"
    "def refuse(name): raise ValueError(name)\n"
    "[json.loads(line, parse_constant=refuse) for line in sys.stdin]\n"
)


def test_a_wrong_objective_lists_the_metrics_that_were_reported(tmp_path):
    out = metaopt(tmp_path, "--max-trials", "5", "--objective", "accuracy", *QUADRATIC)
    assert out.returncode == 1
    assert "quadratic: broken" in out.stdout
    assert "no trial reported the objective 'accuracy'" in out.stdout
    assert "the trials reported: loss, step_seen" in out.stdout
    assert "--objective loss" in out.stdout
    status = metaopt(tmp_path, "status", "quadratic")
    assert status.stdout.splitlines()[1].split()[1:3] == ["broken", "1/5"]
    hist = metaopt(tmp_path, "history", "quadratic", "--json")
    assert len(hist.stdout.splitlines()) == 1  # it stopped at the first trial that showed it


def test_when_every_trial_fails_the_output_says_so_with_the_last_stderr(tmp_path):
    out = metaopt(tmp_path, "--algo", "grid", "--max-broken", "9", "crash.py", "--x~choice(1, 2)")
    assert out.returncode == 1
    assert "crash: broken" in out.stdout
    assert "every trial failed" in out.stdout
    assert "boom: x=" in out.stdout  # the last failure's stderr tail
    streak = metaopt(tmp_path / "b", "--max-broken", "2", "crash.py", "--x~uniform(0, 1)")
    assert streak.returncode == 1
    assert "every trial failed: 2 in a row (--max-broken 2)" in streak.stdout


def test_a_script_that_never_reports_is_not_a_success(tmp_path):
    silent = tmp_path / "silent.sh"
    silent.write_text("#!/bin/sh\nexit 0\n")
    silent.chmod(0o755)
    out = metaopt(tmp_path / "home", "--max-broken", "2", str(silent), "--x~uniform(0, 1)")
    assert out.returncode == 1
    assert "completed without reporting any metric" in out.stdout
    assert "metaopt.report(step, loss=...)" in out.stdout


def test_resume_says_what_it_did(start_daemon, tmp_path):
    daemon = start_daemon(data_dir=tmp_path / "node")
    daemon.submit("quadratic.py", "--x~uniform(0, 1)", max_trials=1)
    daemon.wait_status("done")
    done = metaopt(daemon.data_dir, "resume", "exp")
    assert done.returncode == 1
    assert "exp is done (1 trials completed): nothing is left to run" in done.stdout
    assert "metaopt resume exp --max-trials N" in done.stdout
    more = metaopt(daemon.data_dir, "resume", "exp", "--max-trials", "2")
    assert more.returncode == 0, more.stderr
    assert "exp: resumed" in more.stdout
    assert daemon.wait_status("done")["counts"] == {"completed": 2}
    stop = metaopt(daemon.data_dir, "stop", "exp")
    assert stop.returncode == 0
    assert "exp is already done; nothing to stop" in stop.stdout


@pytest.mark.parametrize("command", ["stop", "resume", "delete"])
@pytest.mark.parametrize("with_daemon", [True, False])
def test_steering_an_unknown_name_says_so(start_daemon, tmp_path, command, with_daemon):
    node = tmp_path / "node"
    assert metaopt(node, "--max-trials", "1", *QUADRATIC).returncode == 0
    if with_daemon:
        start_daemon(data_dir=node)
    out = metaopt(node, command, "nope", *(["-y"] if command == "delete" else []))
    assert out.returncode == 1
    assert "no experiment named 'nope'" in out.stderr
    assert "quadratic" in out.stderr


def test_stop_with_no_daemon_records_the_stop(start_daemon, tmp_path):
    daemon = start_daemon(data_dir=tmp_path / "node")
    daemon.submit("sleeper.py", "--x~uniform(0, 1)", "--seconds=60", max_trials=1)
    daemon.wait_status("running")
    daemon.stop()
    out = metaopt(daemon.data_dir, "stop", "exp")
    assert out.returncode == 0, out.stderr
    assert "exp: stopped, no metaoptd runs here" in out.stdout
    daemon = start_daemon(data_dir=daemon.data_dir)  # it does not start the stopped experiment
    assert daemon.summary()["status"] == "stopped"
    assert daemon.call("ping")["running"] == 0
    resumed = metaopt(daemon.data_dir, "resume", "exp")
    assert "exp: resumed" in resumed.stdout


@pytest.mark.parametrize("where", ["file", "under_a_file", "unwritable"])
def test_a_bad_data_dir_is_one_line_that_says_what_and_where(tmp_path, where):
    blocker = tmp_path / "file"
    blocker.write_text("")
    data_dir = {
        "file": blocker,
        "under_a_file": blocker / "node",
        "unwritable": Path("/proc/metaopt-test/node"),
    }[where]
    for args in ([*QUADRATIC], ["status"], ["history", "x"]):
        out = metaopt(None, "--data-dir", str(data_dir), *args)
        if where == "unwritable" and args == ["status"]:
            continue  # nothing to read there and nothing is created: "no experiments" is right
        assert out.returncode != 0, (args, out.stdout)
        assert out.stderr.count("\n") == 1, out.stderr  # one line: no traceback
        assert str(data_dir) in out.stderr


def test_history_into_a_closed_pipe_ends_quietly(tmp_path):
    assert metaopt(tmp_path, "--max-trials", "3", *QUADRATIC).returncode == 0
    for form in ([], ["--json"], ["--csv"]):
        proc = subprocess.Popen(
            [*CLI, "history", "quadratic", *form],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "METAOPT_HOME": str(tmp_path)},
        )
        assert proc.stdout is not None
        proc.stdout.close()  # as `| head` does once it has its lines
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 141, err
        assert err == b""
    shell = subprocess.run(
        ["bash", "-c", f"{shlex.join(CLI)} top quadratic | true"],
        capture_output=True,
        text=True,
        env={**os.environ, "METAOPT_HOME": str(tmp_path)},
    )
    assert "Traceback" not in shell.stderr


def test_history_json_is_json_lines_with_status_names_and_null_for_non_finite(tmp_path):
    odd = tmp_path / "odd.sh"
    odd.write_text(
        "#!/bin/sh\n"
        'echo "metaopt: step=0 loss=nan spread=inf"\n'
        'echo "metaopt: step=1 loss=0.5 spread=-inf"\n'
    )
    odd.chmod(0o755)
    home = tmp_path / "home"
    assert metaopt(home, "--max-trials", "2", str(odd), "--x~uniform(0, 1)").returncode == 0
    out = metaopt(home, "history", "odd", "--json")
    lines = out.stdout.splitlines()
    assert len(lines) == 2
    jq_like = subprocess.run(  # what a strict parser makes of it, line by line
        [sys.executable, "-c", STRICT_JSON_LINES],
        input=out.stdout,
        capture_output=True,
        text=True,
    )
    assert jq_like.returncode == 0, jq_like.stderr
    for line in lines:
        trial = json.loads(line)
        assert trial["status"] == "completed"
        assert trial["objective"] == 0.5
        assert trial["curve"] == [
            {"step": 0, "loss": None, "spread": None},
            {"step": 1, "loss": 0.5, "spread": None},
        ]
        assert set(trial["params"]) == {"x"}


def test_to_dataframe_without_pandas_says_what_to_install(tmp_path):
    assert metaopt(tmp_path, "--max-trials", "1", *QUADRATIC).returncode == 0
    code = (
        "import sys; sys.modules['pandas'] = None\n"  # as if it were not installed
        "import metaopt\n"
        "metaopt.history('quadratic').to_dataframe()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "METAOPT_HOME": str(tmp_path)},
    )
    assert out.returncode == 1
    assert "ImportError: History.to_dataframe needs pandas: pip install 'metaopt[pandas]'" in (
        out.stderr
    )


def test_import_from_a_checkout_uses_the_installed_copy(tmp_path):
    """`pip install .`, then Python started in the checkout: its sources have no built core."""
    site = tmp_path / "site-packages"  # what `pip install .` leaves: sources and the core
    shutil.copytree(ROOT / "metaopt", site / "metaopt")
    shutil.copytree(ROOT / "daemon" / "metaoptd", site / "metaoptd")
    assert list((site / "metaopt").glob("_core*.so")), "the checkout's core is not built"
    checkout = tmp_path / "checkout"  # the sources alone, first on sys.path from here
    shutil.copytree(ROOT / "metaopt", checkout / "metaopt")
    for built in (checkout / "metaopt").glob("_core*.so"):
        built.unlink()
    home = tmp_path / "home"
    assert metaopt(home, "--max-trials", "1", *QUADRATIC).returncode == 0
    env = {**os.environ, "PYTHONPATH": str(site), "METAOPT_HOME": str(home)}
    snippet = "import metaopt; print(metaopt.history('quadratic').best().params)"
    out = subprocess.run(
        [sys.executable, "-c", snippet], capture_output=True, text=True, env=env, cwd=checkout
    )
    assert out.returncode == 0, out.stderr
    assert "'x':" in out.stdout
    daemon = subprocess.run(  # what a benchmark run from the checkout starts
        [sys.executable, "-m", "metaoptd", "--data-dir", str(home), "status"],
        capture_output=True,
        text=True,
        env=env,
        cwd=checkout,
    )
    assert daemon.returncode == 3, daemon.stderr
    assert "not running" in daemon.stdout
