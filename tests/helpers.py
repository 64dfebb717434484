"""Test helpers: a real metaoptd in a temporary data dir, and waiting on conditions."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from metaopt._control import Client
from metaopt.errors import ControlError

SCRIPTS = Path(__file__).parent / "scripts"
# `metaopt` and `metaoptd` as the installed scripts run them, from this checkout
CLI = [sys.executable, "-c", "import sys; from metaopt.cli import main; sys.exit(main())"]
DAEMON = [sys.executable, "-m", "metaoptd"]


def metaopt(
    data_dir: Path | None,
    *args: str,
    timeout: float = 120,
    cwd: Path = SCRIPTS,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``metaopt ARGS`` to its end with METAOPT_HOME=data_dir (unset when None)."""
    env = {k: v for k, v in os.environ.items() if k != "METAOPT_HOME"}
    if data_dir is not None:
        env["METAOPT_HOME"] = str(data_dir)
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=cwd,
        input=stdin,
    )


def submit_quadratic(daemon: DaemonProcess, name: str, *args: str, **options: Any) -> None:
    """Submit tests/scripts/quadratic.py with these flags to a running daemon."""
    command = [sys.executable, str(SCRIPTS / "quadratic.py"), *args]
    body = {"name": name, "command": command, "cwd": str(SCRIPTS), "seed": 1, **options}
    daemon.call("submit", experiment=body)


def history_json(daemon: DaemonProcess, name: str) -> list[dict[str, Any]]:
    """``metaopt history NAME --json`` on the daemon's data dir, one dict per trial."""
    out = metaopt(daemon.data_dir, "history", name, "--json")
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def metaoptd(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``metaoptd ARGS`` to its end (``stop``, ``status``, ``--detach``...)."""
    return subprocess.run(
        [*DAEMON, *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


def wait_until(
    predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition"
) -> Any:
    """Poll ``predicate`` until it returns a truthy value; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.02)


class DaemonProcess:
    """A metaoptd child process on a data dir, with its control client."""

    # Its own port on loopback, no multicast: tests never meet each other's daemons.
    LOOPBACK = ("--bind", "127.0.0.1", "--port", "0", "--no-zeroconf")

    def __init__(
        self,
        data_dir: Path,
        *flags: str,
        env: dict[str, str] | None = None,
        network: tuple[str, ...] = LOOPBACK,
        wrap: list[str] | None = None,
    ) -> None:
        """``network``: its cluster flags; ``wrap``: a command it runs under (a namespace)."""
        self.data_dir = data_dir
        self.client = Client(data_dir / "metaoptd.sock", timeout=30)
        self.log = data_dir / "test-daemon.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            sys.executable,
            "-m",
            "metaoptd",
            "--data-dir",
            str(data_dir),
            "--report-interval",
            "0.05",
            "--grace-period",
            "3",
            *network,
            *flags,
        ]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [*(wrap or []), *argv],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
            )
        self._address: str | None = None
        wait_until(self._ready, what="metaoptd to answer")

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            pytest.fail(f"metaoptd exited with {self.proc.returncode}:\n{self.log.read_text()}")
        return self.client.is_alive()

    @property
    def address(self) -> str:
        """host:port of its cluster node (kept, so that it is known once the daemon is gone)."""
        if self._address is None:
            self._address = str(self.call("ping")["address"])
        return self._address

    def call(self, op: str, **args: Any) -> Any:
        return self.client.call(op, **args)

    def submit(self, script: str, *args: str, name: str = "exp", **options: Any) -> None:
        command = [sys.executable, str(SCRIPTS / script), *args]
        if script.endswith(".sh"):
            command = [str(SCRIPTS / script), *args]
        body = {"name": name, "command": command, "cwd": str(self.data_dir), "seed": 1, **options}
        self.call("submit", experiment=body)

    def summary(self, name: str = "exp") -> dict[str, Any]:
        return self.call("status", name=name)[0]

    def wait_status(self, status: str, name: str = "exp", timeout: float = 60) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            try:
                s = self.summary(name)
            except ControlError as exc:  # submitted elsewhere: it reaches this node by gossip
                if "no experiment named" not in str(exc):
                    raise
                return None
            return s if s["status"] == status else None

        return wait_until(reached, timeout, f"{name} to be {status}")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=60)
