"""Every backend passes the same suite, on real files."""

from __future__ import annotations

from pathlib import Path

from metaopt.storage import BaseStorage
from metaopt.storage._leveldb import LevelDBStorage
from metaopt.storage._tinydb import TinyDBStorage
from metaopt.testing import StorageTestCase


class TestLevelDB(StorageTestCase):
    def open(self, path: Path) -> BaseStorage:
        return LevelDBStorage(path / "store.leveldb")


class TestTinyDB(StorageTestCase):
    def open(self, path: Path) -> BaseStorage:
        return TinyDBStorage(path / "store.json")
