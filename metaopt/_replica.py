"""A node's replica: its store, the merged view of it, and the only way to write under its origin.

Every write is a record under this node's origin with the next version and an HLC time; it is
stored durably before ``write`` returns, so whoever writes acts only on what is already on disk.
metaoptd holds the replica while it runs; with no daemon running, the CLI opens it for a moment
(``offline``) to record a stop or a deletion, under the same lock a daemon takes, so the two
never write at once and the daemon that starts next serves those records like its own.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from metaopt import _paths
from metaopt._core import Hlc
from metaopt._core import Record
from metaopt.errors import MetaoptError
from metaopt.errors import StorageError
from metaopt.records import HistoryView
from metaopt.storage import BaseStorage
from metaopt.storage import open_storage
from metaopt.storage._lock import FileLock


class LocalReplica:
    def __init__(self, storage: BaseStorage) -> None:
        self.storage = storage
        self.id = _node_id(storage)
        self.hlc = Hlc()
        self.view = HistoryView()
        records = storage.scan()
        for record in records:
            self.view.apply(record)
        if records:
            self.hlc.restore(max(r.hlc for r in records))
        self._version = storage.versions().get(self.id, 0)

    def write(self, key: str, value: bytes) -> Record:
        """Store a new version of ``key`` under this node's origin, then show it in the view."""
        return self.write_many([(key, value)])[0]

    def write_many(self, items: list[tuple[str, bytes]]) -> list[Record]:
        """Several writes in one durable batch: all of them survive a crash, or none."""
        records = []
        for key, value in items:
            self._version += 1
            records.append(Record(self.id, key, self._version, self.hlc.now(_wall_ms()), value))
        self.storage.put(records)
        for record in records:
            self.view.apply(record)
        return records

    def stamp(self) -> int:
        """A fresh HLC time, later than every one this node has written or seen."""
        return self.hlc.now(_wall_ms())

    def apply(self, records: list[Record]) -> None:
        """Records from other origins: persisted first, then folded into the view."""
        for record in self.storage.put(records):
            self.view.apply(record)


@contextlib.contextmanager
def offline(directory: Path, kind: str) -> Iterator[LocalReplica]:
    """The replica of a data dir no daemon holds, locked against one starting meanwhile."""
    try:
        lock = FileLock(_paths.lock_path(directory))
    except StorageError:
        raise MetaoptError(
            f"a metaoptd holds {directory} but does not answer on its socket; "
            "wait for it to start (or to stop) and try again"
        ) from None
    try:
        with open_storage(directory, kind) as storage:
            yield LocalReplica(storage)
    finally:
        lock.release()


def _node_id(storage: BaseStorage) -> str:
    """Created once per store: the host name plus a random suffix, so clones differ."""
    stored = storage.get_meta("node_id")
    if stored is not None:
        return stored.decode()
    node_id = f"{socket.gethostname()}-{secrets.token_hex(3)}"
    storage.put_meta("node_id", node_id.encode())
    return node_id


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000
