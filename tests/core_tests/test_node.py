"""Node: the engine on real sockets, on its own network thread.

Real UDP and TCP on loopback and between network namespaces, real time with ``Config.local()``
timers (100 ms probe period); every wait polls a condition instead of sleeping a guess.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
import select
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from metaopt._core import Config
from metaopt._core import Keyring
from metaopt._core import Node
from metaopt._core import Record
from metaopt._core import version_generation
from tests.helpers import SCRIPTS
from tests.helpers import wait_until

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
ALARMS = {"member_suspect", "member_dead", "stalled"}

MakeNode = Callable[..., Node]
Popen = subprocess.Popen[bytes]
PORT = 7946  # every node on its own namespace's address


def keyring(key: bytes = KEY) -> Keyring:
    ring = Keyring()
    ring.add(1, key)
    return ring


@pytest.fixture
def make_node() -> Iterator[MakeNode]:
    """Nodes on 127.0.0.1 with local timers, not yet started; all stopped at the end."""
    nodes: list[Node] = []

    def make(name: str, *, key: bytes = KEY, generation: int = 1, port: int = 0) -> Node:
        node = Node(
            name,
            generation=generation,
            keyring=keyring(key),
            port=port,
            config="local",
            seed=len(nodes) + 1,
        )
        nodes.append(node)
        return node

    yield make
    for node in nodes:
        node.stop(graceful=False)


def start_cluster(make_node: MakeNode, n: int) -> list[Node]:
    """n nodes, each joined through the first, all seeing each other alive."""
    nodes = [make_node(f"n{i}") for i in range(n)]
    for node in nodes:
        node.start()
    for node in nodes[1:]:
        node.join([nodes[0].address])
    names = {node.node_id for node in nodes}
    wait_until(lambda: all(alive(node) == names for node in nodes), 15, f"{n} alive members")
    return nodes


def alive(node: Node) -> set[str]:
    return {m.node for m in node.members() if m.state == "alive"}


def state_of(observer: Node, name: str) -> str | None:
    return next((m.state for m in observer.members() if m.node == name), None)


def value(rng: random.Random) -> bytes:
    return rng.randbytes(rng.randint(100, 500))


def write_spread(nodes: list[Node], count: int, seed: int = 7, prefix: str = "r") -> list[Record]:
    """count records with unique keys, written round-robin over the nodes."""
    rng = random.Random(seed)
    stamp = time.time_ns() // 1_000_000 << 16
    return [
        nodes[i % len(nodes)].write(f"{prefix}{i}", value(rng), stamp + i) for i in range(count)
    ]


def expected_digest(records: list[Record]) -> dict[str, int]:
    digest: dict[str, int] = {}
    for r in records:
        digest[r.origin] = max(digest.get(r.origin, 0), r.version)
    return digest


def assert_holds(node: Node, records: list[Record]) -> None:
    missing = [(r.origin, r.key) for r in records if node.get(r.origin, r.key) != r]
    assert not missing, f"{node.node_id} lacks {len(missing)} records, e.g. {missing[:5]}"


def hold_for(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    """Fail as soon as ``predicate`` turns false within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert predicate(), what
        time.sleep(0.05)


def test_node_five_join_through_first(make_node: MakeNode) -> None:
    nodes = start_cluster(make_node, 5)
    for node in nodes:
        by_name = {m.node: m for m in node.members()}
        assert sorted(by_name) == ["n0", "n1", "n2", "n3", "n4"]
        assert all(by_name[o.node_id].addr == o.address for o in nodes)
        stats = node.stats()
        assert stats["errors"] == 0
        assert stats["packets_rejected"] == 0
        assert stats["rcvbuf_bytes"] > 0

    def heard_from_all(node: Node) -> bool:  # directly, by the node's own clock, once probed
        heard = [m.heard_ms for m in node.members() if m.node != node.node_id]
        return all(0 <= h <= node.clock_ms for h in heard)

    wait_until(lambda: all(heard_from_all(n) for n in nodes), 10, "a packet from every peer")


