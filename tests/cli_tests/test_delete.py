"""`metaopt delete`: a confirmed deletion, written as a tombstone that survives restarts."""

from __future__ import annotations

import os
import subprocess

import pytest

import metaopt
from metaopt.errors import ControlError
from tests.helpers import CLI
from tests.helpers import SCRIPTS
from tests.helpers import metaopt as run_metaopt
from tests.helpers import wait_until

RUN = ["--max-trials", "2", "--objective", "loss", "quadratic.py", "--x~uniform(0, 1)"]


def test_delete_with_a_daemon_survives_its_restart(start_daemon, tmp_path):
    node = tmp_path / "node"
    daemon = start_daemon(data_dir=node)
    daemon.submit("quadratic.py", "--x~uniform(0, 1)", max_trials=2)
    daemon.wait_status("done")
    assert len(list((node / "trials" / "exp").iterdir())) == 2

    refused = run_metaopt(node, "delete", "exp")  # no terminal to confirm on, no -y
    assert refused.returncode == 1
    assert "confirm with -y" in refused.stderr
    assert daemon.summary()["status"] == "done"

    out = run_metaopt(node, "delete", "-y", "exp")
    assert out.returncode == 0, out.stderr
    assert "exp: deleted with its 2 trial(s) and their folders" in out.stdout
    assert not (node / "trials" / "exp").exists()
    gone = run_metaopt(node, "history", "exp")
    assert gone.returncode == 1
    assert "experiment 'exp' was deleted" in gone.stderr

    daemon.stop()
    daemon = start_daemon(data_dir=node)
    assert daemon.call("status") == []
    assert "experiment 'exp' was deleted" in run_metaopt(node, "status", "exp").stderr
    daemon.submit("quadratic.py", "--x~uniform(0, 1)", max_trials=1)  # the name is free again
    assert daemon.wait_status("done")["counts"] == {"completed": 1}
    assert len(metaopt.history("exp", data_dir=node)) == 1  # nothing of the old one came back


def test_deleting_a_running_experiment_stops_its_trials_first(start_daemon, tmp_path):
    daemon = start_daemon("--slots", "2", data_dir=tmp_path / "node")
    daemon.submit("sleeper.py", "--x~uniform(0, 1)", "--seconds=60", max_trials=2)
    pids = wait_until(
        lambda: len(p := list(daemon.data_dir.glob("trials/exp/*/trial.pid"))) == 2 and p,
        what="two trials running",
    )
    pids = [int(p.read_text()) for p in pids]
    out = run_metaopt(daemon.data_dir, "delete", "-y", "exp")
    assert out.returncode == 0, out.stderr
    assert "2 running trial(s) stopped first" in out.stdout
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}")
    assert not (daemon.data_dir / "trials" / "exp").exists()
    with pytest.raises(ControlError, match="was deleted"):
        daemon.summary()


def test_delete_with_no_daemon_writes_the_tombstone_itself(start_daemon, tmp_path):
    node = tmp_path / "node"
    assert run_metaopt(node, *RUN).returncode == 0
    out = run_metaopt(node, "delete", "--yes", "quadratic")
    assert out.returncode == 0, out.stderr
    assert "quadratic: deleted with its 2 trial(s)" in out.stdout
    assert not (node / "trials" / "quadratic").exists()
    assert "no experiments yet" in run_metaopt(node, "status").stdout
    daemon = start_daemon(data_dir=node)  # the daemon that starts next finds it deleted
    assert daemon.call("status") == []
    again = run_metaopt(node, "--follow", *RUN)
    assert again.returncode == 0, again.stderr
    assert "quadratic: created" in again.stdout
    assert "quadratic: done (2 trials completed)" in again.stdout


def test_delete_asks_on_a_terminal(tmp_path):
    node = tmp_path / "node"
    assert run_metaopt(node, *RUN).returncode == 0

    def answer(text: str) -> subprocess.CompletedProcess[str]:
        leader, follower = os.openpty()
        try:
            proc = subprocess.Popen(
                [*CLI, "delete", "quadratic"],
                stdin=follower,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={**os.environ, "METAOPT_HOME": str(node)},
                cwd=SCRIPTS,
            )
            os.write(leader, text.encode())
            out, err = proc.communicate(timeout=60)
        finally:
            os.close(leader)
            os.close(follower)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

    kept = answer("n\n")
    assert kept.returncode == 1
    assert "not deleted" in kept.stderr
    assert "quadratic" in run_metaopt(node, "status").stdout
    deleted = answer("y\n")
    assert deleted.returncode == 0, deleted.stderr
    assert "quadratic: deleted" in deleted.stdout


def test_delete_of_an_unknown_name_lists_what_there_is(tmp_path):
    node = tmp_path / "node"
    assert run_metaopt(node, *RUN).returncode == 0
    out = run_metaopt(node, "delete", "-y", "nope")
    assert out.returncode == 1
    assert "no experiment named 'nope'" in out.stderr
    assert "(experiments: quadratic)" in out.stderr
