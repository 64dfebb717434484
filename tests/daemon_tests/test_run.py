"""A real metaoptd running real trial processes to the end of an experiment."""

from __future__ import annotations

import json
import stat

import pytest

import metaopt
from metaopt.errors import ControlError
from tests.helpers import wait_until


def test_experiment_runs_to_completion(start_daemon):
    daemon = start_daemon("--slots", "2")
    daemon.submit("quadratic.py", "--x~uniform(0, 1)", "--steps=3", max_trials=6, objective="loss")
    summary = daemon.wait_status("done")
    assert summary["counts"] == {"completed": 6}
    hist = metaopt.history("exp", data_dir=daemon.data_dir)
    assert len(hist) == 6
    for trial in hist:
        assert [step for step, _ in trial.curve] == [0, 1, 2]
        assert trial.objective("loss") == pytest.approx((trial.params["x"] - 0.3) ** 2)
    best = hist.best()
    assert best.id == summary["best_trial"]
    assert best.objective("loss") == min(t.objective("loss") for t in hist)


def test_crashing_trial_is_failed_with_stderr_tail(start_daemon):
    daemon = start_daemon()
    daemon.submit("crash.py", "--x~uniform(0, 1)", max_trials=2, max_broken=2)
    summary = daemon.wait_status("broken")
    assert summary["counts"] == {"failed": 2}
    assert "every trial failed: 2 in a row" in summary["message"]
    assert "boom: x=" in summary["message"]  # the last failure's stderr, shown to the user
    trial = metaopt.history("exp", data_dir=daemon.data_dir).trials[0]
    assert trial.exit_code == 3
    assert "is not welcome" in trial.stderr_tail


def test_max_broken_counts_consecutive_failures_only(start_daemon):
    daemon = start_daemon()
    daemon.submit("crash.py", "--x~uniform(0, 1)", max_trials=10, max_broken=4)
    summary = daemon.wait_status("broken")
    assert summary["counts"]["failed"] == 4
    daemon.call("resume", name="exp")  # a resume starts a new streak
    summary = daemon.wait_status("broken")
    assert summary["counts"]["failed"] == 8


def test_missing_program_is_broken_not_a_crash_of_the_daemon(start_daemon):
    daemon = start_daemon()
    body = {
        "name": "gone",
        "command": ["/nonexistent/program", "--x~uniform(0, 1)"],
        "cwd": str(daemon.data_dir),
        "max_trials": 3,
        "max_broken": 1,
    }
    daemon.call("submit", experiment=body)
    summary = daemon.wait_status("broken", name="gone")
    assert summary["counts"] == {"broken": 1}
    assert "/nonexistent/program" in summary["message"]
    assert daemon.client.is_alive()


def test_program_reporting_on_stdout(start_daemon):
    daemon = start_daemon()
    daemon.submit("report.sh", "--x~choice(1, 2, 3)", max_trials=3, algo="grid", maximize=True)
    summary = daemon.wait_status("done")
    assert summary["objective"] == "score"
    assert summary["best_value"] == 3
    trial = metaopt.history("exp", data_dir=daemon.data_dir).best()
    assert trial.curve == ((0, {"score": 3.0}), (1, {"score": 3.0, "extra": 1.0}))


def test_grid_stops_when_exhausted(start_daemon):
    daemon = start_daemon("--slots", "2")
    daemon.submit(
        "quadratic.py", "--x~grid(0, 1, step=0.25)", max_trials=100, algo="grid", objective="loss"
    )
    summary = daemon.wait_status("done")
    assert summary["counts"] == {"completed": 5}
    assert "exhausted" in summary["message"]
    xs = sorted(t.params["x"] for t in metaopt.history("exp", data_dir=daemon.data_dir))
    assert xs == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_same_name_different_space_is_refused(start_daemon):
    daemon = start_daemon()
    daemon.submit("quadratic.py", "--x~uniform(0, 1)", max_trials=1)
    with pytest.raises(
        ControlError, match=r"parameter x: stored uniform\(0, 1\), given uniform\(0, 2\)"
    ):
        daemon.submit("quadratic.py", "--x~uniform(0, 2)", max_trials=1)
    with pytest.raises(ControlError, match="command"):
        daemon.submit("quadratic.py", "--x~uniform(0, 1)", "--steps=5", max_trials=1)


def test_control_socket_is_owner_only(start_daemon):
    daemon = start_daemon()
    mode = (daemon.data_dir / "metaoptd.sock").stat().st_mode
    assert stat.S_ISSOCK(mode)
    assert stat.S_IMODE(mode) == 0o600
    assert stat.S_IMODE(daemon.data_dir.stat().st_mode) & 0o077 == 0


def test_second_daemon_on_same_data_dir_refuses(start_daemon):
    import subprocess
    import sys

    daemon = start_daemon()
    other = subprocess.run(
        [sys.executable, "-m", "metaoptd", "--data-dir", str(daemon.data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert other.returncode == 3
    assert "a metaoptd is already running on" in other.stderr
    assert daemon.client.is_alive()


def test_history_reads_files_when_no_daemon_runs(start_daemon):
    daemon = start_daemon()
    daemon.submit("quadratic.py", "--x~uniform(0, 1)", max_trials=2)
    daemon.wait_status("done")
    assert daemon.stop() == 0
    hist = metaopt.history("exp", data_dir=daemon.data_dir)
    assert [t.status.label for t in hist] == ["completed", "completed"]
    frame = hist.to_dataframe()
    assert list(frame["status"]) == ["completed", "completed"]
    assert "param.x" in frame.columns
    wait_until(lambda: not (daemon.data_dir / "metaoptd.sock").exists(), what="socket removed")


def test_tinydb_backend_runs_an_experiment_and_is_readable(start_daemon):
    daemon = start_daemon("--storage", "tinydb", "--slots", "2")
    daemon.submit("quadratic.py", "--x~uniform(0, 1)", max_trials=3)
    assert daemon.wait_status("done")["counts"] == {"completed": 3}
    assert daemon.stop() == 0
    docs = json.loads((daemon.data_dir / "store.json").read_text())["records"].values()
    trials = [d["value"] for d in docs if d["key"].startswith("trial/")]
    assert [t["status"] for t in trials] == [4, 4, 4]  # readable: records are JSON, not strings
    assert len(metaopt.history("exp", data_dir=daemon.data_dir)) == 3
