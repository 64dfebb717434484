"""The `metaopt` command as a user runs it: real processes, a real embedded daemon."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from metaopt import history as metaopt_history
from metaopt._control import Client
from tests.helpers import CLI
from tests.helpers import SCRIPTS
from tests.helpers import metaopt
from tests.helpers import wait_until


def test_run_to_the_end_prints_the_best_trial(tmp_path):
    out = metaopt(
        tmp_path,
        "--max-trials",
        "4",
        "--parallel",
        "2",
        "--objective",
        "loss",
        "quadratic.py",
        "--x~uniform(0, 1)",
        "--steps=2",
    )
    assert out.returncode == 0, out.stderr
    assert "quadratic: created" in out.stdout
    assert "quadratic: done" in out.stdout
    assert "best trial" in out.stdout
    assert "loss=" in out.stdout
    status = metaopt(tmp_path, "status")  # no daemon now: read from the files
    assert status.returncode == 0, status.stderr
    assert "quadratic" in status.stdout
    assert "done" in status.stdout
    assert "4/4" in status.stdout
    assert not (tmp_path / "metaoptd.sock").exists()  # the embedded daemon is gone
    log = (tmp_path / "metaoptd.log").read_text()
    assert "stopped" in log
    assert "Traceback" not in log  # a normal shutdown logs no CancelledError


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.py", "--x~uniform(0, 1)"], "script not found: missing.py"),
        (["no-such-program-xyz", "--x~uniform(0, 1)"], "command not found: no-such-program-xyz"),
        (["quadratic.py", "--x~loguniform(0, 1)"], "--x: low must be > 0"),
        (["quadratic.py", "--x~uniform(0, 1"], "--x:"),
        (["quadratic.py", "--x~unifrm(0, 1)"], "uniform"),
        (
            ["--algo", "grid", "quadratic.py", "--x~uniform(0, 1)"],
            "grid search needs a finite space",
        ),
        (["--algo", "nope", "quadratic.py", "--x~uniform(0, 1)"], "unknown algorithm 'nope'"),
        (
            ["--algo", "asha", "quadratic.py", "--x~uniform(0, 1)"],
            "asha needs a budget to allocate",
        ),
        (["--algo", "list", "quadratic.py", "--x~uniform(0, 1)"], "--configs"),
        (["--algo-option", "n_initial", "quadratic.py", "--x~uniform(0, 1)"], "KEY=NUMBER"),
        (["--algo-option", "n_init=3", "quadratic.py", "--x~uniform(0, 1)"], "n_init"),
        (
            [
                "--algo",
                "evolution",
                "--algo-option",
                "sigma=-1",
                "quadratic.py",
                "--x~uniform(0, 1)",
            ],
            "sigma must be a number >= 0",
        ),
        ([], "give a script to run"),
    ],
)
def test_user_errors_are_refused_before_anything_runs(tmp_path, args, message):
    out = metaopt(tmp_path, *args)
    assert out.returncode == 2
    assert message in out.stderr
    assert not (tmp_path / "store.leveldb").exists()


def test_prior_error_points_at_the_spot(tmp_path):
    out = metaopt(tmp_path, "quadratic.py", "--x~uniform(1, 0)")
    lines = out.stderr.splitlines()
    assert "--x" in lines[0]
    assert "greater than" in lines[0]
    caret = next(line for line in lines if line.strip() == "^")
    text_line = next(line for line in lines if "uniform(1, 0)" in line)
    assert text_line[caret.index("^")] in "0"


def test_ctrl_c_interrupts_then_the_same_command_resumes(tmp_path):
    args = [
        "--max-trials",
        "2",
        "--parallel",
        "2",
        "--objective",
        "loss",
        "sleeper.py",
        "--x~uniform(0, 1)",
        "--seconds=60",
    ]
    proc = subprocess.Popen(
        [*CLI, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "METAOPT_HOME": str(tmp_path)},
        cwd=SCRIPTS,
        # A shell starts background jobs with SIGINT ignored, and Python keeps it so: restore
        # the default, so that this test sees what Ctrl-C does in a terminal wherever it runs.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    client = Client(tmp_path / "metaoptd.sock")

    def running() -> bool:
        try:
            return client.call("status", name="sleeper")[0]["counts"].get("running") == 2
        except Exception:
            return False

    wait_until(running, what="two trials running")
    pids = wait_until(
        lambda: len(p := list(tmp_path.glob("trials/sleeper/*/trial.pid"))) == 2 and p
    )
    pids = [int(p.read_text()) for p in pids]
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "run the same command again to resume" in err
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    status = metaopt(tmp_path, "status", "sleeper")
    assert "requeued" in status.stdout.splitlines()[0]
    row = status.stdout.splitlines()[1].split()
    assert row[1] == "stopped"  # not `running` with nothing running
    assert row[5] == "2"  # two trials requeued

    start = time.monotonic()
    out = metaopt(tmp_path, *args)
    assert out.returncode == 0, out.stderr
    assert "sleeper: running" not in out.stdout
    assert time.monotonic() - start < 55  # resumed from checkpoints, not the 60 s sleep again
    hist = metaopt(tmp_path, "history", "sleeper", "--json")
    trials = [json.loads(line) for line in hist.stdout.splitlines()]
    assert [t["attempt"] for t in trials] == [2, 2]
    assert all(t["curve"][-1]["runs"] == 2 for t in trials)


def test_submit_to_a_running_daemon_returns_at_once(start_daemon, tmp_path):
    daemon = start_daemon(data_dir=tmp_path)
    out = metaopt(tmp_path, "--max-trials", "2", "quadratic.py", "--x~uniform(0, 1)")
    assert out.returncode == 0, out.stderr
    assert "submitted" in out.stdout
    followed = metaopt(
        tmp_path, "--max-trials", "2", "--follow", "quadratic.py", "--x~uniform(0, 1)"
    )
    assert followed.returncode == 0, followed.stderr
    assert "quadratic: done" in followed.stdout
    assert daemon.client.is_alive()


def test_same_name_different_space_is_explained(tmp_path):
    assert (
        metaopt(tmp_path, "--max-trials", "1", "quadratic.py", "--x~uniform(0, 1)").returncode == 0
    )
    out = metaopt(tmp_path, "--max-trials", "1", "quadratic.py", "--x~uniform(0, 5)")
    assert out.returncode == 1
    assert "already exists with a different definition" in out.stderr
    assert "parameter x: stored uniform(0, 1), given uniform(0, 5)" in out.stderr


def test_broken_experiment_exits_non_zero_with_the_stderr_tail(tmp_path):
    out = metaopt(tmp_path, "--max-broken", "2", "crash.py", "--x~uniform(0, 1)")
    assert out.returncode == 1
    assert "broken" in out.stdout
    assert "is not welcome" in out.stdout


def test_top_history_and_status(tmp_path):
    assert (
        metaopt(
            tmp_path,
            "--max-trials",
            "3",
            "--objective",
            "loss",
            "quadratic.py",
            "--x~uniform(0, 1)",
        ).returncode
        == 0
    )
    top = metaopt(tmp_path, "top", "quadratic", "-k", "2")
    assert top.returncode == 0, top.stderr
    rows = top.stdout.splitlines()
    assert rows[0].split()[:3] == ["rank", "trial", "loss"]
    assert len(rows) == 3
    assert float(rows[1].split()[2]) <= float(rows[2].split()[2])
    csv_out = metaopt(tmp_path, "history", "quadratic", "--csv")
    assert csv_out.stdout.splitlines()[0] == "trial,status,loss,steps,node,attempt,x"
    assert rows[0].split() == ["rank", "trial", "loss", "steps", "x"]  # the same order
    assert len(csv_out.stdout.splitlines()) == 4
    missing = metaopt(tmp_path, "status", "nope")
    assert missing.returncode == 1
    assert "no experiment named 'nope'" in missing.stderr


def test_cli_start_imports_nothing_heavy():
    code = (
        "import sys; from metaopt.cli import main; "
        "heavy = ('pandas', 'numpy', 'sklearn', 'skopt', 'matplotlib'); "
        "heavy = [m for m in heavy if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_embedded_daemon_ignores_a_metaopt_folder_in_the_working_directory(tmp_path):
    work = tmp_path / "work"
    (work / "metaopt").mkdir(parents=True)
    (work / "metaopt" / "__init__.py").write_text("raise ImportError('shadowed')\n")
    job = work / "job.sh"
    job.write_text((SCRIPTS / "report.sh").read_text())
    job.chmod(0o755)
    cli = [sys.executable, "-P", *CLI[1:]]  # as the `metaopt` script runs: cwd not on sys.path
    out = subprocess.run(
        [*cli, "--max-trials", "1", "./job.sh", "--x~uniform(0, 1)"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "METAOPT_HOME": str(tmp_path / "home")},
        cwd=work,
    )
    assert "shadowed" not in out.stdout + out.stderr
    assert "job: done" in out.stdout


def test_a_foreground_run_runs_only_its_own_experiment(start_daemon, tmp_path):
    """Experiments a standalone daemon left running wait for it, not for any `metaopt` run."""
    daemon = start_daemon(data_dir=tmp_path)
    daemon.submit("sleeper.py", "--x~uniform(0, 1)", "--seconds=60", max_trials=3)
    wait_until(lambda: list(tmp_path.glob("trials/exp/*/trial.pid")), what="a trial of exp")
    daemon.stop()
    out = metaopt(tmp_path, "--max-trials", "2", "quadratic.py", "--x~uniform(0, 1)")
    assert out.returncode == 0, out.stderr
    assert "quadratic: done" in out.stdout
    left = metaopt_history("exp", data_dir=tmp_path)
    assert left.experiment.status.label == "running"
    assert [(t.status.label, t.attempt) for t in left] == [("interrupted", 1)]
