"""Replicated record store: versions, supersession, watermarks, Scuttlebutt deltas, restore.

Versions are built here with plain arithmetic, independently of the module's make_version. The
property test at the end runs random workloads (writes with key reuse, out-of-order pushes,
exchanges under random byte budgets, restarts) and checks that every store ends up with exactly
the writers' newest record per (origin, key).
"""

from __future__ import annotations

import copy
import gc
import os
import random
from collections.abc import Sequence

import pytest

from metaopt import _core
from metaopt._core import OriginDelta
from metaopt._core import Record
from metaopt._core import Store
from metaopt._core import encode_record

BIG = 1 << 30  # a byte budget that never truncates


def v(generation: int, seq: int) -> int:
    return generation << 32 | seq


def exchange(receiver: Store, sender: Store, budget: int = BIG) -> list[Record]:
    """One direction of anti-entropy: the receiver's digest, the sender's deltas, applied."""
    return receiver.apply_deltas(sender.deltas_for(receiver.digest(), budget))


def write_keys(store: Store, *keys: str) -> list[Record]:
    return [store.write(key, key.encode(), i) for i, key in enumerate(keys, 1)]


def versions(records: Sequence[Record]) -> list[int]:
    return [r.version for r in records]


def delta_origins(deltas: Sequence[OriginDelta]) -> list[str]:
    return [d.origin for d in deltas]


# --- versions and writes ------------------------------------------------------------------------


def test_version_packs_generation_and_seq() -> None:
    assert _core.make_version(3, 7) == v(3, 7) == 3 * 2**32 + 7
    assert _core.version_generation(v(3, 7)) == 3
    assert _core.version_seq(v(3, 7)) == 7
    assert _core.MAX_SEQ == 2**32 - 1


def test_store_write_numbers_versions_by_generation_and_seq() -> None:
    store = Store("a", 3)
    assert store.own_version == v(3, 0)
    records = write_keys(store, "x", "y", "x")
    assert versions(records) == [v(3, 1), v(3, 2), v(3, 3)]
    assert records[0] == Record("a", "x", v(3, 1), 1, b"x")
    assert store.own_version == store.watermark("a") == v(3, 3)
    assert (store.origin, store.generation) == ("a", 3)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("k" * 4097, b"", "key is 4097 bytes"),
        ("k", b"x" * (16 * 1024 * 1024 + 1), "value is 16777217 bytes"),
    ],
)
def test_store_write_rejects_oversize_field(key: str, value: bytes, message: str) -> None:
    store = Store("a", 1)
    with pytest.raises(ValueError, match=message):
        store.write(key, value, 1)
    assert (len(store), store.own_version, store.digest()) == (0, v(1, 0), {})


@pytest.mark.parametrize("origin", ["", "o" * 256])
def test_store_rejects_bad_own_origin(origin: str) -> None:
    with pytest.raises(ValueError, match="origin"):
        Store(origin, 1)


# --- apply and supersession ---------------------------------------------------------------------


def test_store_apply_new_then_stale() -> None:
    a, b = Store("a", 1), Store("b", 1)
    (record,) = write_keys(a, "k")
    assert b.apply(record) == "applied"
    assert b.apply(record) == "stale"
    assert b.get("a", "k") == record
    assert b.get("a", "missing") is None
    assert b.get("nobody", "k") is None
    assert len(b) == 1


def test_store_newer_version_supersedes_older() -> None:
    a, b = Store("a", 1), Store("b", 1)
    old, other, new = write_keys(a, "k", "j", "k")
    assert len(a) == 2  # the writer keeps only its newest k too
    assert b.apply(old) == "applied"
    assert b.apply(new) == "applied"
    assert b.apply(old) == "stale"
    assert b.get("a", "k") == new
    assert b.records_of("a") == [new]
    assert b.apply(other) == "applied"
    assert b.records_of("a") == [other, new]  # oldest version first
    assert b.bytes == len(encode_record(other)) + len(encode_record(new))


