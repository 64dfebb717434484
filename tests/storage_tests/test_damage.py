"""A damaged store is reported, and what is intact is kept."""

from __future__ import annotations

import json

import plyvel
import pytest

from metaopt._core import Record
from metaopt._core import encode_record
from metaopt.errors import StorageError
from metaopt.storage._leveldb import LevelDBStorage
from metaopt.storage._tinydb import TinyDBStorage


def test_leveldb_scan_skips_a_corrupt_record_and_keeps_the_rest(tmp_path, caplog):
    path = tmp_path / "store.leveldb"
    with LevelDBStorage(path) as store:
        store.put([Record("a", f"trial/e/{i}", i + 1, 1, b"ok") for i in range(3)])
    db = plyvel.DB(str(path))
    good = db.get(b"rtrial/e/1\0a")
    db.put(b"rtrial/e/1\0a", good[:-1] + bytes([good[-1] ^ 0xFF]))  # flip the checksum
    db.close()
    with LevelDBStorage(path) as store:
        keys = [r.key for r in store.scan("trial/")]
        assert keys == ["trial/e/0", "trial/e/2"]
        assert store.get("trial/e/1", "a") is None
    assert "trial/e/1" in caplog.text


def test_tinydb_write_is_atomic_and_torn_file_is_reported(tmp_path):
    path = tmp_path / "store.json"
    with TinyDBStorage(path) as store:
        store.put([Record("a", "k", 1, 1, b'{"readable": true}')])
    body = json.loads(path.read_text())
    assert body["records"]["1"]["value"] == '{"readable": true}'  # not compact JSON: kept as text
    assert not (tmp_path / "store.json.tmp").exists()
    path.write_text(path.read_text()[:20])  # what a non-atomic writer could leave
    with pytest.raises(StorageError, match="not valid JSON"):
        TinyDBStorage(path)


def test_record_encoding_is_what_leveldb_stores(tmp_path):
    record = Record("a", "k", 1, 7, b"v")
    with LevelDBStorage(tmp_path / "db") as store:
        store.put([record])
    db = plyvel.DB(str(tmp_path / "db"))
    assert db.get(b"rk\0a") == encode_record(record)
    db.close()


def test_tinydb_keeps_any_value_bytes_exactly(tmp_path):
    values = [b'{"a":1,"b":[1.5,null]}', b'{"a": 1}', b"plain text", b"\xff\x00binary", b""]
    with TinyDBStorage(tmp_path / "store.json") as store:
        store.put([Record("a", f"k{i}", 1, 1, v) for i, v in enumerate(values)])
    with TinyDBStorage(tmp_path / "store.json") as store:
        assert [r.value for r in store.scan()] == values
    body = json.loads((tmp_path / "store.json").read_text())
    assert body["records"]["1"]["value"] == {"a": 1, "b": [1.5, None]}
