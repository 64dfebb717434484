"""Real metaoptd processes as separate hosts: one network namespace each, on one bridge."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from metaopt.errors import MetaoptError
from metaopt.testing import netns
from metaoptd import keys
from tests.helpers import DaemonProcess
from tests.helpers import wait_until

# Every host listens on all its interfaces at the default port, as a real machine would.
FLAGS = ("--settle", "2")


class Lan:
    def __init__(self, root: Path, network: netns.Network) -> None:
        self.root = root
        self.network = network
        self.key = root / "cluster.key"
        keys.load_or_create(self.key)
        self.daemons: list[DaemonProcess] = []
        self.hosts: list[netns.Host] = []

    def start(self, *flags: str, key: Path | None = None) -> DaemonProcess:
        host = self.network.add_host()
        daemon = DaemonProcess(
            self.root / host.name,
            *FLAGS,
            "--key-file",
            str(key or self.key),
            *flags,
            network=(),
            wrap=host.command([]),
        )
        self.hosts.append(host)
        self.daemons.append(daemon)
        return daemon

    def host_of(self, daemon: DaemonProcess) -> netns.Host:
        return self.hosts[self.daemons.index(daemon)]

    def alive_counts(self) -> list[int]:
        return [
            sum(1 for m in d.call("peers") if m["state"] == "alive")
            for d in self.daemons
            if d.proc.poll() is None
        ]

    def wait_members(self, count: int, timeout: float = 60) -> None:
        wait_until(
            lambda: set(self.alive_counts()) == {count},
            timeout,
            f"{count} members alive on every host",
        )


@pytest.fixture
def lan(tmp_path: Path) -> Iterator[Lan]:
    why = netns.available()
    if why is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI runs the multi-host tests: {why}")
        pytest.skip(why)
    network = netns.Network()
    lan = Lan(tmp_path, network)
    try:
        yield lan
    finally:  # hosts, processes and all, removed even when a test fails
        for daemon in lan.daemons:
            with contextlib.suppress(MetaoptError, ProcessLookupError, OSError):
                if daemon.proc.poll() is None:
                    daemon.client.call("shutdown")
        network.close()
        for daemon in lan.daemons:
            daemon.proc.wait(timeout=30)
