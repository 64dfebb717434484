"""Where a node keeps its files: one data directory per node."""

from __future__ import annotations

import os
from pathlib import Path

from metaopt.errors import MetaoptError

SOCKET_NAME = "metaoptd.sock"
LOCK_NAME = "metaoptd.lock"  # held by the process that owns the store: a daemon, or the CLI
PID_NAME = "metaoptd.pid"
LOG_NAME = "metaoptd.log"


def data_dir(given: str | os.PathLike[str] | None = None) -> Path:
    """``--data-dir``, else ``$METAOPT_HOME``, else ``~/.local/share/metaopt``."""
    if given:
        return Path(given).expanduser().resolve()
    env = os.environ.get("METAOPT_HOME")
    if env:
        return Path(env).expanduser().resolve()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "metaopt"


def ensure_data_dir(directory: Path) -> Path:
    """Create ``directory`` (owner-only) if needed; a MetaoptError that says what and where."""
    if directory.exists() and not directory.is_dir():
        raise MetaoptError(
            f"data dir {directory} is a file, not a folder: give another --data-dir"
        )
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise MetaoptError(
            f"cannot create the data dir {directory}: {exc.strerror or exc}"
            f"{_blocking_file(directory)}; give another --data-dir (or set METAOPT_HOME)"
        ) from None
    return directory


def check_readable(directory: Path) -> None:
    """For readers, who create nothing: a data dir that is a file is an error, none is not."""
    blocking = _blocking_file(directory)
    if blocking:
        raise MetaoptError(f"data dir {directory} cannot exist{blocking}: give another --data-dir")
    if directory.exists() and not directory.is_dir():
        raise MetaoptError(
            f"data dir {directory} is a file, not a folder: give another --data-dir"
        )


def _blocking_file(directory: Path) -> str:
    """' (PARENT is a file)' when a file stands where one of the parent folders should be."""
    for parent in directory.parents:
        if parent.exists():
            return "" if parent.is_dir() else f" ({parent} is a file)"
    return ""


def socket_path(directory: Path) -> Path:
    return directory / SOCKET_NAME


def lock_path(directory: Path) -> Path:
    return directory / LOCK_NAME


def pid_path(directory: Path) -> Path:
    return directory / PID_NAME


def log_path(directory: Path) -> Path:
    return directory / LOG_NAME


def experiment_dir(directory: Path, experiment: str) -> Path:
    """The folder of an experiment's trial folders."""
    return directory / "trials" / experiment