def test_node_event_fd_readable_while_events_wait(make_node: MakeNode) -> None:
    a, b = make_node("a"), make_node("b")
    with a, b:
        assert select.select([a.event_fd()], [], [], 0)[0] == []
        b.join([a.address])
        wait_until(lambda: select.select([a.event_fd()], [], [], 0)[0], 10, "a readable event fd")
        events = a.drain_events()
        assert ("member_alive", "b", b.address) in [(e.kind, e.node, e.addr) for e in events]
        assert all(e.record is None for e in events)
        if not select.select([a.event_fd()], [], [], 0)[0]:
            assert a.drain_events() == []  # nothing came meanwhile: the fd was reset
        written = b.write("k", b"v" * 200, 1)
        records = wait_until(
            lambda: [e.record for e in a.drain_events() if e.kind == "record"], 10, "a record"
        )
        assert records == [written]
    assert not a.running
    with pytest.raises(RuntimeError, match="stopped"):
        a.write("k", b"v", 2)
    with pytest.raises(RuntimeError, match="stopped"):
        a.start()


def test_node_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="no key"):
        Node("a", generation=1, keyring=Keyring())
    with pytest.raises(ValueError, match="wildcard"):
        Node("a", generation=1, keyring=keyring(), bind_host="0.0.0.0")
    with pytest.raises(ValueError, match="preset"):
        Node("a", generation=1, keyring=keyring(), config="wan")
    node = Node("a", generation=1, keyring=keyring(), bind_host="localhost")
    assert node.address.startswith("127.0.0.1:")
    with pytest.raises(ValueError, match="host:port"):
        node.join(["no-port"])
    node.start()
    with pytest.raises(RuntimeError, match="before start"):
        node.restore([])
    node.stop()
    node.stop()


def test_node_advertises_another_address(make_node: MakeNode) -> None:
    node = Node(
        "a", generation=1, keyring=keyring(), bind_host="0.0.0.0", advertise_host="127.0.0.1"
    )
    assert node.address.startswith("127.0.0.1:")
    other = make_node("b")
    with node:
        other.start()
        other.join([node.address])
        wait_until(lambda: alive(node) == {"a", "b"} == alive(other), 10, "a and b alive")


@pytest.mark.slow
def test_node_five_replicate_ten_thousand_records(make_node: MakeNode) -> None:
    nodes = start_cluster(make_node, 5)
    records = write_spread(nodes, 10_000)
    want = expected_digest(records)
    wait_until(lambda: all(n.digest() == want for n in nodes), 60, "every digest complete")
    for node in nodes:
        assert_holds(node, records)
        stats = node.stats()
        assert stats["errors"] == stats["datagrams_oversize"] == stats["events_dropped"] == 0


@pytest.mark.slow
def test_node_busy_python_thread_does_not_stall_probes(make_node: MakeNode) -> None:
    nodes = start_cluster(make_node, 5)
    for node in nodes:
        node.drain_events(1 << 20)
    before = [node.stats() for node in nodes]
    # Ten seconds (100 probe periods) of pure Python in the main thread, which holds the GIL
    # but for the interpreter's periodic switches to other Python threads.
    start = time.monotonic()
    while time.monotonic() - start < 10:
        pass
    after = [node.stats() for node in nodes]
    alarms = [(n.node_id, e.kind, e.node) for n in nodes for e in n.drain_events(1 << 20)]
    assert [a for a in alarms if a[1] in ALARMS] == []
    for node, b, a in zip(nodes, before, after, strict=True):
        assert a["probes"] - b["probes"] >= 50, f"{node.node_id} probed too little meanwhile"
        assert a["suspicions"] == b["suspicions"]
        assert a["stalls"] == b["stalls"]
        assert alive(node) == {n.node_id for n in nodes}


