"""This node's view of the replicated history, and the only way the daemon changes it.

Every write is a record under this node's origin with the next version and an HLC time; it is
stored durably before ``write`` returns, so the daemon acts only on what is already on disk.
The gossip core will feed other origins' records through ``apply``; until then the view holds
this node's records and those restored from its store.
"""

from __future__ import annotations

import secrets
import socket
import time

from metaopt._core import Hlc
from metaopt._core import Record
from metaopt.records import HistoryView
from metaopt.storage import BaseStorage


class LocalNode:
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
        self._version += 1
        record = Record(self.id, key, self._version, self.hlc.now(_wall_ms()), value)
        self.storage.put([record])
        self.view.apply(record)
        return record

    def apply(self, records: list[Record]) -> None:
        """Records from other origins: persisted first, then folded into the view."""
        for record in self.storage.put(records):
            self.view.apply(record)


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
