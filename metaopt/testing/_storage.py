"""StorageTestCase: the contract of :class:`metaopt.storage.BaseStorage`, as tests.

Subclass it in a pytest module and define ``open(path)`` returning a backend stored under
``path`` (a folder that exists and is empty the first time)::

    class TestMine(StorageTestCase):
        def open(self, path):
            return MyStorage(path / "store")
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from metaopt._core import Record
from metaopt.errors import StorageError
from metaopt.storage import BaseStorage


def _rec(key: str, origin: str = "a", version: int = 1, value: bytes = b"v") -> Record:
    return Record(origin, key, version, 1000 + version, value)


def _open_elsewhere(factory: StorageTestCase, path: Path, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    try:
        factory.open(path).close()
        queue.put("opened")
    except StorageError as exc:
        queue.put(f"refused: {exc}")


class StorageTestCase:
    def open(self, path: Path) -> BaseStorage:
        raise NotImplementedError

    @pytest.fixture
    def store(self, tmp_path: Path):  # type: ignore[no-untyped-def]
        storage = self.open(tmp_path)
        yield storage
        storage.close()

    def test_put_then_get(self, store: BaseStorage) -> None:
        record = _rec("trial/e/1", value=b'{"x": 1}\0binary')
        assert store.put([record]) == [record]
        assert store.get("trial/e/1", "a") == record
        assert store.get("trial/e/1", "b") is None
        assert store.get("trial/e/2", "a") is None

    def test_older_or_equal_version_is_ignored(self, store: BaseStorage) -> None:
        store.put([_rec("k", version=2, value=b"new")])
        assert (
            store.put([_rec("k", version=1, value=b"old"), _rec("k", version=2, value=b"same")])
            == []
        )
        assert store.get("k", "a").value == b"new"  # type: ignore[union-attr]
        assert store.put([_rec("k", version=3, value=b"newer")])[0].version == 3
        assert store.get("k", "a").value == b"newer"  # type: ignore[union-attr]

    def test_scan_by_prefix_orders_by_key_then_origin(self, store: BaseStorage) -> None:
        store.put(
            [
                _rec("trial/e/2", "b"),
                _rec("trial/e/1", "b"),
                _rec("trial/e/1", "a"),
                _rec("trial/f/1", "a"),
                _rec("exp/e", "a"),
            ]
        )
        found = [(r.key, r.origin) for r in store.scan("trial/e/")]
        assert found == [("trial/e/1", "a"), ("trial/e/1", "b"), ("trial/e/2", "b")]
        assert len(store.scan()) == 5
        assert store.scan("nothing/") == []

    def test_versions_are_per_origin_maxima(self, store: BaseStorage) -> None:
        assert store.versions() == {}
        store.put([_rec("k1", "a", 3), _rec("k2", "a", 5), _rec("k1", "b", 2)])
        store.put([_rec("k1", "a", 4)])
        assert store.versions() == {"a": 5, "b": 2}

    def test_meta_is_kept_apart_from_records(self, store: BaseStorage) -> None:
        assert store.get_meta("node_id") is None
        store.put_meta("node_id", b"n1")
        store.put_meta("node_id", b"n2")
        assert store.get_meta("node_id") == b"n2"
        assert store.scan() == []

    def test_everything_survives_reopening(self, tmp_path: Path) -> None:
        store = self.open(tmp_path)
        records = [_rec(f"trial/e/{i}", "a", i + 1, f"value {i}".encode()) for i in range(50)]
        store.put(records)
        store.put_meta("node_id", b"n1")
        store.close()
        store = self.open(tmp_path)
        try:
            assert store.scan("trial/") == sorted(records, key=lambda r: r.key)
            assert store.versions() == {"a": 50}
            assert store.get_meta("node_id") == b"n1"
        finally:
            store.close()

    def test_a_second_process_cannot_open_it(self, tmp_path: Path) -> None:
        store = self.open(tmp_path)
        try:
            queue: multiprocessing.Queue[str] = multiprocessing.get_context("spawn").Queue()
            proc = multiprocessing.get_context("spawn").Process(
                target=_open_elsewhere, args=(self, tmp_path, queue)
            )
            proc.start()
            proc.join(60)
            assert queue.get(timeout=5).startswith("refused")
        finally:
            store.close()

    def test_closed_store_raises_storage_error(self, tmp_path: Path) -> None:
        store = self.open(tmp_path)
        store.close()
        store.close()  # idempotent
        with pytest.raises(StorageError):
            store.put([_rec("k")])