@pytest.mark.slow
def test_node_killed_restarts_restores_and_catches_up(make_node: MakeNode) -> None:
    nodes = start_cluster(make_node, 4)
    others, victim = nodes[:3], nodes[3]
    first = write_spread(nodes, 400, seed=1)
    # The victim's "disk": what it wrote and every record event it saw.
    disk = [r for r in first if r.origin == victim.node_id]
    want = expected_digest(first)

    def persist() -> None:
        disk.extend(e.record for e in victim.drain_events(1 << 20) if e.record is not None)

    wait_until(lambda: (persist(), victim.digest() == want)[1], 30, "the victim caught up")
    persist()
    first_life_max = max(r.version for r in disk if r.origin == victim.node_id)
    port = int(victim.address.rsplit(":", 1)[1])

    victim.stop(graceful=False)  # a crash: no leave
    wait_until(
        lambda: all(state_of(o, victim.node_id) == "dead" for o in others), 15, "victim dead"
    )
    later = write_spread(others, 300, seed=2, prefix="later")

    reborn = make_node(victim.node_id, generation=2, port=port)
    assert reborn.address == victim.address
    reborn.restore(disk)
    reborn.start()
    reborn.join([others[0].address])
    everything = first + later
    want = expected_digest(everything)
    wait_until(lambda: reborn.digest() == want, 30, "the restarted node caught up")
    assert_holds(reborn, everything)
    wait_until(
        lambda: all(state_of(o, victim.node_id) == "alive" for o in others), 15, "victim alive"
    )

    fresh = [reborn.write(f"new{i}", b"x" * 150, i) for i in range(20)]
    assert all(r.version > first_life_max for r in fresh)
    assert {version_generation(r.version) for r in fresh} == {2}
    want = expected_digest(everything + fresh)
    wait_until(lambda: all(o.digest() == want for o in others), 30, "others hold the new writes")
    for other in others:
        assert_holds(other, fresh)


def test_node_with_wrong_key_cannot_join(make_node: MakeNode) -> None:
    nodes = start_cluster(make_node, 3)
    intruder = make_node("intruder", key=OTHER_KEY)
    intruder.start()
    intruder.join([nodes[0].address, nodes[1].address])
    wait_until(
        lambda: (
            nodes[0].stats()["packets_rejected"] > 0 and nodes[1].stats()["packets_rejected"] > 0
        ),
        10,
        "the intruder's packets rejected",
    )
    names = {n.node_id for n in nodes}

    def apart() -> bool:
        return all({m.node for m in n.members()} == names for n in nodes) and alive(intruder) == {
            "intruder"
        }

    hold_for(apart, 2, "the intruder got in")
    assert intruder.stats()["records_applied"] == 0
    stats = nodes[0].stats()  # counted by reason: a packet under another key does not verify
    assert stats["rejected_auth_failed"] == stats["packets_rejected"] > 0


def test_node_drops_oversize_datagrams_and_syncs_over_tcp(make_node: MakeNode) -> None:
    big = Config.local()
    big.datagram_budget = 200_000  # the engine would fill datagrams past UDP's 65,507 bytes
    a = Node("a", generation=1, keyring=keyring(), config=big, seed=1)
    b = make_node("b")
    with a:
        # Alone, a queues every rumour; the first datagrams to b would carry them all.
        records = [a.write(f"k{i}", bytes([i % 256]) * 400, i) for i in range(400)]
        want = expected_digest(records)
        b.start()
        b.join([a.address])
        wait_until(lambda: b.digest() == want, 30, "b to hold a's records")
        assert_holds(b, records)
        wait_until(lambda: a.stats()["datagrams_oversize"] > 0, 10, "oversize datagrams counted")
        assert a.stats()["errors"] == 0


def test_node_drops_frames_to_unreachable_peers(make_node: MakeNode) -> None:
    a = make_node("a")
    a.start()
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        refused = closed.getsockname()[1]  # nothing listens there once this closes
    a.join([f"127.0.0.1:{refused}"])
    wait_until(lambda: a.stats()["frames_dropped"] >= 1, 10, "the refused frame dropped")
    assert a.stats()["tcp_connect_failures"] >= 1
    # A listener that never accepts, its backlog full: further SYNs go unanswered.
    with socket.socket() as hole, socket.socket() as filler:
        hole.bind(("127.0.0.1", 0))
        hole.listen(0)
        filler.connect(hole.getsockname())
        before = a.stats()
        a.join([f"127.0.0.1:{hole.getsockname()[1]}"])
        wait_until(
            lambda: a.stats()["tcp_connect_failures"] > before["tcp_connect_failures"],
            10,
            "the connect to time out",
        )
    after = a.stats()
    assert after["frames_dropped"] > before["frames_dropped"]
    assert after["errors"] == 0


