"""One gossip node in its own process (run inside a network namespace by tests/core_tests).

It writes ``--count`` records, waits until it holds every record of every origin in
``--expect`` (values recomputed with ``value_of``), writes a JSON report to ``--report``, then
keeps running, so the others can still sync from it, until its stdin closes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

from metaopt._core import Config
from metaopt._core import Keyring
from metaopt._core import Node
from metaopt._core import make_version


def value_of(origin: str, i: int) -> bytes:
    """The value of record ``i`` of ``origin``: 100 to 500 deterministic bytes."""
    seed = hashlib.sha256(f"{origin}/{i}".encode()).digest()
    return (seed * 16)[: 100 + (i * 7919) % 401]


def key_of(i: int) -> str:
    return f"k{i:05d}"


def missing(node: Node, expect: dict[str, int]) -> list[str]:
    gaps = []
    for origin, count in expect.items():
        for i in range(count):
            held = node.get(origin, key_of(i))
            if held is None or held.value != value_of(origin, i):
                gaps.append(f"{origin}/{key_of(i)}")
    return gaps


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--bind", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seed-addr", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--expect", required=True, help="origin=count,origin=count,...")
    parser.add_argument("--key", required=True, help="cluster key, hex")
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--linger", type=float, default=0, help="seconds to run before reporting")
    parser.add_argument("--no-tcp-fallback", action="store_true")
    args = parser.parse_args()

    expect = {o: int(c) for o, c in (item.split("=") for item in args.expect.split(","))}
    want = {origin: make_version(1, count) for origin, count in expect.items() if count}
    keyring = Keyring()
    keyring.add(1, bytes.fromhex(args.key))
    config = Config.local()
    config.tcp_fallback = not args.no_tcp_fallback
    node = Node(
        args.name, generation=1, keyring=keyring, bind_host=args.bind, port=args.port,
        config=config,
    )  # fmt: skip
    node.start()
    node.join([args.seed_addr])
    deadline = time.monotonic() + args.timeout
    # Write once the cluster is assembled, so records travel by gossip, not only anti-entropy.
    while len([m for m in node.members() if m.state == "alive"]) < len(expect):
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
    started = time.monotonic()
    for i in range(args.count):
        node.write(key_of(i), value_of(args.name, i), i + 1)
    while node.digest() != want and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(args.linger)  # probes keep running: the membership reported is after this
    report = {
        "name": args.name,
        "address": node.address,
        "converged": node.digest() == want,
        "seconds": round(time.monotonic() - started, 3),
        "missing": missing(node, expect)[:20],
        "members": sorted((m.node, m.state) for m in node.members()),
        "stats": node.stats(),
    }
    args.report.with_suffix(".tmp").write_text(json.dumps(report))
    args.report.with_suffix(".tmp").rename(args.report)
    sys.stdin.read()  # the test closes our stdin when every node has reported
    node.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
