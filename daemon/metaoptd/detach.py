"""``--detach``: the classic double fork, with a pidfile and a log file in the data dir."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def daemonize(directory: Path) -> None:
    """Return in the grandchild, detached from the terminal; the calling process exits."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.fork() > 0:
        os._exit(0)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    os.chdir("/")
    log = os.open(directory / "metaoptd.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(null)
    os.close(log)
    sys.stdout = os.fdopen(1, "w", buffering=1)
    sys.stderr = os.fdopen(2, "w", buffering=1)
    pidfile = directory / "metaoptd.pid"
    pidfile.write_text(f"{os.getpid()}\n")
