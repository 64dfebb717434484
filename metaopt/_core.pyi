"""Typed stub for metaopt._core, the compiled gossip core (built from src/ by CMake).

Keep in step with src/bindings/; ``python -m mypy.stubtest metaopt._core`` checks it.
"""

from collections.abc import Iterable
from typing import ClassVar

__version__: str
FORMAT_VERSION: int
"""Version of the record encoding that encode_record writes (its second byte)."""
MAX_ORIGIN_BYTES: int
MAX_KEY_BYTES: int
MAX_VALUE_BYTES: int

class DecodeError(ValueError):
    """Bytes that are not one valid record; the message is the reason, e.g. ``bad_checksum``."""

class Record:
    """One replicated entry: ``value`` as written by ``origin`` under ``key`` at ``version``."""

    origin: str
    key: str
    version: int
    hlc: int
    value: bytes
    __hash__: ClassVar[None]  # type: ignore[assignment]
    def __init__(self, origin: str, key: str, version: int, hlc: int, value: bytes) -> None: ...
    def __eq__(self, other: object) -> bool: ...

def encode_record(record: Record) -> bytes:
    """Encode a record; ValueError when a field is over its bound."""

def decode_record(data: bytes) -> Record:
    """Decode one record; DecodeError names the reason."""

def decode_records(items: Iterable[bytes]) -> list[Record]:
    """Decode many records; DecodeError names the first bad item, e.g. ``item 3: truncated``."""

class Hlc:
    """Hybrid logical clock; every call takes the caller's wall-clock milliseconds."""

    def __init__(self, max_offset_ms: int = 60000) -> None: ...
    def now(self, wall_ms: int) -> int: ...
    def update(self, remote: int, wall_ms: int) -> int | None: ...
    def last(self) -> int: ...
    def restore(self, ts: int) -> None: ...

def hlc_pack(physical_ms: int, logical: int) -> int: ...
def hlc_physical(ts: int) -> int: ...
def hlc_logical(ts: int) -> int: ...
