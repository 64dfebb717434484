"""Typed stub for metaopt._core, the compiled gossip core (built from src/ by CMake).

Keep in step with src/bindings/; ``python -m mypy.stubtest metaopt._core`` checks it.
"""

import builtins
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
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

MAX_SEQ: int
"""Largest seq of one generation; a version is ``(generation << 32) | seq``."""

def make_version(generation: int, seq: int) -> int:
    """(generation << 32) | seq."""

def version_generation(version: int) -> int: ...
def version_seq(version: int) -> int: ...

class OriginDelta:
    """What a peer lacks of one origin: records, oldest first, and the version vouched for."""

    origin: str
    records: list[Record]
    """A copy: assign a new list to change it."""
    covered_up_to: int
    __hash__: ClassVar[None]  # type: ignore[assignment]
    def __init__(self, origin: str, records: Sequence[Record], covered_up_to: int) -> None: ...
    def __eq__(self, other: object) -> bool: ...

class Store:
    """One node's replica of every origin's records, with Scuttlebutt digests and deltas.

    ValueError for a bad origin, key or value; OverflowError when a generation runs out of seqs.
    """

    def __init__(self, origin: str, generation: int) -> None: ...
    def write(self, key: str, value: builtins.bytes, hlc: int) -> Record:
        """The next record under our origin."""

    def apply(self, record: Record) -> str:
        """Apply a pushed record: ``applied``, ``stale``, ``own`` or ``rejected``."""

    def restore(self, records: Sequence[Record]) -> None:
        """Records persisted by an earlier boot; ValueError unless the generation grew."""

    def digest(self) -> dict[str, int]:
        """Origin -> watermark, for watermarks above 0."""

    def deltas_for(self, digest: Mapping[str, int], byte_budget: int) -> list[OriginDelta]:
        """What a peer with this digest lacks, within byte_budget bytes of records."""

    def apply_deltas(self, deltas: Sequence[OriginDelta]) -> list[Record]:
        """Apply a peer's deltas; returns the records newly applied."""

    def get(self, origin: str, key: str) -> Record | None: ...
    def records_of(self, origin: str) -> list[Record]:
        """Held records, oldest version first."""

    def origins(self) -> list[str]: ...
    def watermark(self, origin: str) -> int: ...
    def max_version(self, origin: str) -> int: ...
    def has_newer_than(self, origin: str, version: int) -> bool: ...
    def has_version(self, origin: str, version: int) -> bool: ...
    def __copy__(self) -> Store: ...
    def __deepcopy__(self, memo: dict[Any, Any]) -> Store: ...
    def __len__(self) -> int: ...
    @property
    def bytes(self) -> int:
        """Sum of the encoded sizes of the records held."""

    @property
    def origin(self) -> str: ...
    @property
    def generation(self) -> int: ...
    @property
    def own_version(self) -> int:
        """The version of this boot's last write; ``generation << 32`` before the first."""

    @property
    def own_conflicts(self) -> int:
        """How often a peer showed a version of our origin that we never issued."""

MAX_SENDER_BYTES: int
"""Longest sender id a packet carries, in UTF-8 bytes."""
MAX_LABEL_BYTES: int
MAX_PACKET_PLAINTEXT_BYTES: int
PACKET_TAG_BYTES: int

class Keyring:
    """Cluster master keys by one-byte key id; one is primary.

    Rotate cluster-wide: ``add`` everywhere, then ``use`` everywhere, then ``remove``.
    ValueError for a key that is not 32 bytes, an id holding other bytes, or removing the primary.
    """

    def __init__(self) -> None: ...
    def add(self, key_id: int, key: bytes) -> None:
        """Install a 32-byte key; the first one becomes primary. Same bytes again: no-op."""

    def use(self, key_id: int) -> None:
        """Make an installed key the primary."""

    def remove(self, key_id: int) -> bool:
        """Uninstall a key; False if absent. ValueError for the primary."""

    def primary(self) -> int | None:
        """The primary key id, or None when empty."""

    def has(self, key_id: int) -> bool: ...
    def ids(self) -> list[int]:
        """Installed key ids, ascending."""

class Sealer:
    """Seals one node's packets under the keyring's primary key (AES-256-GCM).

    Keeps the keyring alive; rotation takes effect at the next seal. ``null_crypto`` keeps the
    framing but neither encrypts nor authenticates: for the simulator only.
    """

    def __init__(
        self,
        keyring: Keyring,
        label: str,
        sender: str,
        generation: int,
        *,
        null_crypto: bool = False,
    ) -> None: ...
    def seal(self, plaintext: bytes, channel: int = 0) -> bytes:
        """The packet for plaintext under the next counter; channel 0 datagram, 1 stream."""

    def counter(self) -> int:
        """Counter of the last packet sealed; 0 before the first."""

    @property
    def sender(self) -> str: ...
    @property
    def generation(self) -> int: ...

class OpenedPacket:
    """An authenticated packet's header fields and plaintext."""

    @property
    def sender(self) -> str: ...
    @property
    def generation(self) -> int: ...
    @property
    def counter(self) -> int: ...
    @property
    def channel(self) -> int: ...
    @property
    def key_id(self) -> int: ...
    @property
    def plaintext(self) -> bytes: ...

class Opener:
    """Opens packets from every sender, refusing forgeries and replays; never raises on input.

    Statuses: ``ok``, ``truncated``, ``bad_magic``, ``bad_format``, ``unknown_key``,
    ``bad_header``, ``replayed``, ``old_generation``, ``auth_failed``.
    """

    def __init__(
        self,
        keyring: Keyring,
        label: str,
        *,
        max_senders: int = 65536,
        null_crypto: bool = False,
    ) -> None: ...
    def open(self, packet: bytes) -> tuple[str, OpenedPacket | None]:
        """(status, OpenedPacket) on success, status 'ok'; (status, None) otherwise."""

    def counters(self) -> dict[str, int]:
        """Calls to open by status name."""

    def tracked_senders(self) -> int:
        """Senders whose replay state is kept."""

    def evicted_senders(self) -> int:
        """Senders dropped to make room."""
