"""``metaoptd stop`` and ``metaoptd status``: the daemon of a data dir, seen from outside.

A daemon is known by its control socket (it answers ``ping`` with its pid) and by the data dir's
lock (held for as long as its process lives, however it ends); the pidfile is only a hint.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from metaopt import _paths
from metaopt._control import Client
from metaopt.errors import DaemonUnavailable
from metaopt.errors import MetaoptError
from metaopt.storage._lock import FileLock

EXIT_NOT_RUNNING = 3  # what `status` returns for a stopped service, as init scripts do


def stop(directory: Path, timeout: float) -> int:
    """Ask the daemon to stop (its trials are interrupted and requeued) and wait until it exits."""
    info = _ping(directory)
    if info is None:
        if not _locked(directory):
            print(f"metaoptd is not running on {directory}")
            return 0
        print(
            f"metaoptd: the daemon on {directory}{_pid_hint(directory)} holds its lock but does "
            "not answer on its socket; stop it with `kill PID` (SIGTERM is a clean stop)",
            file=sys.stderr,
        )
        return 1
    running = info.get("running", 0)
    print(
        f"stopping metaoptd (pid {info['pid']}) on {directory}"
        + (f": interrupting {running} running trial(s)..." if running else "..."),
        flush=True,
    )
    try:
        Client(_paths.socket_path(directory)).call("shutdown")
    except DaemonUnavailable:
        pass  # it went away between the two calls
    deadline = time.monotonic() + timeout
    while _locked(directory) or _alive(info["pid"]):
        if time.monotonic() > deadline:
            print(
                f"metaoptd: pid {info['pid']} is still running after {timeout:.0f} s "
                "(its trials may ignore SIGTERM); `kill -9` it to stop it now, nothing is lost",
                file=sys.stderr,
            )
            return 1
        time.sleep(0.05)
    print("stopped")
    return 0


def status(directory: Path) -> int:
    info = _ping(directory)
    if info is None:
        if _locked(directory):
            print(f"metaoptd on {directory}{_pid_hint(directory)} is starting, or not answering")
            return 1
        print(f"metaoptd is not running on {directory}")
        return EXIT_NOT_RUNNING
    slots = info.get("slots", [])
    kind = "embedded in a `metaopt` run" if info.get("embedded") else "standalone"
    print(f"metaoptd is running on {directory}: pid {info['pid']}, {kind}")
    print(f"  node     {info['node']}")
    print(f"  store    {info['storage']}")
    print(f"  slots    {len(slots)} ({', '.join(s['id'] for s in slots)})")
    print(f"  trials   {info.get('running', 0)} running")
    return 0


def already_running(directory: Path) -> str:
    """Why a second daemon does not start, with the first one's pid when it is known."""
    info = _ping(directory)
    pid = f" (pid {info['pid']})" if info else _pid_hint(directory)
    return f"a metaoptd is already running on {directory}{pid}; `metaoptd stop` stops it"


def _ping(directory: Path) -> dict[str, Any] | None:
    try:
        info = Client(_paths.socket_path(directory), timeout=5).call("ping")
    except (DaemonUnavailable, MetaoptError):
        return None
    return info if isinstance(info, dict) else None


def _locked(directory: Path) -> bool:
    if not directory.is_dir():
        return False
    try:
        FileLock(_paths.lock_path(directory)).release()
    except MetaoptError:
        return True
    return False


def _alive(pid: int) -> bool:
    """The process exists and has not finished (a zombie only waits for its parent)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def _pid_hint(directory: Path) -> str:
    try:
        return f" (pid {int(_paths.pid_path(directory).read_text())})"
    except (OSError, ValueError):
        return ""