def test_store_bytes_counts_encoded_sizes() -> None:
    store = Store("a", 7)
    records = [store.write(f"key/{i}", bytes(i * 13), 1000 + i) for i in range(20)]
    assert store.bytes == sum(len(encode_record(r)) for r in records)
    records[3] = store.write("key/3", b"", 5)  # supersedes the first key/3
    assert store.bytes == sum(len(encode_record(r)) for r in records)


@pytest.mark.parametrize(
    "record",
    [
        Record("a", "k", v(1, 0), 1, b""),  # seq 0: no write has it
        Record("a", "k", 0, 1, b""),
        Record("", "k", v(1, 1), 1, b""),
        Record("a" * 256, "k", v(1, 1), 1, b""),
        Record("a", "k" * 4097, v(1, 1), 1, b""),
        Record("a", "k", v(1, 1), 1, b"x" * (16 * 1024 * 1024 + 1)),
    ],
    ids=["seq-0", "version-0", "empty-origin", "long-origin", "long-key", "long-value"],
)
def test_store_apply_rejects_malformed_record(record: Record) -> None:
    store = Store("b", 1)
    assert store.apply(record) == "rejected"
    assert (len(store), store.digest(), store.origins()) == (0, {}, [])


def test_store_apply_rejects_version_held_under_another_key() -> None:
    store = Store("b", 1)
    assert store.apply(Record("a", "k", v(1, 4), 1, b"")) == "applied"
    assert store.apply(Record("a", "j", v(1, 4), 1, b"")) == "rejected"
    assert store.get("a", "j") is None


# --- watermarks ---------------------------------------------------------------------------------


def test_watermark_advances_by_dense_successor_and_catches_up() -> None:
    a, b = Store("a", 1), Store("b", 1)
    r1, r2, r3, r4 = write_keys(a, "w", "x", "y", "z")
    assert b.apply(r1) == "applied"
    # Generation 1 may have had predecessors, so seq 1 alone proves nothing.
    assert b.watermark("a") == 0
    b.apply_deltas(a.deltas_for(b.digest(), 1))  # vouches for r1 only
    assert b.watermark("a") == r1.version
    assert b.apply(r3) == "applied"
    assert b.apply(r4) == "applied"
    assert b.watermark("a") == r1.version  # held out of order: a gap at r2
    assert b.max_version("a") == r4.version
    assert b.apply(r2) == "applied"
    assert b.watermark("a") == r4.version  # r2 closes the gap, then r3 and r4 follow


def test_watermark_generation_zero_starts_dense_at_one() -> None:
    a, b = Store("a", 0), Store("b", 1)
    r1, r2 = write_keys(a, "x", "y")
    assert r1.version == 1
    b.apply(r2)
    assert b.watermark("a") == 0
    b.apply(r1)
    assert b.watermark("a") == r2.version


def test_watermark_push_never_crosses_a_generation() -> None:
    a1, b = Store("a", 1), Store("b", 1)
    write_keys(a1, "x", "y")
    exchange(b, a1)
    assert b.watermark("a") == v(1, 2)
    a2 = Store("a", 2)
    a2.restore(a1.records_of("a"))
    (first,) = write_keys(a2, "z")
    assert first.version == v(2, 1)
    assert b.apply(first) == "applied"
    # Generation 1 may have written more after v(1, 2) that b never saw.
    assert b.watermark("a") == v(1, 2)
    exchange(b, a2)
    assert b.watermark("a") == v(2, 1)


def test_watermark_never_lowers() -> None:
    a, b = Store("a", 1), Store("b", 1)
    write_keys(a, "x", "y", "z")
    exchange(b, a)
    assert b.apply_deltas([OriginDelta("a", [], v(1, 1))]) == []
    assert b.watermark("a") == v(1, 3)


# --- deltas -------------------------------------------------------------------------------------


