"""LevelDB backend (plyvel): embedded, crash-safe, fast. The default.

Layout, one keyspace with a one-byte tag:
    b"r" + key + b"\\0" + origin  -> encoded record (metaopt._core.encode_record)
    b"v" + origin                  -> highest version of that origin, 8 bytes big-endian
    b"m" + name                    -> journal value
Records sort by key and then origin, so a key prefix is one range scan over every origin.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import plyvel

from metaopt._core import DecodeError
from metaopt._core import Record
from metaopt._core import decode_record
from metaopt._core import decode_records
from metaopt._core import encode_record
from metaopt._log import logger as _log
from metaopt.errors import StorageError
from metaopt.storage._base import BaseStorage


class LevelDBStorage(BaseStorage):
    kind = "leveldb"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db: plyvel.DB | None = plyvel.DB(str(self.path), create_if_missing=True)
        except plyvel.IOError as exc:
            raise StorageError(f"cannot open LevelDB store {self.path}: {exc}") from exc
        except plyvel.CorruptionError as exc:
            raise StorageError(
                f"LevelDB store {self.path} is corrupt ({exc}); "
                "`python -c 'import plyvel; plyvel.repair_db(PATH)'` can salvage it"
            ) from exc
        self._versions = {
            k[1:].decode(): int.from_bytes(v, "big") for k, v in self._handle.iterator(prefix=b"v")
        }

    @property
    def _handle(self) -> plyvel.DB:
        if self._db is None:
            raise StorageError(f"LevelDB store {self.path} is closed")
        return self._db

    def put(self, records: Sequence[Record]) -> list[Record]:
        applied: list[Record] = []
        versions: dict[str, int] = {}
        db = self._handle
        with _errors(self.path):
            batch = db.write_batch(sync=True)
            for record in records:
                if not self._is_newer(record):
                    continue
                batch.put(_record_key(record.key, record.origin), encode_record(record))
                if record.version > self._versions.get(record.origin, 0):
                    versions[record.origin] = record.version
                applied.append(record)
            for origin, version in versions.items():
                batch.put(b"v" + origin.encode(), version.to_bytes(8, "big"))
            batch.write()
        self._versions.update(versions)
        return applied

    def _is_newer(self, record: Record) -> bool:
        held = self.get(record.key, record.origin)
        return held is None or held.version < record.version

    def get(self, key: str, origin: str) -> Record | None:
        with _errors(self.path):
            data = self._handle.get(_record_key(key, origin))
        if data is None:
            return None
        try:
            return decode_record(data)
        except DecodeError as exc:
            _log.error(
                "store %s: record %s from %s is unreadable (%s)", self.path, key, origin, exc
            )
            return None

    def scan(self, prefix: str = "") -> list[Record]:
        with _errors(self.path):
            items = list(self._handle.iterator(prefix=b"r" + prefix.encode()))
        try:
            return decode_records([value for _, value in items])
        except DecodeError:
            return _decode_each(self.path, items)

    def versions(self) -> dict[str, int]:
        return dict(self._versions)

    def get_meta(self, name: str) -> bytes | None:
        with _errors(self.path):
            value: bytes | None = self._handle.get(b"m" + name.encode())
        return value

    def put_meta(self, name: str, value: bytes) -> None:
        with _errors(self.path):
            self._handle.put(b"m" + name.encode(), value, sync=True)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _record_key(key: str, origin: str) -> bytes:
    return b"r" + key.encode() + b"\0" + origin.encode()


def _decode_each(path: Path, items: list[tuple[bytes, bytes]]) -> list[Record]:
    """Slow path of scan: keep every record that decodes, report the others."""
    records = []
    for raw_key, value in items:
        try:
            records.append(decode_record(value))
        except DecodeError as exc:
            _log.error("store %s: skipping unreadable record %r (%s)", path, raw_key[1:], exc)
    return records


class _errors:
    """Turn plyvel's errors into StorageError naming the store."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, _: object
    ) -> None:
        if exc is not None and isinstance(exc, plyvel.Error | RuntimeError):
            raise StorageError(f"LevelDB store {self.path}: {exc}") from exc