def test_node_survives_hostile_input(make_node: MakeNode) -> None:
    a, b = make_node("a"), make_node("b")
    with a, b:
        b.join([a.address])
        wait_until(lambda: alive(a) == {"a", "b"}, 10, "a and b alive")
        host, port = a.address.rsplit(":", 1)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            for size in (0, 1, 40, 1200, 65_000):
                udp.sendto(os.urandom(size), (host, int(port)))
        streams = [
            b"\xff\xff\xff\xff",  # a frame over the 64 MiB cap
            b"\x00\x00\x00\x05hello",  # not a hello
            b"\x00\x00\x00\x0bMOHELLO1x:1" + b"\x00\x00\x00\x03abc",  # a frame that is no packet
        ]
        for data in streams:
            with socket.create_connection((host, int(port))) as tcp:
                tcp.sendall(data)
        wait_until(lambda: a.stats()["tcp_errors"] >= 2, 10, "bad streams closed")
        wait_until(lambda: a.stats()["packets_rejected"] >= 5, 10, "garbage rejected")
        assert a.stats()["frames_oversize"] >= 1
        assert a.stats()["errors"] == 0
        written = b.write("after", b"still here", 1)
        wait_until(lambda: a.get("b", "after") == written, 10, "a still replicating")
        hold_for(lambda: alive(a) == {"a", "b"}, 0.5, "a lost b")


# ---- network namespaces -------------------------------------------------------------------------


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


class Namespaces:
    """A hub namespace with a bridge and n host namespaces wired to it: 10.213.<net>.<i>/24."""

    def __init__(self, n: int) -> None:
        token = secrets.token_hex(3)
        self.hub = f"mo{token}hub"
        self.hosts = [f"mo{token}h{i}" for i in range(1, n + 1)]
        self.subnet = 10 + int(token, 16) % 240
        self.created: list[str] = []

    def addr(self, i: int) -> str:
        return f"10.213.{self.subnet}.{i + 1}"

    def build(self) -> None:
        _ip("netns", "add", self.hub)
        self.created.append(self.hub)
        _ip("-n", self.hub, "link", "add", "br0", "type", "bridge")
        _ip("-n", self.hub, "link", "set", "br0", "up")
        for i, ns in enumerate(self.hosts):
            _ip("netns", "add", ns)
            self.created.append(ns)
            port = f"p{i}"
            _ip("-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", port, "netns",
                self.hub)  # fmt: skip
            _ip("-n", self.hub, "link", "set", port, "master", "br0", "up")
            _ip("-n", ns, "addr", "add", f"{self.addr(i)}/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")
            _ip("-n", ns, "link", "set", "lo", "up")

    def block_udp(self, i: int) -> None:
        """Drops every UDP packet from and to host i (TCP still passes): a firewall gone wrong.

        Policy routing does it (`ip rule ... ipproto udp blackhole`), so no netfilter or tc
        module is needed: host i routes no UDP out, and the others route none to it.
        """
        for j, ns in enumerate(self.hosts):
            target = [] if j == i else ["to", self.addr(i)]
            _ip("-n", ns, "rule", "add", "ipproto", "udp", *target, "blackhole")

    def destroy(self) -> None:
        for ns in reversed(self.created):
            subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True)
        self.created.clear()


@pytest.fixture
def namespaces() -> Iterator[Namespaces]:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("network namespaces need root and iproute2's ip")
    spaces = Namespaces(3)
    try:
        spaces.build()
    except subprocess.CalledProcessError as exc:
        spaces.destroy()
        pytest.skip(f"cannot build network namespaces: {' '.join(exc.cmd)}: {exc.stderr.strip()}")
    try:
        yield spaces
    finally:
        spaces.destroy()


