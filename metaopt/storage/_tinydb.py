"""TinyDB backend: one human-readable JSON file, pure Python.

Good for a few hundred trials and for reading the history with a text editor (JSON values are
stored as JSON, not as escaped strings); every write
rewrites the whole file, so it slows down linearly with the history (see docs/benchmarks.md).
Writes go to a temporary file that replaces the store atomically, so a crash mid-write leaves
the previous version intact instead of a truncated file.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import tinydb
from tinydb.middlewares import CachingMiddleware
from tinydb.storages import Storage

from metaopt._core import Record
from metaopt.errors import StorageError
from metaopt.storage._base import BaseStorage
from metaopt.storage._lock import FileLock


class _AtomicJSONStorage(Storage):
    """TinyDB storage that writes through a temporary file, fsync and rename."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def read(self) -> dict[str, dict[str, Any]] | None:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return None
        try:
            data: dict[str, dict[str, Any]] = json.loads(text) if text else {}
        except json.JSONDecodeError as exc:
            raise StorageError(f"TinyDB store {self.path} is not valid JSON: {exc}") from exc
        return data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        text = json.dumps(data, separators=(",", ":"))  # dumps uses the C encoder, dump does not
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


class TinyDBStorage(BaseStorage):
    kind = "tinydb"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock: FileLock | None = FileLock(self.path.with_name(self.path.name + ".lock"))
        except OSError as exc:
            raise StorageError(f"cannot open TinyDB store {self.path}: {exc}") from exc
        try:
            # Table operations edit an in-memory copy; _flush() writes the file once per put.
            self._cache = CachingMiddleware(_AtomicJSONStorage)
            self._cache.WRITE_CACHE_SIZE = 2**62
            self._db: tinydb.TinyDB | None = tinydb.TinyDB(str(self.path), storage=self._cache)
            self._records.all()  # read now: a damaged file is reported at open
        except (OSError, StorageError) as exc:
            self._lock.release()
            if isinstance(exc, StorageError):
                raise
            raise StorageError(f"cannot open TinyDB store {self.path}: {exc}") from exc
        # Indexes over the file's documents: the table itself is a linear list.
        self._ids: dict[tuple[str, str], int] = {}
        for doc in self._records.all():
            self._ids[(doc["key"], doc["origin"])] = doc.doc_id
        self._versions: dict[str, int] = {}
        for doc in self._db.table("versions").all():
            self._versions[doc["origin"]] = doc["version"]

    @property
    def _records(self) -> tinydb.table.Table:
        if self._db is None:
            raise StorageError(f"TinyDB store {self.path} is closed")
        return self._db.table("records")

    def put(self, records: Sequence[Record]) -> list[Record]:
        table = self._records
        applied = [r for r in records if self._is_newer(r)]
        if not applied:
            return []
        try:
            for record in applied:
                doc = _to_doc(record)
                doc_id = self._ids.get((record.key, record.origin))
                if doc_id is None:
                    self._ids[(record.key, record.origin)] = table.insert(doc)
                else:
                    table.update(doc, doc_ids=[doc_id])
            self._write_versions(applied)
            self._flush()
        except OSError as exc:
            raise StorageError(f"cannot write TinyDB store {self.path}: {exc}") from exc
        return applied

    def _write_versions(self, applied: list[Record]) -> None:
        changed: dict[str, int] = {}
        for record in applied:
            if record.version > max(
                self._versions.get(record.origin, 0), changed.get(record.origin, 0)
            ):
                changed[record.origin] = record.version
        if not changed:
            return
        self._versions.update(changed)
        assert self._db is not None
        table = self._db.table("versions")
        table.truncate()
        table.insert_multiple({"origin": o, "version": v} for o, v in self._versions.items())

    def _is_newer(self, record: Record) -> bool:
        held = self.get(record.key, record.origin)
        return held is None or held.version < record.version

    def get(self, key: str, origin: str) -> Record | None:
        doc_id = self._ids.get((key, origin))
        if doc_id is None:
            return None
        doc = self._records.get(doc_id=doc_id)
        return None if doc is None else _from_doc(doc)

    def scan(self, prefix: str = "") -> list[Record]:
        docs = [doc for doc in self._records.all() if doc["key"].startswith(prefix)]
        docs.sort(key=lambda d: (d["key"], d["origin"]))
        return [_from_doc(doc) for doc in docs]

    def versions(self) -> dict[str, int]:
        return dict(self._versions)

    def get_meta(self, name: str) -> bytes | None:
        if self._db is None:
            raise StorageError(f"TinyDB store {self.path} is closed")
        doc = self._db.table("meta").get(tinydb.where("name") == name)
        return None if doc is None else base64.b64decode(doc["value"])

    def put_meta(self, name: str, value: bytes) -> None:
        if self._db is None:
            raise StorageError(f"TinyDB store {self.path} is closed")
        doc = {"name": name, "value": base64.b64encode(value).decode()}
        self._db.table("meta").upsert(doc, tinydb.where("name") == name)
        self._flush()

    def _flush(self) -> None:
        try:
            self._cache.flush()
        except OSError as exc:
            raise StorageError(f"cannot write TinyDB store {self.path}: {exc}") from exc

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def _to_doc(record: Record) -> dict[str, Any]:
    return {
        "key": record.key,
        "origin": record.origin,
        "version": record.version,
        "hlc": record.hlc,
        **_readable(record.value),
    }


def _readable(value: bytes) -> dict[str, Any]:
    """The value as a JSON object when that gives back the same bytes, else text, else base64."""
    try:
        text = value.decode()
    except UnicodeDecodeError:
        return {"encoding": "base64", "value": base64.b64encode(value).decode()}
    try:
        parsed = json.loads(text)
    except ValueError:
        return {"encoding": "utf-8", "value": text}
    if json.dumps(parsed, separators=(",", ":")) == text:
        return {"encoding": "json", "value": parsed}
    return {"encoding": "utf-8", "value": text}


def _from_doc(doc: dict[str, Any]) -> Record:
    encoding, stored = doc["encoding"], doc["value"]
    if encoding == "json":
        value = json.dumps(stored, separators=(",", ":")).encode()
    elif encoding == "base64":
        value = base64.b64decode(stored)
    else:
        value = stored.encode()
    return Record(doc["origin"], doc["key"], doc["version"], doc["hlc"], value)
