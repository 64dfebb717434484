"""This node as a member of its cluster: the gossip core's Node, fed from the replica and
feeding it, with asyncio waiting on the core's event fd.

Every record this node writes is stored by the replica first and only then handed to the core
(``publish``), which announces it; every record the core receives is stored before it is
applied. The core's event queue is bounded: if it ever drops events, the node takes every record
the core holds again (the store ignores what it has), so nothing is lost between the two.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import socket
import time
from collections.abc import Callable
from typing import Any

from metaopt._core import Keyring
from metaopt._core import Member
from metaopt._core import Node
from metaopt._core import Record
from metaopt._replica import LocalReplica
from metaopt.errors import MetaoptError
from metaoptd.card import Card
from metaoptd.discovery import Discovery
from metaoptd.discovery import local_addresses
from metaoptd.keys import fingerprint
from metaoptd.settings import Settings

_log = logging.getLogger("metaoptd")
_WILDCARDS = ("", "0.0.0.0", "::")
_ANNOUNCE_S = 1.0  # at most one new card a second: a busy node's free slots change often
_REJOIN_S = 30.0  # a discovered address that did not become a member is tried again after
_REJECTIONS = {
    "auth_failed": "wrong cluster key",
    "unknown_key": "wrong cluster key",
    "replayed": "replayed packets",
    "old_generation": "packets from an earlier life of a node",
    "bad_magic": "not metaopt packets",
    "bad_format": "packets of another metaopt version",
    "truncated": "truncated packets",
    "bad_header": "malformed packets",
}


class ClusterNode:
    def __init__(self, replica: LocalReplica, settings: Settings, key: bytes) -> None:
        keyring = self.keyring = Keyring()
        keyring.add(1, key)
        bind = settings.bind
        advertise = settings.advertise or (
            _outbound_address(settings.join) if bind in _WILDCARDS else None
        )
        try:
            self.core = Node(
                replica.id,
                generation=replica.generation,
                keyring=keyring,
                bind_host=bind or "0.0.0.0",
                port=settings.port,
                advertise_host=advertise,
                config="lan",
            )
        except (RuntimeError, OSError) as exc:
            raise MetaoptError(
                f"cannot listen on {bind}:{settings.port} for the cluster ({exc}); another "
                "metaoptd may use that port: give this one --port P"
            ) from None
        self.core.restore(replica.storage.scan())
        self.replica = replica
        self.replica.publish = self._publish
        self.seeds = settings.join
        self.settle = settings.settle
        self._started = time.monotonic()
        self._dropped = 0
        self._told: set[tuple[str, str]] = set()  # (host, reason) of rejections logged
        self._wake: Callable[[], None] = lambda: None
        self._alone_told = False
        self.fingerprint = fingerprint(key)
        self._card = b""
        self._card_sent = 0.0
        self._tried: dict[str, float] = {}  # discovered address -> when we last joined it
        self.discovery = (
            Discovery(replica.id, int(self.core.address.rpartition(":")[2]), bind, self._found)
            if settings.zeroconf
            else None
        )
        self._discovering: asyncio.Task[None] | None = None

    @property
    def address(self) -> str:
        return self.core.address

    def start(self, loop: asyncio.AbstractEventLoop, wake: Callable[[], None]) -> None:
        self._wake = wake
        self.core.start()
        if self.seeds:
            self.core.join(list(self.seeds))
        loop.add_reader(self.core.event_fd(), self._on_events)
        self._started = time.monotonic()
        how = f", joining {', '.join(self.seeds)}" if self.seeds else ""
        if self.discovery is not None:
            self._discovering = loop.create_task(self._discover())
        elif not self.seeds:
            how = " (no --join and no zeroconf: alone until others join)"
        _log.info(
            "cluster: listening on %s (key fingerprint %s)%s",
            self.core.address,
            self.fingerprint,
            how,
        )

    async def _discover(self) -> None:
        assert self.discovery is not None
        try:
            await self.discovery.start()
        except OSError as exc:  # no multicast here: seeds still work
            _log.warning("zeroconf: cannot look for nodes on the LAN (%s); use --join", exc)

    async def stop(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.discovery is not None:
            if self._discovering is not None:
                await asyncio.gather(self._discovering, return_exceptions=True)
            await self.discovery.close()
        with contextlib.suppress(ValueError, OSError):
            loop.remove_reader(self.core.event_fd())
        self.core.stop(graceful=True)

    def announce(self, card: Callable[[], Card]) -> None:
        """Tell the others this node's card when it changed, at most once a second."""
        if time.monotonic() - self._card_sent < _ANNOUNCE_S:
            return
        data = card().encode()
        if data == self._card:
            return
        self._card, self._card_sent = data, time.monotonic()
        self.core.set_meta(data)

    def _found(self, node: str, address: str) -> None:
        """A node seen by zeroconf: join it unless it is a member already."""
        if node in self.alive():
            return
        now = time.monotonic()
        if now - self._tried.get(address, -_REJOIN_S) < _REJOIN_S:
            return
        self._tried[address] = now
        _log.info("zeroconf: found %s at %s; joining", node, address)
        self.core.join([address])

    def tick(self) -> None:
        """Called about every second: says once if no seed has answered for a while."""
        quiet = time.monotonic() - self._started > self.settle + 10
        if self.seeds and quiet and not self._alone_told and self.alive() <= {self.core.node_id}:
            self._alone_told = True
            _log.warning(
                "cluster: no node answered at %s: check the address and port, the firewall "
                "(UDP and TCP), and that this node's cluster key is the cluster's "
                "(fingerprint %s here; `metaopt peers` on a member shows its own)",
                ", ".join(self.seeds),
                self.fingerprint,
            )

    @property
    def settled(self) -> bool:
        """Long enough a member to hold the cluster's history (at once for a node alone)."""
        return not self.seeds or time.monotonic() - self._started >= self.settle

    def members(self) -> list[Member]:
        return self.core.members()

    def member_table(self) -> list[dict[str, Any]]:
        """Each member: id, state, address, seconds since its state changed and since its
        last packet, and its card (slots, free, running, digest) when it sent one."""
        clock = self.core.clock_ms
        rows = []
        for m in sorted(self.core.members(), key=lambda m: m.node):
            card = Card.decode(m.meta)
            heard = None if m.heard_ms < 0 else _seconds(clock - m.heard_ms)
            rows.append(
                {
                    "node": m.node,
                    "state": m.state,
                    "address": m.addr,
                    "since_s": _seconds(clock - m.since_ms),
                    "heard_s": 0.0 if m.node == self.core.node_id else heard,
                    "card": None if card is None else dataclasses.asdict(card),
                }
            )
        return rows

    def stats(self) -> dict[str, int]:
        return self.core.stats()

    def cards(self) -> dict[str, Card]:
        """The card of each live member that sent one, this node's included."""
        out = {}
        for m in self.core.members():
            card = Card.decode(m.meta) if m.state in ("alive", "suspect") else None
            if card is not None:
                out[m.node] = card
        return out

    def transfer_address(self, node: str) -> str | None:
        """host:port where a live member serves checkpoints; None if it serves none."""
        for m in self.core.members():
            card = Card.decode(m.meta) if m.node == node else None
            if card is not None and card.transfer_port:
                return f"{m.addr.rpartition(':')[0]}:{card.transfer_port}"
        return None

    def alive(self) -> set[str]:
        return {m.node for m in self.core.members() if m.state in ("alive", "suspect")}

    def dead(self) -> set[str]:
        return {m.node for m in self.core.members() if m.state in ("dead", "left")}

    def _publish(self, record: Record) -> Record:
        return self.core.write(record.key, record.value, record.hlc)

    def _on_events(self) -> None:
        records = []
        for event in self.core.drain_events(4096):
            if event.kind == "record" and event.record is not None:
                records.append(event.record)
            elif event.kind == "rejected":
                self._tell_rejected(event.addr, event.node)
            elif event.kind in ("member_alive", "member_dead", "member_left"):
                _log.info("cluster: %s is %s (%s)", event.node, event.kind[7:], event.addr)
        dropped = self.core.stats().get("events_dropped", 0)
        if dropped > self._dropped:  # the queue overflowed: take everything the core holds
            _log.warning("cluster: %d events were dropped; catching up", dropped - self._dropped)
            self._dropped = dropped
            records = self.core.records()
        if records:
            self.replica.receive(records)
        self._wake()

    def _tell_rejected(self, addr: str, reason: str) -> None:
        host = addr.rpartition(":")[0]
        if (host, reason) in self._told:
            return
        self._told.add((host, reason))
        what = _REJECTIONS.get(reason, reason)
        hint = " (its cluster.key differs from ours)" if what == "wrong cluster key" else ""
        _log.warning("cluster: rejected packets from %s: %s%s", addr, what, hint)


def _seconds(ms: int) -> float:
    return round(max(0, ms) / 1000, 1)


def _outbound_address(seeds: tuple[str, ...]) -> str:
    """The local address others reach us at: the one this host would send from to a seed
    (or to any outside address); no packet is sent."""
    targets = [seed.rpartition(":")[0].strip("[]") for seed in seeds] + ["192.0.2.1"]
    for target in targets:
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect((target, 9))
                address = s.getsockname()[0]
        except OSError:
            continue
        if address and not address.startswith("0."):
            return str(address)
    return (local_addresses("") or ["127.0.0.1"])[0]  # no route: the first interface's