def _spawn(
    spaces: Namespaces, i: int, name: str, count: int, expect: str, out: Path, *extra: str
) -> Popen:
    """replicate_node.py in host namespace i; its output goes to out/<name>.log."""
    command = [
        "ip", "netns", "exec", spaces.hosts[i], sys.executable, str(SCRIPTS / "replicate_node.py"),
        "--name", name, "--bind", spaces.addr(i), "--port", str(PORT),
        "--seed-addr", f"{spaces.addr(0)}:{PORT}", "--count", str(count), "--expect", expect,
        "--key", KEY.hex(), "--report", str(out / f"{name}.json"), *extra,
    ]  # fmt: skip
    with open(out / f"{name}.log", "wb") as log:
        return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=log, stderr=log)


def _finish(procs: list[Popen]) -> None:
    """Close every child's stdin (its cue to stop), then reap it."""
    for proc in procs:
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.close()  # type: ignore[union-attr]
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _run_three(
    spaces: Namespaces, counts: dict[str, int], out: Path, *extra: str
) -> dict[str, dict[str, Any]]:
    """One replicate_node.py per namespace, each writing its count; their reports by name."""
    expect = ",".join(f"{name}={count}" for name, count in counts.items())
    procs: list[Popen] = []
    try:
        for i, (name, count) in enumerate(counts.items()):
            procs.append(_spawn(spaces, i, name, count, expect, out, *extra))

        def reported() -> bool:
            for proc, name in zip(procs, counts, strict=True):
                if proc.poll() is not None:
                    log = (out / f"{name}.log").read_text()
                    pytest.fail(f"{name} exited with {proc.returncode}:\n{log}")
            return all((out / f"{name}.json").exists() for name in counts)

        wait_until(reported, 90, "every namespace node to report")
    finally:
        _finish(procs)
    assert [p.returncode for p in procs] == [0] * len(procs)
    return {name: json.loads((out / f"{name}.json").read_text()) for name in counts}


@pytest.mark.slow
def test_node_three_namespaces_replicate_ten_thousand_records(
    namespaces: Namespaces, tmp_path: Path
) -> None:
    counts = {"h1": 3334, "h2": 3333, "h3": 3333}
    for report in _run_three(namespaces, counts, tmp_path).values():
        assert report["address"].startswith("10.213."), report["address"]
        assert report["converged"], report
        assert report["missing"] == [], report
        assert report["members"] == [[other, "alive"] for other in counts]
        assert report["stats"]["errors"] == 0


@pytest.mark.slow
def test_node_with_udp_blocked_stays_alive_through_tcp_pings(
    namespaces: Namespaces, tmp_path: Path
) -> None:
    # h3's routes drop UDP both ways. Records still flow over TCP (anti-entropy); only the
    # fallback ping keeps h3's probes answered. The control run without it shows what it buys.
    namespaces.block_udp(2)
    counts = {"h1": 100, "h2": 100, "h3": 100}
    runs = {}
    for label, flags in (("tcp", ()), ("udp-only", ("--no-tcp-fallback",))):
        (tmp_path / label).mkdir()
        runs[label] = _run_three(namespaces, counts, tmp_path / label, "--linger", "4", *flags)
    for label, reports in runs.items():
        for report in reports.values():
            assert report["converged"], (label, report)
    accusations = {
        label: sum(reports[name]["stats"]["suspicions"] for name in ("h1", "h2"))
        for label, reports in runs.items()
    }
    for name, report in runs["tcp"].items():
        assert set(dict(report["members"]).values()) == {"alive"}, (name, report["members"])
        assert report["stats"]["fallback_acks"] > 0, (name, report["stats"])
    assert all(r["stats"]["fallback_acks"] == 0 for r in runs["udp-only"].values())
    # Without the fallback every probe of h3 fails: one accusation per suspicion cycle.
    assert accusations["udp-only"] >= 4 * (accusations["tcp"] + 1), accusations