def hub_with(counts: dict[str, int]) -> tuple[Store, dict[str, list[Record]]]:
    """A store holding `counts[o]` records of each origin o, with full watermarks."""
    hub = Store("hub", 1)
    written = {}
    for origin, count in counts.items():
        writer = Store(origin, 1)
        written[origin] = write_keys(writer, *(f"k{i}" for i in range(count)))
        exchange(hub, writer)
    return hub, written


def test_deltas_unknown_origins_first_then_most_behind_then_name() -> None:
    hub, written = hub_with({"ann": 5, "bob": 3, "cid": 2, "dan": 2, "eve": 1})
    peer = {"ann": written["ann"][0].version, "bob": written["bob"][1].version}
    deltas = hub.deltas_for(peer, BIG)
    # unknown: cid and dan owe 2 (by name), eve 1; known: ann owes 4, bob 1.
    assert delta_origins(deltas) == ["cid", "dan", "eve", "ann", "bob"]
    by_origin = {d.origin: d for d in deltas}
    assert by_origin["ann"].records == written["ann"][1:]
    assert by_origin["bob"].records == written["bob"][2:]
    assert by_origin["cid"].records == written["cid"]
    assert all(d.covered_up_to == hub.watermark(d.origin) for d in deltas)


def test_deltas_skip_origins_the_peer_is_level_with_or_ahead_of() -> None:
    hub, written = hub_with({"ann": 2, "bob": 2})
    peer = {"ann": written["ann"][1].version, "bob": v(9, 9), "zed": 5}
    assert hub.deltas_for(peer, BIG) == []


def test_deltas_tiny_budget_sends_one_record_and_covers_only_it() -> None:
    a, b = Store("a", 1), Store("b", 1)
    records = write_keys(a, "p", "q", "r", "s")
    for i, record in enumerate(records):
        deltas = a.deltas_for(b.digest(), 1)
        assert deltas == [OriginDelta("a", [record], record.version)], i
        assert b.apply_deltas(deltas) == [record]
    assert b.digest() == a.digest()
    assert a.deltas_for(b.digest(), 1) == []


