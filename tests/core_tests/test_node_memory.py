"""One Node's memory and a joining node's catch-up, measured by bench/node_memory.py.

The script runs in a process of its own, so the resident memory it reports is the Node's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "node_memory.py"


@pytest.mark.slow
@pytest.mark.skipif(
    "libasan" in os.environ.get("LD_PRELOAD", ""),
    reason="AddressSanitizer's shadow memory and quarantine are not the Node's footprint",
)
def test_node_holds_records_in_under_twice_their_size_and_a_joiner_catches_up() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--records", "50000", "--json", "--timeout", "60"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(done.stdout.splitlines()[-1])
    assert figures["records"] == 50_000
    assert figures["writer_ratio"] < 2, figures
    # The joiner held everything when it stopped waiting, in under 2x the payload too.
    assert figures["joiner_rss_growth_mb"] < 2 * figures["payload_mb"], figures
    assert figures["catch_up_s"] < 60
