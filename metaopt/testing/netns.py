"""Separate hosts on one machine, for tests and benchmarks of a cluster: Linux network
namespaces joined by veth pairs to a bridge, as machines behind one switch. Needs root and
iproute2 (``ip``).

A ``Network`` removes everything it made when closed, the processes inside its hosts included,
and a stale namespace of the same name (a run killed before it could clean up) is removed
before it is made again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Sequence
from types import TracebackType

SUBNET = "10.213.0"


def available() -> str | None:
    """None when namespaces can be made here, else why not."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "network namespaces need iproute2 (`ip`)"
    probe = f"moprobe{os.getpid()}"
    try:
        _ip("netns", "add", probe)
    except subprocess.CalledProcessError as exc:
        return f"cannot make a network namespace: {exc.stderr.strip()}"
    _ip("netns", "del", probe)
    return None


class Host:
    """One namespace with one address on the network's bridge."""

    def __init__(self, network: Network, index: int) -> None:
        self.network = network
        self.name = f"{network.prefix}h{index}"
        self.address = f"{SUBNET}.{index}"
        self.link = f"{network.prefix}p{index}"  # the bridge's end of this host's cable

    def command(self, argv: Sequence[str]) -> list[str]:
        """``argv`` run inside this host."""
        return ["ip", "netns", "exec", self.name, *argv]

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command(argv), capture_output=True, text=True, check=True)

    def pids(self) -> list[int]:
        out = subprocess.run(
            ["ip", "netns", "pids", self.name], capture_output=True, text=True, check=False
        )
        return [int(p) for p in out.stdout.split()]

    def kill_all(self) -> int:
        """``kill -9`` of every process in this host, as a power cut would; how many."""
        pids = self.pids()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return len(pids)


class Network:
    def __init__(self, prefix: str | None = None) -> None:
        self.prefix = prefix or f"mo{os.getpid() % 100000}"
        self.hub = f"{self.prefix}hub"
        self.hosts: list[Host] = []
        self._made: list[str] = []
        self._namespace(self.hub)
        for bridge in ("br0", "br1"):  # br1: the far side of a partition
            _ip("-n", self.hub, "link", "add", bridge, "type", "bridge")
            _ip("-n", self.hub, "link", "set", bridge, "up")

    def add_host(self) -> Host:
        host = Host(self, len(self.hosts) + 1)
        self._namespace(host.name)
        _ip(
            "link", "add", "eth0", "netns", host.name,
            "type", "veth", "peer", "name", host.link, "netns", self.hub,
        )  # fmt: skip
        _ip("-n", self.hub, "link", "set", host.link, "master", "br0", "up")
        _ip("-n", host.name, "addr", "add", f"{host.address}/24", "dev", "eth0")
        _ip("-n", host.name, "link", "set", "eth0", "up")
        _ip("-n", host.name, "link", "set", "lo", "up")
        self.hosts.append(host)
        return host

    def cut(self, host: Host) -> None:
        """Pull the host's cable: it keeps running, alone."""
        _ip("-n", self.hub, "link", "set", host.link, "down")

    def mend(self, host: Host) -> None:
        _ip("-n", self.hub, "link", "set", host.link, "up")

    def partition(self, far_side: Sequence[Host]) -> None:
        """Split the network in two: ``far_side`` hosts reach each other, not the rest."""
        for host in far_side:
            _ip("-n", self.hub, "link", "set", host.link, "master", "br1")

    def heal(self) -> None:
        for host in self.hosts:
            _ip("-n", self.hub, "link", "set", host.link, "master", "br0", "up")

    def close(self) -> None:
        for host in self.hosts:
            host.kill_all()
        for name in reversed(self._made):
            with contextlib.suppress(subprocess.CalledProcessError):
                _ip("netns", "del", name)
        self._made.clear()

    def _namespace(self, name: str) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # left by a killed run
            _ip("netns", "del", name)
        _ip("netns", "add", name)
        self._made.append(name)

    def __enter__(self) -> Network:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], capture_output=True, text=True, check=True)
