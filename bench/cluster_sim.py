"""The decentralized rules over a large sweep of simulated clusters, with the figures behind them.

    python bench/cluster_sim.py                    # 2,000 seeds at 3-20 nodes, 200 at 21-40
    python bench/cluster_sim.py --quick --json     # 200 + 20 seeds

Each seed is one run of ``metaoptd.cluster_sim`` (metaoptd's decision layer, records and merge
over the gossip core's Simulation, with crashes, restarts, partitions and loss drawn per seed),
checked against every invariant. Side by side, in the same run and on the same seeds, the rule
that a node without rendezvous adoption would follow: every node that sees a dead member's trial
starts it at once. Both keep the invariants (the merge rule stops the extra copies); the figures
show what each costs: trial-seconds run by copies that were stopped, and the time a dead node's
trial waits before it runs again.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "daemon"))

from metaopt.records import TrialStatus
from metaoptd import cluster_sim
from metaoptd import decisions
from metaoptd.cluster_sim import Cluster
from metaoptd.cluster_sim import simulate

RULES = {
    "rendezvous": "metaoptd: one taker by rendezvous hashing, the next ones after PATIENCE",
    "everyone": "every node that sees a dead member's trial starts it at once",
}


def _everyone_takes(s: decisions.Situation, trial: object) -> bool:
    return True


@dataclasses.dataclass(frozen=True)
class Figures:
    """What one run cost."""

    run_s: float  # trial-seconds run, by every copy
    wasted_s: float  # trial-seconds of copies stopped before their end (lost claims)
    stopped: int
    waits: list[float]  # per trial a crash killed: seconds until it ran again elsewhere
    overshoot: int  # completed trials beyond max_trials
    in_flight: int  # the bound on overshoot: every slot of the cluster


def figures(c: Cluster) -> Figures:
    runs = c.runs
    stopped = [r for r in runs if r.outcome == "stopped"]
    waits = []
    for node, at, back in c.crashes:
        for orphan in (r for r in runs if r.node == f"n{node}" and r.end_ms == at):
            later = [
                r.start_ms
                for r in runs
                if r.key == orphan.key and r.start_ms > at and (back < 0 or r.start_ms < back)
            ]
            if orphan.outcome == "killed" and later:
                waits.append((min(later) - at) / 1000)
    view = next(d for d in c.daemons if d.up).replica.view
    rand = next(e for e in cluster_sim.experiments(c.scenario) if e.name == "rand")
    completed = sum(1 for t in view.trials("rand") if t.status == TrialStatus.COMPLETED)
    return Figures(
        run_s=sum(r.end_ms - r.start_ms for r in runs) / 1000,
        wasted_s=sum(r.end_ms - r.start_ms for r in stopped) / 1000,
        stopped=len(stopped),
        waits=waits,
        overshoot=max(0, completed - rand.max_trials),
        in_flight=cluster_sim.SLOTS * c.scenario.nodes,
    )


Row = tuple[int, int, list[str], Figures, float]  # seed, nodes, problems, figures, seconds


def one(job: tuple[str, int, int]) -> tuple[str, Row]:
    rule, seed, nodes = job
    if rule == "everyone":
        setattr(decisions, "_may_take", _everyone_takes)  # noqa: B010 (this worker only)
    began = time.perf_counter()
    cluster, problems = simulate(seed, nodes)
    return rule, (seed, nodes, problems, figures(cluster), time.perf_counter() - began)


def summarize(rows: list[Row]) -> dict[str, float]:
    waits = [w for *_, f, _ in rows for w in f.waits]
    wasted = sum(f.wasted_s for *_, f, _ in rows) / sum(f.run_s for *_, f, _ in rows)
    return {
        "seeds": len(rows),
        "held": sum(1 for _, _, p, _, _ in rows if not p),
        "wasted_pct": 100 * wasted,
        "stopped_copies": sum(f.stopped for *_, f, _ in rows),
        "wait_p50_s": statistics.median(waits) if waits else float("nan"),
        "wait_p95_s": pct(waits, 0.95),
        "wait_max_s": max(waits, default=float("nan")),
        "overshoot_max": max(f.overshoot for *_, f, _ in rows),
        "overshoot_of_bound_max": max(f.overshoot / f.in_flight for *_, f, _ in rows),
        "seed_s": statistics.mean(t for *_, t in rows),
    }


def jobs(small: int, large: int) -> list[tuple[str, int, int]]:
    seeds = [(s, cluster_sim.nodes_for(s, 3, 20)) for s in range(small)]
    seeds += [(s, cluster_sim.nodes_for(s, 21, 40)) for s in range(10_000, 10_000 + large)]
    return [(rule, s, n) for rule in RULES for s, n in seeds]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 + 20 seeds")
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    small, large = (200, 20) if args.quick else (2_000, 200)
    work = jobs(small, large)
    began = time.perf_counter()
    results: dict[str, list[Row]] = {r: [] for r in RULES}
    ctx = multiprocessing.get_context("fork")  # each worker patches its own copy of the rule
    with ctx.Pool(args.workers, maxtasksperchild=50) as pool:
        for done, (rule, row) in enumerate(pool.imap_unordered(one, work, chunksize=4), 1):
            results[rule].append(row)
            seed, nodes, problems, _, _ = row
            if problems and rule == "rendezvous":
                replay = cluster_sim.scenario(seed, nodes).command()
                print(f"FAIL {replay}: {problems[0]}")
            if done % 100 == 0 and not args.json:
                took_s = time.perf_counter() - began
                print(f"  {done}/{len(work)} runs, {took_s:.0f} s", flush=True)
    summary = {rule: summarize(rows) for rule, rows in results.items()}
    elapsed = time.perf_counter() - began
    if args.json:
        print(json.dumps({"elapsed_s": round(elapsed, 1), **summary}))
    else:
        print(f"\n{small} seeds at 3-20 nodes and {large} at 21-40, each rule; {elapsed:.0f} s")
        print(
            f"{'rule':<11} {'held':>11} {'wasted':>7} {'stopped':>8} {'wait p50':>9} "
            f"{'p95':>6} {'max':>6} {'overshoot':>10} {'of bound':>9} {'s/seed':>7}"
        )
        for rule, s in summary.items():
            print(
                f"{rule:<11} {s['held']:>5}/{s['seeds']:<5} {s['wasted_pct']:>6.2f}% "
                f"{s['stopped_copies']:>8} {s['wait_p50_s']:>8.1f}s {s['wait_p95_s']:>5.1f}s "
                f"{s['wait_max_s']:>5.1f}s {s['overshoot_max']:>10} "
                f"{100 * s['overshoot_of_bound_max']:>8.0f}% {s['seed_s']:>7.2f}"
            )
        for rule, what in RULES.items():
            print(f"  {rule}: {what}")
    held = summary["rendezvous"]
    return 0 if held["held"] == held["seeds"] else 1


if __name__ == "__main__":
    sys.exit(main())
