"""`metaoptd stop`, `metaoptd status` and a second `--detach`, on a real detached daemon."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from metaopt._control import Client
from tests.helpers import SCRIPTS
from tests.helpers import metaoptd
from tests.helpers import wait_until


@pytest.fixture
def detached(tmp_path: Path) -> Iterator[Path]:
    """A data dir with a detached metaoptd; whatever the test does, nothing is left running."""
    data_dir = tmp_path / "node"
    out = metaoptd("--data-dir", str(data_dir), "--detach", "--grace-period", "5")
    assert out.returncode == 0, out.stderr
    pidfile = data_dir / "metaoptd.pid"
    pid = int(wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(), what="pid"))
    wait_until(Client(data_dir / "metaoptd.sock").is_alive, what="the daemon to answer")
    yield data_dir
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    for path in data_dir.glob("trials/*/*/supervisor.json"):
        with contextlib.suppress(ValueError, OSError, KeyError):
            os.killpg(json.loads(path.read_text())["pid"], signal.SIGKILL)


def alive(pid: int) -> bool:
    """Running, not finished: a detached process whose reaper is slow stays a zombie a while."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def test_status_of_a_data_dir_with_no_daemon(tmp_path):
    out = metaoptd("--data-dir", str(tmp_path), "status")
    assert out.returncode == 3
    assert f"metaoptd is not running on {tmp_path}" in out.stdout
    stop = metaoptd("--data-dir", str(tmp_path), "stop")
    assert stop.returncode == 0
    assert "not running" in stop.stdout


def test_a_second_detach_says_so_and_leaves_the_pidfile_alone(detached):
    pidfile = detached / "metaoptd.pid"
    before = (pidfile.read_text(), pidfile.stat().st_mtime_ns)
    pid = int(before[0])
    second = metaoptd("--data-dir", str(detached), "--detach")
    assert second.returncode == 3
    assert f"a metaoptd is already running on {detached} (pid {pid})" in second.stderr
    assert (pidfile.read_text(), pidfile.stat().st_mtime_ns) == before
    assert alive(pid)
    status = metaoptd("--data-dir", str(detached), "status")
    assert status.returncode == 0
    assert f"pid {pid}, standalone" in status.stdout


def test_stop_interrupts_the_trials_and_waits_for_the_daemon_to_exit(detached):
    client = Client(detached / "metaoptd.sock")
    command = [sys.executable, str(SCRIPTS / "sleeper.py"), "--x~uniform(0, 1)", "--seconds=60"]
    body = {"name": "exp", "command": command, "cwd": str(detached), "max_trials": 2}
    client.call("submit", experiment=body)
    wait_until(lambda: list(detached.glob("trials/exp/*/trial.pid")), what="a trial to run")
    pid = int((detached / "metaoptd.pid").read_text())
    out = metaoptd("--data-dir", str(detached), "stop")
    assert out.returncode == 0, out.stderr
    assert f"stopping metaoptd (pid {pid})" in out.stdout
    assert "interrupting 1 running trial(s)" in out.stdout
    assert out.stdout.rstrip().endswith("stopped")
    assert not alive(pid)  # stop returns once the daemon is gone, not before
    assert not (detached / "metaoptd.pid").exists()
    assert not (detached / "metaoptd.sock").exists()
    trial_pid = int(next(detached.glob("trials/exp/*/trial.pid")).read_text())
    assert not alive(trial_pid)
    log = (detached / "metaoptd.log").read_text()
    assert "interrupted" in log
    assert "Traceback" not in log
    assert "CancelledError" not in log


def test_a_daemon_is_not_started_on_a_file(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    out = metaoptd("--data-dir", str(blocker / "node"), "--detach")
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1  # one line, no traceback
    assert f"cannot create the data dir {blocker / 'node'}" in out.stderr
    assert f"({blocker} is a file)" in out.stderr