def test_deltas_budget_stops_at_first_record_that_does_not_fit() -> None:
    hub, written = hub_with({"ann": 4, "bob": 3})
    size = len(encode_record(written["ann"][0]))
    deltas = hub.deltas_for({}, 2 * size + size // 2)
    # ann owes more, so it goes first and takes the budget; bob waits for the next round.
    assert deltas == [OriginDelta("ann", written["ann"][:2], written["ann"][1].version)]


def test_deltas_without_budget_still_send_origins_with_nothing_left_to_send() -> None:
    a, relay, b = Store("a", 1), Store("r", 1), Store("b", 1)
    x, k_old = write_keys(a, "x", "k")
    exchange(relay, a)  # the relay holds x and k_old
    _, k_new = write_keys(a, "y", "k")
    b.apply_deltas(relay.deltas_for(b.digest(), 1))  # x
    b.apply(k_new)  # held beyond the watermark
    b.apply_deltas(relay.deltas_for(b.digest(), 1))  # k_old: stale at b, but vouched for
    assert b.watermark("a") == k_old.version
    assert b.records_of("a") == [x, k_new]
    # A peer that knows up to x: b owes it (x, k_old], which was all superseded, so b sends no
    # record but still lets the peer's watermark catch up.
    peer = {"a": x.version}
    assert b.deltas_for(peer, 1) == [OriginDelta("a", [], k_old.version)]
    # The same when another origin has taken the budget.
    (other,) = write_keys(Store("d", 1), "m")
    b.apply_deltas([OriginDelta("d", [other], other.version)])
    assert b.deltas_for(peer, 1) == [
        OriginDelta("d", [other], other.version),
        OriginDelta("a", [], k_old.version),
    ]


def test_deltas_never_forward_records_beyond_the_watermark() -> None:
    a, b, c = Store("a", 1), Store("b", 1), Store("c", 1)
    r1, r2, r3 = write_keys(a, "x", "y", "z")
    assert b.apply(r3) == "applied"
    assert b.deltas_for(c.digest(), BIG) == []
    assert b.digest() == {}
    assert (b.max_version("a"), b.has_newer_than("a", r2.version)) == (r3.version, True)
    assert not b.has_newer_than("a", r3.version)
    assert b.has_version("a", r3.version)
    assert not b.has_version("a", r2.version)  # a rumour of r2 is worth a pull
    b.apply_deltas(a.deltas_for(b.digest(), 1))  # r1
    assert b.deltas_for(c.digest(), BIG) == [OriginDelta("a", [r1], r1.version)]


def test_deltas_are_deterministic() -> None:
    hub, _ = hub_with({"ann": 3, "bob": 3, "cid": 1})
    assert hub.deltas_for({"bob": 1}, 100) == hub.deltas_for({"bob": 1}, 100)


def test_apply_deltas_returns_only_new_records_in_order() -> None:
    a, b = Store("a", 1), Store("b", 1)
    r1, r2, r3 = write_keys(a, "x", "y", "z")
    b.apply(r2)
    assert exchange(b, a) == [r1, r3]
    assert exchange(b, a) == []


def test_apply_deltas_does_not_trust_a_delta_with_a_bad_record() -> None:
    a, b = Store("a", 1), Store("b", 1)
    r1, r2 = write_keys(a, "x", "y")
    foreign = Record("z", "x", v(1, 1), 1, b"")
    assert b.apply_deltas([OriginDelta("a", [r1, foreign], r2.version)]) == [r1]
    assert b.watermark("a") == 0
    assert b.get("z", "x") is None
    assert b.apply_deltas([OriginDelta("", [], 5)]) == []
    assert b.digest() == {}


def test_origin_delta_is_a_plain_value() -> None:
    record = Record("a", "k", v(1, 1), 1, b"v")
    delta = OriginDelta("a", [record], v(1, 1))
    assert (delta.origin, delta.records, delta.covered_up_to) == ("a", [record], v(1, 1))
    assert delta == OriginDelta("a", [record], v(1, 1))
    assert delta != OriginDelta("a", [], v(1, 1))
    assert delta != "a"
    delta.covered_up_to = 9
    assert delta.covered_up_to == 9
    assert repr(delta) == "OriginDelta(origin='a', records=<1 records>, covered_up_to=9)"


def test_store_copy_is_independent_and_whole() -> None:
    a, b = Store("a", 1), Store("b", 1)
    write_keys(a, "x", "y", "x")
    exchange(b, a)
    snapshot = copy.copy(b)
    deep = copy.deepcopy(b)
    records = b.records_of("a")
    del b
    gc.collect()
    for store in (snapshot, deep):
        assert store.records_of("a") == records
        assert store.deltas_for({}, BIG) == [OriginDelta("a", records, v(1, 3))]
    (newer,) = write_keys(a, "y")
    exchange(snapshot, a)  # supersedes through the copy's own version index
    assert snapshot.records_of("a") == [records[1], newer]
    assert deep.records_of("a") == records


# --- restore ------------------------------------------------------------------------------------


@pytest.mark.parametrize("generation", [2, 3])
def test_restore_requires_generation_to_grow(generation: int) -> None:
    old = Store("a", 2)
    write_keys(old, "x")
    other = Record("b", "y", v(1, 1), 1, b"")
    store = Store("a", generation)
    if generation == 2:
        with pytest.raises(ValueError, match="generation must grow across restarts"):
            store.restore([other, *old.records_of("a")])
        assert (len(store), store.digest()) == (0, {})  # nothing half-restored
    else:
        store.restore([other, *old.records_of("a")])
        assert len(store) == 2


def test_restore_rejects_malformed_record() -> None:
    store = Store("a", 2)
    with pytest.raises(ValueError, match="persisted record 1: version has seq 0"):
        store.restore([Record("b", "y", v(1, 1), 1, b""), Record("b", "z", v(1, 0), 1, b"")])
    assert len(store) == 0


def test_restore_continues_own_versions_in_the_new_generation() -> None:
    old = Store("a", 1)
    persisted = write_keys(old, "x", "y", "z")
    store = Store("a", 2)
    store.restore(persisted)
    assert store.watermark("a") == v(1, 3)
    assert store.own_version == v(2, 0)
    (record,) = write_keys(store, "x")
    assert record.version == v(2, 1)
    assert store.records_of("a") == [*persisted[1:], record]
    peer = Store("p", 1)
    exchange(peer, store)
    assert peer.records_of("a") == store.records_of("a")
    assert peer.digest() == {"a": v(2, 1)}


def test_restore_other_origins_start_low_then_one_exchange_fixes_them() -> None:
    a, b = Store("a", 1), Store("b", 1)
    write_keys(a, "x", "y", "x", "z")
    write_keys(b, "own")
    exchange(b, a)
    persisted = b.records_of("a") + b.records_of("b")
    b2 = Store("b", 2)
    b2.restore(persisted)
    assert b2.watermark("a") == 0  # conservative: a's earlier writes cannot be proven held
    assert b2.records_of("a") == a.records_of("a")
    assert b2.watermark("b") == v(1, 1)
    assert exchange(b2, a) == []  # the resend is all duplicates
    assert b2.watermark("a") == a.watermark("a")


# --- own origin ---------------------------------------------------------------------------------


def test_own_conflicts_detect_a_reused_generation() -> None:
    first_life, peer = Store("a", 1), Store("p", 1)
    records = write_keys(first_life, "x", "y", "z")
    exchange(peer, first_life)
    reused = Store("a", 1)  # the host lost its generation counter
    write_keys(reused, "w")
    deltas = peer.deltas_for(reused.digest(), BIG)
    assert delta_origins(deltas) == ["a"]
    assert reused.apply_deltas(deltas) == []
    assert reused.own_conflicts == 1
    assert reused.watermark("a") == v(1, 1)
    assert reused.get("a", "z") is None  # never kept
    assert reused.apply(records[2]) == "own"
    assert reused.own_conflicts == 2
    assert reused.apply(records[0]) == "stale"  # v(1, 1): ours in this boot's eyes
    assert reused.own_conflicts == 2


def test_own_records_of_an_earlier_boot_are_recovered_if_newer() -> None:
    first_life = Store("a", 1)
    x, y = write_keys(first_life, "x", "y")
    store = Store("a", 2)  # lost its log
    (y2,) = write_keys(store, "y")
    assert store.apply(x) == "own"
    assert store.get("a", "x") == x
    assert store.apply(x) == "stale"
    assert store.apply(y) == "stale"  # y2 supersedes it
    assert store.get("a", "y") == y2
    assert store.apply(y2) == "stale"
    assert store.own_conflicts == 0


def test_own_origin_deltas_recover_lost_records_but_never_lower_our_watermark() -> None:
    store = Store("a", 2)
    write_keys(store, "x")
    old = Record("a", "old", v(1, 5), 1, b"")
    assert store.apply_deltas([OriginDelta("a", [old], v(1, 9))]) == [old]  # the host keeps it
    assert store.watermark("a") == v(2, 1)
    assert store.get("a", "old") == old  # an earlier boot's record, recovered
    assert store.own_conflicts == 0


def test_a_restart_with_an_empty_disk_catches_up_on_its_own_origin() -> None:
    first_life = Store("a", 1)
    x, y = write_keys(first_life, "x", "y")
    peer = Store("b", 1)
    peer.apply_deltas(first_life.deltas_for(peer.digest(), 1 << 20))
    reborn = Store("a", 2)  # a new disk: nothing restored
    recovered = reborn.apply_deltas(peer.deltas_for(reborn.digest(), 1 << 20))
    assert recovered == [x, y]
    assert reborn.digest() == peer.digest()  # so the two stop exchanging deltas
    assert reborn.own_conflicts == 0


# --- convergence under random workloads ---------------------------------------------------------


class Cluster:
    """A few stores, the writers' truth, and the random moves between them."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.names = [f"n{i}" for i in range(rng.randint(3, 5))]
        self.stores = {name: Store(name, 1) for name in self.names}
        self.truth: dict[tuple[str, str], Record] = {}
        self.written: list[Record] = []
        self.hlc = 0

    def write(self) -> None:
        name = self.rng.choice(self.names)
        key = f"k{self.rng.randrange(6)}"
        self.hlc += 1
        value = self.rng.randbytes(self.rng.randrange(0, 60))
        record = self.stores[name].write(key, value, self.hlc)
        self.truth[name, key] = record
        self.written.append(record)

    def push(self) -> None:
        if self.written:
            record = self.rng.choice(self.written[-12:])
            self.stores[self.rng.choice(self.names)].apply(record)

    def exchange(self) -> None:
        receiver, sender = (self.stores[n] for n in self.rng.sample(self.names, 2))
        peer = receiver.digest()
        deltas = sender.deltas_for(peer, self.rng.choice([1, 40, 150, 600, BIG]))
        check_deltas(deltas, peer)
        receiver.apply_deltas(deltas)

    def restart(self) -> None:
        name = self.rng.choice(self.names)
        old = self.stores[name]
        persisted = [r for origin in old.origins() for r in old.records_of(origin)]
        self.stores[name] = Store(name, old.generation + 1)
        self.stores[name].restore(persisted)

    def converged(self) -> bool:
        digests = [store.digest() for store in self.stores.values()]
        return all(d == digests[0] for d in digests)


def check_deltas(deltas: Sequence[OriginDelta], peer: dict[str, int]) -> None:
    for delta in deltas:
        vs = versions(delta.records)
        assert vs == sorted(set(vs))
        assert all(peer.get(delta.origin, 0) < x <= delta.covered_up_to for x in vs)


@pytest.mark.parametrize("seed", range(60))
def test_stores_converge_to_the_writers_newest_records(seed: int) -> None:
    rng = random.Random(seed)
    cluster = Cluster(rng)
    moves = [cluster.write] * 9 + [cluster.push] * 4 + [cluster.exchange] * 6 + [cluster.restart]
    for _ in range(rng.randint(60, 200)):
        rng.choice(moves)()
    for _ in range(5000):
        if cluster.converged():
            break
        cluster.exchange()
    assert cluster.converged(), seed

    # Equal digests mean every store is level with each writer's own watermark.
    writers = {o: cluster.stores[o].watermark(o) for o in cluster.names}
    for name, store in cluster.stores.items():
        held = {(o, r.key): r for o in store.origins() for r in store.records_of(o)}
        assert held == cluster.truth, (seed, name)
        assert store.digest() == {o: w for o, w in writers.items() if w}
        assert store.own_conflicts == 0


# --- memory -------------------------------------------------------------------------------------


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.mark.skipif(
    "libasan" in os.environ.get("LD_PRELOAD", ""),
    reason="AddressSanitizer's redzones and quarantine inflate the heap",
)
def test_store_memory_stays_under_twice_the_data() -> None:
    store = Store("mem", 1)
    value = bytes(range(256)) + bytes(216)  # 472 bytes: about 500 encoded
    before = rss_bytes()
    for i in range(100_000):
        store.write(f"trial/{i:06d}", value, i)
    growth = rss_bytes() - before
    assert len(store) == 100_000
    assert 49_000_000 < store.bytes < 51_000_000
    assert growth < 2 * store.bytes, (growth, store.bytes)
