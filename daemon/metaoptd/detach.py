"""``--detach``: the classic double fork, with a pidfile and a log file in the data dir."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from metaopt import _paths


def daemonize(directory: Path) -> None:
    """Return in the grandchild, detached from the terminal; the calling process exits.

    The caller already holds the data dir's lock: its descriptor is inherited, so the lock
    passes to the grandchild without a moment in which another daemon could take it.
    """
    if os.fork() > 0:
        os._exit(0)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    os.chdir("/")
    log = os.open(_paths.log_path(directory), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(null)
    os.close(log)
    sys.stdout = os.fdopen(1, "w", buffering=1)
    sys.stderr = os.fdopen(2, "w", buffering=1)
    pidfile = _paths.pid_path(directory)
    tmp = pidfile.with_suffix(".tmp")
    tmp.write_text(f"{os.getpid()}\n")
    tmp.replace(pidfile)


def remove_pidfile(directory: Path) -> None:
    """On the way out, if the pidfile is still ours."""
    pidfile = _paths.pid_path(directory)
    with contextlib.suppress(OSError, ValueError):
        if int(pidfile.read_text()) == os.getpid():
            pidfile.unlink()
