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
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

from metaopt import _paths
from metaopt._core import Hlc
from metaopt._core import Record
from metaopt._core import make_version
from metaopt._core import version_generation
from metaopt.errors import MetaoptError
from metaopt.errors import StorageError
from metaopt.records import HistoryView
from metaopt.storage import BaseStorage
from metaopt.storage import open_storage
from metaopt.storage._lock import FileLock

Publish = Callable[[Record], Record]  # hands an own record, already stored, to the gossip core
Clock = Callable[[], int]  # wall-clock milliseconds


class LocalReplica:
    """One node's records: its own writes and what it receives, durable before they are used.

    Versions follow the gossip core's scheme, ``generation << 32 | seq``, with a generation that
    grows at every start (kept in the store's journal), so that the core, given the same writes
    in the same order, issues the very versions this replica stored first: a record is on disk
    before ``publish`` announces it, and a write lost in a crash is never issued twice.
    """

    def __init__(
        self,
        storage: BaseStorage,
        *,
        generation: int | None = None,
        publish: Publish | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.storage = storage
        self.id = _node_id(storage)
        self.hlc = Hlc()
        self.view = HistoryView()
        self.publish = publish
        self._clock = clock or _wall_ms
        records = storage.scan()
        for record in records:
            self.view.apply(record)
        if records:
            self.hlc.restore(max(r.hlc for r in records))
        self.generation = generation if generation is not None else _next_generation(storage)
        self._seq = 0

    def write(self, key: str, value: bytes) -> Record:
        """Store a new version of ``key`` under this node's origin, then show it in the view."""
        return self.write_many([(key, value)])[0]

    def write_many(self, items: list[tuple[str, bytes]]) -> list[Record]:
        """Several writes in one durable batch (all survive a crash, or none), then announced."""
        records = []
        for key, value in items:
            self._seq += 1
            version = make_version(self.generation, self._seq)
            records.append(Record(self.id, key, version, self.stamp(), value))
        self.storage.put(records)
        for record in records:
            self.view.apply(record)
            if self.publish is not None:
                announced = self.publish(record)
                if announced.version != record.version:  # a second writer: never
                    raise RuntimeError(
                        f"the gossip core issued version {announced.version} for the record "
                        f"stored as {record.version}: another writer uses this node's origin"
                    )
        return records

    def stamp(self) -> int:
        """A fresh HLC time, later than every one this node has written or seen."""
        return self.hlc.now(self._clock())

    def receive(self, records: list[Record]) -> list[Record]:
        """Records from the gossip core: stored first, then folded into the view and the clock.

        Returns those that were new.
        """
        fresh = self.storage.put(records)
        for record in fresh:
            self.view.apply(record)
            self.hlc.update(record.hlc, self._clock())
        return fresh


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


def _next_generation(storage: BaseStorage) -> int:
    """One more than any earlier start's, by the journal and by the versions stored."""
    stored = storage.get_meta("generation")
    last = int(stored.decode()) if stored is not None else 0
    own = storage.versions().get(_node_id(storage), 0)
    generation = max(last, version_generation(own)) + 1
    storage.put_meta("generation", str(generation).encode())
    return generation


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
