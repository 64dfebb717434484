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

class Config:
    """Every knob of the gossip engine; times in milliseconds (see src/engine/config.hpp)."""

    probe_interval_ms: int
    probe_timeout_ms: int
    indirect_checks: int
    tcp_fallback: bool
    suspicion_mult: float
    suspicion_max_mult: float
    suspicion_confirmations: int
    max_health: int
    lifeguard: bool
    gossip_interval_ms: int
    gossip_fanout: int
    retransmit_mult: float
    eager_push: int
    datagram_budget: int
    rumor_queue_bytes: int
    anti_entropy_interval_ms: int
    anti_entropy_budget: int
    gossip_to_dead_ms: int
    reconnect_interval_ms: int
    reap_dead_ms: int
    stall_threshold_ms: int
    grace_ticks: int
    def __init__(self) -> None: ...
    @staticmethod
    def lan() -> Config:
        """memberlist's LAN defaults."""

    @staticmethod
    def local() -> Config:
        """Loopback tests: millisecond timers."""

class Simulation:
    """N gossip engines in virtual time over a seeded network model."""

    def __init__(
        self,
        nodes: int,
        seed: int,
        config: Config | str = "lan",
        loss: float = 0.0,
        latency_min_ms: int = 1,
        latency_max_ms: int = 2,
        encrypt: bool = False,
    ) -> None: ...
    @property
    def size(self) -> int: ...
    @property
    def now(self) -> int: ...
    def join_all(self) -> None: ...
    def run_until(self, until_ms: int) -> None: ...
    def run_for(self, ms: int) -> None: ...
    def write(self, node: int, key: str, value: bytes, hlc: int | None = None) -> Record:
        """A local write on node; hlc defaults to the virtual time."""
    def keep_events(self, on: bool) -> None:
        """Keep each node's engine events for drain_events, as a daemon's host would."""
    def drain_events(self, node: int) -> list[Event]:
        """Node's events since the last call, oldest first; lost when it crashes."""
    def restart_from(self, node: int, records: Sequence[Record]) -> None:
        """Restart node with a new generation, restoring exactly these records."""
    def generation(self, node: int) -> int: ...
    def crash(self, node: int) -> None: ...
    def restart(self, node: int, keep_records: bool) -> None: ...
    def pause(self, node: int, ms: int) -> None: ...
    def set_slow(self, node: int, extra_ms: int) -> None: ...
    def set_loss(self, loss: float) -> None: ...
    def partition(self, groups: list[list[int]]) -> None: ...
    def heal(self) -> None: ...
    def holders(self, record: Record) -> int:
        """Live nodes holding this record or a newer version of its key."""

    def first_held(self, record: Record, node: int) -> int:
        """Virtual time node first held the record; -1 if never."""

    def state_of(self, observer: int, node: int) -> str:
        """'alive', 'suspect', 'dead', 'left' or 'unknown', as observer sees node."""

    def incarnation_of(self, observer: int, node: int) -> int: ...
    def false_deaths(self) -> list[tuple[int, int, int]]:
        """(observer, node, time) of each dead verdict about a node that was up."""

    def death_times(self, node: int) -> list[int]:
        """Per observer, when it marked node dead or left; -1 if not."""

    def up(self, node: int) -> bool: ...
    def report(self, node: int) -> dict[str, object]: ...
    def digest(self, node: int) -> dict[str, int]: ...
    def trace_hash(self) -> int: ...

class Event:
    """Something a node's engine noticed; see ``Node.drain_events``."""

    @property
    def kind(self) -> str:
        """member_alive, member_suspect, member_dead, member_left, record, stalled, or
        rejected (packets from ``addr`` dropped; ``node`` is why, e.g. ``auth_failed``)."""

    @property
    def node(self) -> str:
        """The member, or the record's origin."""

    @property
    def addr(self) -> str: ...
    @property
    def meta(self) -> bytes: ...
    @property
    def record(self) -> Record | None:
        """The record applied, for kind 'record'; else None."""

class Member:
    """One row of a node's member table."""

    @property
    def node(self) -> str: ...
    @property
    def addr(self) -> str: ...
    @property
    def state(self) -> str:
        """alive, suspect, dead or left."""

    @property
    def incarnation(self) -> int: ...
    @property
    def meta(self) -> bytes: ...
    @property
    def since_ms(self) -> int:
        """When state last changed (node clock, ms)."""

    @property
    def heard_ms(self) -> int:
        """Last authenticated packet from it (node clock, ms); -1 if none yet."""

class Node:
    """The gossip engine on a UDP socket and a TCP listener sharing one port.

    A network thread of its own runs the protocol, so a Python thread holding the GIL does not
    delay probes; every method releases the GIL while it waits. ``keyring`` is copied. ``seed``
    None draws one. ``config`` is a Config or a preset name ("lan", "local"). ValueError for bad
    arguments; RuntimeError for a socket that cannot be bound, and for ``join``, ``write`` or
    ``set_meta`` after ``stop`` and ``restore`` after ``start``.
    """

    def __init__(
        self,
        node_id: str,
        *,
        generation: int,
        keyring: Keyring,
        label: str = "metaopt",
        bind_host: str = "127.0.0.1",
        port: int = 0,
        advertise_host: str | None = None,
        advertise_port: int | None = None,
        seed: int | None = None,
        config: Config | str = "lan",
        meta: bytes = b"",
        rcvbuf_bytes: int = 4194304,
    ) -> None: ...
    def start(self) -> None:
        """Start the network thread; no-op when running."""

    def stop(self, graceful: bool = True) -> None:
        """Leave (graceful) or just close, as a crash would; joins the thread. Idempotent."""

    @property
    def running(self) -> bool: ...
    def join(self, addrs: Sequence[str]) -> None:
        """Contact these host:port addresses to join their cluster."""

    def write(self, key: str, value: bytes, hlc: int) -> Record:
        """The next record under this node's origin, queued for gossip."""

    def restore(self, records: Sequence[Record]) -> None:
        """Records persisted by an earlier life of this node; before start only."""

    def set_meta(self, meta: bytes) -> None:
        """New metadata, announced with a fresh incarnation."""

    def drain_events(self, max: int = 1024) -> list[Event]:
        """Remove and return up to max queued events, oldest first."""

    def event_fd(self) -> int:
        """An eventfd, readable while events are queued (loop.add_reader)."""

    def members(self) -> list[Member]:
        """The member table, this node included."""

    def digest(self) -> dict[str, int]:
        """Origin -> watermark."""

    def get(self, origin: str, key: str) -> Record | None:
        """The record held for (origin, key), or None."""

    def records(self) -> list[Record]:
        """Every record held, of every origin (to catch up after dropped events)."""

    def stats(self) -> dict[str, int]:
        """Engine and socket counters by name; ``rejected_REASON``: packets dropped unopened."""

    @property
    def address(self) -> str:
        """host:port where others reach us."""

    @property
    def clock_ms(self) -> int:
        """Milliseconds since this node was made: the clock of since_ms."""

    @property
    def node_id(self) -> str: ...
    def __enter__(self) -> Node: ...
    def __exit__(self, exc_type: object, exc: object, tb: object) -> None: ...
