"""Storage backends behind one small interface: LevelDB (default) and TinyDB."""

from __future__ import annotations

import os
from pathlib import Path

from metaopt.errors import StorageError
from metaopt.storage._base import BaseStorage

BACKENDS = ("leveldb", "tinydb")
DEFAULT_BACKEND = "leveldb"


def store_path(data_dir: str | os.PathLike[str], kind: str) -> Path:
    """Where a node's store of this kind lives inside its data directory."""
    names = {"leveldb": "store.leveldb", "tinydb": "store.json"}
    if kind not in names:
        raise StorageError(f"unknown storage {kind!r}: choose one of {', '.join(BACKENDS)}")
    return Path(data_dir) / names[kind]


def open_storage(data_dir: str | os.PathLike[str], kind: str = DEFAULT_BACKEND) -> BaseStorage:
    """Open (creating if needed) the store of ``kind`` in ``data_dir``."""
    path = store_path(data_dir, kind)
    if kind == "tinydb":
        from metaopt.storage._tinydb import TinyDBStorage

        return TinyDBStorage(path)
    from metaopt.storage._leveldb import LevelDBStorage

    return LevelDBStorage(path)


__all__ = ["BACKENDS", "DEFAULT_BACKEND", "BaseStorage", "open_storage", "store_path"]
