"""Bytes gossiped per reported step, as a trial's curve grows: increments against whole copies.

    python bench/record_bytes.py          # 1,000 steps; the figures and a table
    python bench/record_bytes.py --quick --json

Three gossip engines in the core's simulator (virtual time, LAN timings); node 0 runs one trial
that reports one step at a time. metaopt writes each report as a curve increment (the record
format of the cluster); the baseline rewrites the whole trial, curve included, at each report
(what metaopt did before curves were increments, and what a store of whole documents does).
The figure is the bytes all three nodes sent while node 0 reported steps n-9..n, per step,
less what membership sends anyway (measured on the same nodes before the trial starts).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "daemon"))

from metaopt._core import Simulation
from metaopt._replica import LocalReplica
from metaopt.records import Trial
from metaopt.records import TrialStatus
from metaopt.records import trial_key
from metaoptd import claims
from metaoptd.cluster_sim import MemoryStorage

STEP_MS = 500  # one report every half second, as metaoptd reads them
WINDOW = 10  # steps per measurement


def sent(sim: Simulation) -> int:
    return sum(int(str(sim.report(i)["bytes_sent"])) for i in range(sim.size))


def measure(steps: int, whole: bool) -> dict[int, float]:
    """Bytes per step over the WINDOW steps ending at each checkpoint."""
    sim = Simulation(3, 1, "lan")
    sim.join_all()
    sim.run_for(5_000)
    quiet = sent(sim)
    sim.run_for(20_000)
    idle_per_ms = (sent(sim) - quiet) / 20_000  # membership's own traffic, taken off below
    replica = LocalReplica(
        MemoryStorage("n0"),
        generation=sim.generation(0),
        publish=lambda r: sim.write(0, r.key, r.value, r.hlc),
        clock=lambda: sim.now,
    )
    trial = Trial("t", "e", {"lr": 0.01, "layers": 3}, TrialStatus.RUNNING, node="n0", attempt=1)
    checkpoints = {c for c in (WINDOW, 100, steps) if c <= steps}
    out: dict[int, float] = {}
    curve: list[tuple[int, dict[str, float]]] = []
    before = 0
    for step in range(1, steps + 1):
        if step % WINDOW == 1:
            before = sent(sim)
        metrics = {"loss": 1.0 / step, "accuracy": 1.0 - 1.0 / (step + 1)}
        if whole:
            curve.append((step, metrics))
            copy = dataclasses.replace(trial, curve=tuple(curve))
            replica.write(trial_key("e", "t"), copy.to_json())
        else:
            replica.write_many([claims.increment_item(trial, step - 1, [(step, metrics)])])
        sim.run_for(STEP_MS)
        if step in checkpoints:
            sim.run_for(3_000)  # let the last ones spread before counting
            idle = idle_per_ms * (WINDOW * STEP_MS + 3_000)
            out[step] = (sent(sim) - before - idle) / WINDOW
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 steps instead of 1,000")
    parser.add_argument("--json", action="store_true", help="one JSON object on the last line")
    args = parser.parse_args(argv)
    steps = 200 if args.quick else 1_000
    increments, wholes = measure(steps, whole=False), measure(steps, whole=True)
    print(f"bytes sent by 3 nodes per reported step, over steps n-{WINDOW - 1}..n")
    print(f"{'n':>6}  {'increments':>11}  {'whole trial':>11}  {'ratio':>6}")
    for n in sorted(increments):
        ratio = wholes[n] / increments[n]
        print(f"{n:>6}  {increments[n]:>11.0f}  {wholes[n]:>11.0f}  {ratio:>6.1f}")
    growth = increments[max(increments)] / increments[WINDOW]
    print(f"increments at step {max(increments)} vs step {WINDOW}: x{growth:.2f}")
    if args.json:
        print(json.dumps({"increments": increments, "whole": wholes, "growth": round(growth, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
