"""Where a node keeps its files: one data directory per node."""

from __future__ import annotations

import os
from pathlib import Path

SOCKET_NAME = "metaoptd.sock"


def data_dir(given: str | os.PathLike[str] | None = None) -> Path:
    """``--data-dir``, else ``$METAOPT_HOME``, else ``~/.local/share/metaopt``."""
    if given:
        return Path(given).expanduser().resolve()
    env = os.environ.get("METAOPT_HOME")
    if env:
        return Path(env).expanduser().resolve()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "metaopt"


def socket_path(directory: Path) -> Path:
    return directory / SOCKET_NAME
