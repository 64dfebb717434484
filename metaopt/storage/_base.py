"""BaseStorage: where a node keeps the replicated records and its own small journal."""

from __future__ import annotations

import abc
from collections.abc import Sequence

from metaopt._core import Record


class BaseStorage(abc.ABC):
    """A durable map from (key, origin) to the newest record of that origin for that key.

    Contract, shared by every backend:

    * ``put`` is atomic and durable: when it returns, the records survive ``kill -9`` and power
      loss; after a crash either all of a batch is there or none of it.
    * A record replaces the stored one of the same (key, origin) only if its version is higher,
      so applying a replicated record twice, or out of order, is harmless.
    * One process owns a store at a time; a second ``open`` raises :class:`StorageError`.
    * Not thread-safe: callers serialize access.
    * Failures raise :class:`metaopt.errors.StorageError` with the path in the message; a stored
      record that no longer decodes is skipped by ``scan`` and logged, never raised.
    """

    #: a short name for the CLI and messages
    kind: str = ""

    @abc.abstractmethod
    def put(self, records: Sequence[Record]) -> list[Record]:
        """Store a batch; returns the records that were newer than what was held."""

    @abc.abstractmethod
    def get(self, key: str, origin: str) -> Record | None:
        """The stored record of ``origin`` for ``key``, or None."""

    @abc.abstractmethod
    def scan(self, prefix: str = "") -> list[Record]:
        """Every origin's record for every key that starts with ``prefix``, ordered by key."""

    @abc.abstractmethod
    def versions(self) -> dict[str, int]:
        """The highest version stored for each origin (a Scuttlebutt digest)."""

    @abc.abstractmethod
    def get_meta(self, name: str) -> bytes | None:
        """A value of the node's own journal (never replicated)."""

    @abc.abstractmethod
    def put_meta(self, name: str, value: bytes) -> None:
        """Durably set a journal value."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the store; further calls are errors. Idempotent."""

    def __enter__(self) -> BaseStorage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
