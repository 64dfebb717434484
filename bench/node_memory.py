"""One Node holding 100,000 records of 500 B: its resident memory, and a joining node's catch-up.

    python bench/node_memory.py                         # 100,000 records of 500 B
    python bench/node_memory.py --records 20000 --json  # smaller; last line is JSON

Run it in a process of its own: resident memory is per process. Memory is the growth of this
process's RSS while one Node (real sockets, loopback) writes the records, against their payload
(key and value bytes). Values are random, so nothing compresses. Catch-up: a second Node joins
and pulls everything over the stream channel (Scuttlebutt deltas under the anti-entropy budget);
its rate is set beside a plain TCP transfer of the same payload between two sockets of this
process, measured in the same run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import socket
import sys
import threading
import time

from metaopt._core import Keyring
from metaopt._core import Node

PAGE = os.sysconf("SC_PAGE_SIZE")
KEY = bytes(range(32))


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def key_of(i: int) -> str:
    return f"trial/bench/{i:07d}"


@dataclasses.dataclass(frozen=True)
class Figures:
    records: int
    value_bytes: int
    payload_mb: float
    writer_rss_growth_mb: float
    writer_ratio: float  # RSS growth over payload
    write_s: float
    catch_up_s: float
    catch_up_mb_s: float
    joiner_rss_growth_mb: float
    raw_tcp_mb_s: float


def raw_tcp_mb_s(total: int) -> float:
    """Loopback TCP throughput for `total` bytes, one sender thread, 64 KiB writes."""
    chunk = os.urandom(64 * 1024)
    with socket.create_server(("127.0.0.1", 0)) as server:

        def send() -> None:
            with socket.create_connection(server.getsockname()) as out:
                left = total
                while left > 0:
                    out.sendall(chunk[: min(left, len(chunk))])
                    left -= len(chunk)

        sender = threading.Thread(target=send)
        started = time.perf_counter()
        sender.start()
        conn, _ = server.accept()
        got = 0
        with conn:
            while got < total:
                data = conn.recv(1 << 20)
                if not data:
                    break
                got += len(data)
        sender.join()
    return got / 1e6 / (time.perf_counter() - started)


def measure(records: int, value_bytes: int, timeout_s: float) -> Figures:
    keyring = Keyring()
    keyring.add(1, KEY)
    writer = Node("writer", generation=1, keyring=keyring)
    writer.start()
    before = rss_bytes()
    payload = 0
    started = time.perf_counter()
    for i in range(records):
        key = key_of(i)
        writer.write(key, os.urandom(value_bytes), i + 1)
        payload += len(key) + value_bytes
    write_s = time.perf_counter() - started
    writer_growth = rss_bytes() - before

    joiner = Node("joiner", generation=1, keyring=keyring)
    joiner.start()
    before = rss_bytes()
    want = writer.digest()
    started = time.perf_counter()
    joiner.join([writer.address])
    deadline = started + timeout_s
    while joiner.digest().get("writer") != want["writer"]:
        joiner.drain_events(4096)  # what a host persists; dropped here
        if time.perf_counter() > deadline:
            held = joiner.digest().get("writer", 0) & 0xFFFFFFFF
            raise SystemExit(f"catch-up incomplete after {timeout_s} s: {held}/{records}")
        time.sleep(0.002)
    catch_up_s = time.perf_counter() - started
    joiner.drain_events(1 << 30)
    joiner_growth = rss_bytes() - before
    joiner.stop()
    writer.stop()
    return Figures(
        records=records,
        value_bytes=value_bytes,
        payload_mb=payload / 1e6,
        writer_rss_growth_mb=writer_growth / 1e6,
        writer_ratio=writer_growth / payload,
        write_s=write_s,
        catch_up_s=catch_up_s,
        catch_up_mb_s=payload / 1e6 / catch_up_s,
        joiner_rss_growth_mb=joiner_growth / 1e6,
        raw_tcp_mb_s=raw_tcp_mb_s(payload),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--value-bytes", type=int, default=500)
    parser.add_argument("--timeout", type=float, default=120, help="catch-up limit, seconds")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of figures")
    args = parser.parse_args(argv)
    f = measure(args.records, args.value_bytes, args.timeout)
    print(
        f"{f.records} records of {f.value_bytes} B ({f.payload_mb:.1f} MB of keys and values)\n"
        f"  writer: RSS grew {f.writer_rss_growth_mb:.1f} MB = {f.writer_ratio:.2f}x the payload"
        f" (target < 2x); writes took {f.write_s:.1f} s\n"
        f"  joiner: caught up in {f.catch_up_s:.2f} s = {f.catch_up_mb_s:.0f} MB/s"
        f" (plain loopback TCP in this run: {f.raw_tcp_mb_s:.0f} MB/s);"
        f" RSS grew {f.joiner_rss_growth_mb:.1f} MB"
    )
    if args.json:
        print(json.dumps(dataclasses.asdict(f)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
