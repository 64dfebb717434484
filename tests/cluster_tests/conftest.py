"""Real metaoptd processes on loopback, one data dir and port each, joined into one cluster."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from metaopt.errors import MetaoptError
from metaoptd import keys
from tests.helpers import DaemonProcess
from tests.helpers import wait_until

# Short enough for tests, long enough to hear from the seed before acting.
FLAGS = ("--settle", "1", "--report-interval", "0.05")


class Cluster:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.key = root / "cluster.key"
        keys.load_or_create(self.key)  # the one key file every member is given
        self.daemons: list[DaemonProcess] = []

    def start(
        self, name: str, *flags: str, key: Path | None = None, join: bool = True
    ) -> DaemonProcess:
        seeds = (
            ["--join", self.daemons[0].call("ping")["address"]] if join and self.daemons else []
        )
        key_file = key or self.key
        daemon = DaemonProcess(
            self.root / name, *FLAGS, "--key-file", str(key_file), *seeds, *flags
        )
        self.daemons.append(daemon)
        return daemon

    def restart(self, daemon: DaemonProcess, *flags: str) -> DaemonProcess:
        """The same data dir and address again (peers know it by that address)."""
        port = daemon.address.rpartition(":")[2]
        seeds = [d.address for d in self.daemons if d is not daemon and d.proc.poll() is None]
        again = DaemonProcess(
            daemon.data_dir,
            *FLAGS,
            "--key-file",
            str(self.key),
            "--port",
            port,
            *[a for s in seeds[:1] for a in ("--join", s)],
            *flags,
        )
        self.daemons[self.daemons.index(daemon)] = again
        return again

    def wait_members(self, count: int, timeout: float = 60) -> None:
        def joined() -> bool:
            return all(
                sum(1 for m in d.call("peers") if m["state"] == "alive") == count
                for d in self.daemons
                if d.proc.poll() is None
            )

        wait_until(joined, timeout, f"{count} members alive on every node")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path)
    yield c
    for daemon in c.daemons:
        with contextlib.suppress(MetaoptError, ProcessLookupError, OSError):
            daemon.stop()
        for path in daemon.data_dir.glob("trials/*/*/supervisor.json"):
            with contextlib.suppress(ValueError, OSError, KeyError):
                os.killpg(json.loads(path.read_text())["pid"], signal.SIGKILL)
