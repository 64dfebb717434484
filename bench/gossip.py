"""The gossip protocol at scale, in the deterministic simulator: the acceptance figures, measured.

    python bench/gossip.py                  # full sizes (N = 1000, one simulated hour), < 10 min
    python bench/gossip.py --quick --json   # reduced sizes, under a minute; last line is JSON

Every scenario runs in ``metaopt._core.Simulation`` (virtual time, seeded network model, i.i.d.
loss, 1-2 ms latency, the "lan" profile: 200 ms gossip interval, fanout 3, 1 s probes). The
figures are those of gossip.md §6.7 (dissemination, crash detection, false deaths, Lifeguard,
observer stall, idle bandwidth, partition heal) and Serf's convergence table of §2.5, with
Serf's analytic model computed beside the simulator's numbers. One row is not simulated: a real
Node on loopback holding 100,000 records of 500 B, and a second one catching up from it
(bench/node_memory.py).

Independent scenarios run in a pool of 2 processes (the simulator releases the GIL); each task
is a fresh process, so the peak RSS it reports is its own. Targets are printed next to the
figures, never asserted. Nothing is extrapolated: the no-crash row is one simulated hour at
N = 1000 in the full run (two simulated minutes at N = 200 in the quick one).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import multiprocessing
import random
import resource
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import node_memory  # bench/node_memory.py, beside this file
from node_memory import Figures as NodeMemory

from metaopt import _core
from metaopt._core import Config
from metaopt._core import Record
from metaopt._core import Simulation

GOSSIP_MS = Config.lan().gossip_interval_ms
FANOUT = Config.lan().gossip_fanout
LOSS = 0.1
HOUR_MS = 60 * 60_000
SAMPLE_OBSERVERS = 50  # views checked at large N (all pairs is O(N^2) Python calls)
RECORD_GAP_MS = 5_000  # run after each record before the next one (25 intervals)
CRASH_RUN_MS = 45_000  # a node not marked dead by then counts as never
STALL_MS = 30_000
STALL_RUN_MS = 60_000
IDLE_WARM_MS = 40_000
IDLE_MEASURE_MS = 60_000
PARTITION_MS = 120_000
PARTITION_WRITE_EVERY_MS = 10_000
HEAL_WATCH_MS = 120_000
SLOW_FRACTION = 0.05
SLOW_EXTRA_MS = 1_000
SLOW_PAUSE_MS = 2_000
SLOW_CYCLE_MS = 20_000
NEVER = math.inf

TARGET_999_INTERVALS = 10.0
TARGET_ALL_INTERVALS = 14.0
TARGET_SMALL_ALL_INTERVALS = 10.0
TARGET_DETECT_BIG = (16.0, 25.0)  # median, p99 seconds
TARGET_DETECT_SMALL = (10.0, 15.0)
TARGET_LIFEGUARD_RATIO = 10.0
TARGET_IDLE_BPS = 2048.0
TARGET_HEAL_S = 45.0
TARGET_MEMORY_MB = 4096.0
TARGET_NODE_MEMORY_RATIO = 2.0


@dataclasses.dataclass(frozen=True)
class Plan:
    name: str
    big: int  # N of the large-cluster rows
    big_seeds: int  # clusters at N = big, 10 % loss: records one after another, then a crash
    records: int  # records per big cluster
    big_stall_seeds: int  # of those clusters, how many then stall an observer
    small: int  # N of the small-cluster rows
    small_seeds: int  # clusters at N = small: one record, a crash, an observer stall
    long_run_ms: int  # the no-crash run at N = big
    zero_loss_seeds: int  # clusters at N = big, 0 % loss, for Serf's table; the first is idle
    lifeguard_seeds: int  # each with Lifeguard on and off, N = small
    lifeguard_cycles: int  # of SLOW_CYCLE_MS each
    partition_big_seeds: int
    partition_small_seeds: int
    serf_small: int  # the small N of Serf's table
    serf_small_seeds: int  # per loss
    batch: int  # small-N seeds per task
    node_records: int  # of 500 B, held by one real Node (loopback), then pulled by a joiner


FULL = Plan(
    name="full",
    big=1000,
    big_seeds=10,
    records=3,
    big_stall_seeds=2,
    small=50,
    small_seeds=200,
    long_run_ms=HOUR_MS,
    zero_loss_seeds=2,
    lifeguard_seeds=12,
    lifeguard_cycles=15,
    partition_big_seeds=1,
    partition_small_seeds=40,
    serf_small=30,
    serf_small_seeds=200,
    batch=25,
    node_records=100_000,
)
QUICK = Plan(
    name="quick",
    big=200,
    big_seeds=6,
    records=3,
    big_stall_seeds=2,
    small=50,
    small_seeds=40,
    long_run_ms=2 * 60_000,
    zero_loss_seeds=2,
    lifeguard_seeds=3,
    lifeguard_cycles=15,
    partition_big_seeds=1,
    partition_small_seeds=4,
    serf_small=30,
    serf_small_seeds=40,
    batch=20,
    node_records=20_000,
)


# ---- statistics -----------------------------------------------------------------------------


def percentile(values: Iterable[float], q: float) -> float:
    """Nearest rank: the p99 of fewer than 100 values is the largest of them."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def median(values: Iterable[float]) -> float:
    ordered = sorted(values)
    return statistics.median(ordered) if ordered else math.nan


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def serf_rounds(n: int, loss: float, fanout: int = FANOUT, fraction: float = 0.999) -> float:
    """Serf's analytic model (gossip.md §2.5): rounds until ``fraction`` of N are infected.

    contact = fanout/N·(1−loss)·(1−fail)·0.5, infected(x) = N / (1 + (N+1)·e^(−contact·N·x));
    solved for infected(x) = fraction·N. No failed nodes here (fail = 0).
    """
    contact = fanout / n * (1 - loss) * 0.5
    return math.log((n + 1) / (1 / fraction - 1)) / (contact * n)


# ---- results (built in the workers, pickled back) -------------------------------------------


@dataclasses.dataclass(frozen=True)
class Spread:
    """One record: gossip intervals until 99.9 % of the nodes held it and until all did."""

    intervals_999: float
    intervals_all: float
    ms_999: float


@dataclasses.dataclass(frozen=True)
class Detection:
    """One crash: seconds until each live node marked the crashed node dead."""

    all_s: float  # until every live node did (NEVER if one did not within CRASH_RUN_MS)
    median_s: float  # the median observer
    first_s: float


@dataclasses.dataclass(frozen=True)
class Stall:
    """An observer's own thread paused STALL_MS: whom the cluster declared dead meanwhile."""

    peers_dead: int  # dead verdicts about other live nodes, by anyone, from the pause on
    by_stalled: int  # of those, by the stalled observer itself
    stalled_declared_by: int  # observers that declared the stalled node dead (it was silent)
    still_dead: int  # sampled observers still holding it dead STALL_RUN_MS after the pause
    stalls: int  # report()["stalls"] of the stalled node


@dataclasses.dataclass(frozen=True)
class ClusterResult:
    n: int
    seed: int
    loss: float
    spreads: tuple[Spread, ...]
    detection: Detection | None
    stall: Stall | None
    false_deaths: int  # before any stall
    node_hours: float  # live node-time simulated before any stall


@dataclasses.dataclass(frozen=True)
class LongRun:
    n: int
    sim_ms: int
    wall_s: float  # of the run_for after settling
    settle_wall_s: float
    false_deaths: int
    suspicions: int  # sum of report()["suspicions"] over the run
    fallback_acks: int  # probes only the TCP fallback ping answered, summed
    peak_rss_mb: float

    @property
    def speed(self) -> float:
        return self.sim_ms / 1000 / self.wall_s


@dataclasses.dataclass(frozen=True)
class Idle:
    n: int
    median_bps: float
    max_bps: float


@dataclasses.dataclass(frozen=True)
class LifeguardResult:
    seed: int
    lifeguard: bool
    false_deaths: int
    of_slow: int  # verdicts about a slow node
    by_slow: int  # verdicts by a slow node


@dataclasses.dataclass(frozen=True)
class PartitionResult:
    n: int
    seed: int
    cross_dead: float  # fraction of sampled cross-partition views that were dead at the heal
    membership_s: float  # until no sampled view holds a live node dead or unknown
    all_alive_s: float  # until every sampled view is "alive" (no suspect left either)
    records_s: float  # until every record written during the partition is held by all
    records: int


Result = ClusterResult | LongRun | Idle | LifeguardResult | PartitionResult | NodeMemory


# ---- scenarios (these run in the workers) ---------------------------------------------------


def observers_of(n: int, rng: random.Random) -> list[int]:
    return list(range(n)) if n <= 2 * SAMPLE_OBSERVERS else rng.sample(range(n), SAMPLE_OBSERVERS)


def views(sim: Simulation, observers: Sequence[int]) -> Counter[str]:
    """How the observers see every other live node."""
    live = [j for j in range(sim.size) if sim.up(j)]
    return Counter(sim.state_of(i, j) for i in observers if sim.up(i) for j in live if i != j)


def settled(n: int, seed: int, loss: float, config: Config | str = "lan") -> Simulation:
    """Joined, and every sampled observer knows every node and holds none dead.

    Suspects are allowed: at 10 % loss a few views are always suspect until refuted.
    """
    sim = Simulation(n, seed, config=config, loss=loss)
    sim.join_all()
    sim.run_for(20_000 if n <= 200 else 30_000)
    observers = observers_of(n, random.Random(seed))
    for _ in range(12):
        seen = views(sim, observers)
        if seen["unknown"] == 0 and seen["dead"] == 0:
            return sim
        sim.run_for(5_000)
    raise RuntimeError(f"N={n} seed={seed}: not settled at {sim.now} ms: {dict(seen)}")


def spread(sim: Simulation, writer: int, key: str) -> Spread:
    t0 = sim.now
    record = sim.write(writer, key, b"v" * 300)
    sim.run_for(RECORD_GAP_MS)
    times = [sim.first_held(record, j) for j in range(sim.size)]
    held = sorted(t - t0 if t >= 0 else NEVER for t in times)
    at = math.ceil(sim.size * 0.999) - 1  # the node that brings the count to 99.9 %
    intervals = [math.ceil(ms / GOSSIP_MS) if ms != NEVER else NEVER for ms in held]
    return Spread(intervals[at], intervals[-1], held[at])


def detect(sim: Simulation, node: int) -> Detection:
    crashed_at = sim.now
    sim.crash(node)
    sim.run_for(CRASH_RUN_MS)
    times = [
        (t - crashed_at) / 1000 if t >= 0 else NEVER
        for i, t in enumerate(sim.death_times(node))
        if i != node and sim.up(i)
    ]
    return Detection(max(times), median(times), min(times))


def stall(sim: Simulation, node: int, observers: Sequence[int]) -> Stall:
    paused_at = sim.now
    sim.pause(node, STALL_MS)
    sim.run_for(STALL_RUN_MS)
    deaths = [d for d in sim.false_deaths() if d[2] >= paused_at]
    peers = [d for d in deaths if d[1] != node]
    return Stall(
        peers_dead=len(peers),
        by_stalled=sum(1 for d in peers if d[0] == node),
        stalled_declared_by=len({d[0] for d in deaths if d[1] == node}),
        still_dead=sum(1 for i in observers if i != node and sim.state_of(i, node) == "dead"),
        stalls=int(str(sim.report(node)["stalls"])),
    )


@dataclasses.dataclass(frozen=True)
class Phases:
    records: int = 0  # written one after another
    crash: bool = False  # then one node crashes
    stall: bool = False  # then an observer stalls


def phases(sim: Simulation, seed: int, loss: float, plan: Phases) -> ClusterResult:
    """On a settled cluster: records, then (optionally) a crash, then an observer stall."""
    n = sim.size
    rng = random.Random(seed)
    start, deaths_before = sim.now, len(sim.false_deaths())
    keys = (f"bench/{seed}/{start}/{k}" for k in range(plan.records))
    spreads = tuple(spread(sim, rng.randrange(n), key) for key in keys)
    crashed = rng.randrange(n)
    detection = detect(sim, crashed) if plan.crash else None
    false_deaths = len(sim.false_deaths()) - deaths_before
    node_hours = (sim.now - start) / HOUR_MS * sum(sim.up(i) for i in range(n))
    stalled = None
    if plan.stall:
        node = rng.choice([i for i in range(n) if sim.up(i)])
        stalled = stall(sim, node, observers_of(n, rng))
    return ClusterResult(n, seed, loss, spreads, detection, stalled, false_deaths, node_hours)


def cluster_task(n: int, seeds: Sequence[int], loss: float, plan: Phases) -> list[Result]:
    return [phases(settled(n, seed, loss), seed, loss, plan) for seed in seeds]


def long_run_task(n: int, seed: int, ms: int, then: Phases) -> list[Result]:
    """N nodes at 10 % loss, nothing crashes, for ``ms`` simulated: who is declared dead.

    Then the same cluster serves as one more cluster for the ``then`` phases.
    """
    started = time.perf_counter()
    sim = settled(n, seed, LOSS)
    settle_wall = time.perf_counter() - started

    def total(stat: str) -> int:
        return sum(int(str(sim.report(i)[stat])) for i in range(n))

    before = total("suspicions"), total("fallback_acks")
    started = time.perf_counter()
    sim.run_for(ms)
    wall = time.perf_counter() - started
    suspicions = total("suspicions") - before[0]
    fallback_acks = total("fallback_acks") - before[1]
    deaths = len(sim.false_deaths())
    rss = peak_rss_mb()
    return [
        LongRun(n, ms, wall, settle_wall, deaths, suspicions, fallback_acks, rss),
        phases(sim, seed, LOSS, then),
    ]


def idle_task(n: int, seed: int, then: Phases) -> list[Result]:
    """Bytes each node sends per second in an idle cluster (0 % loss); then the phases."""
    sim = settled(n, seed, 0.0)
    sim.run_for(IDLE_WARM_MS)
    before = [int(str(sim.report(i)["bytes_sent"])) for i in range(n)]
    sim.run_for(IDLE_MEASURE_MS)
    seconds = IDLE_MEASURE_MS / 1000
    rates = [(int(str(sim.report(i)["bytes_sent"])) - before[i]) / seconds for i in range(n)]
    return [Idle(n, median(rates), max(rates)), phases(sim, seed, 0.0, then)]


def lifeguard_run(n: int, seed: int, lifeguard: bool, cycles: int) -> LifeguardResult:
    """5 % of the nodes 1 s late on everything and stalled 2 s every 20 s (0 % loss)."""
    config = Config.lan()
    config.lifeguard = lifeguard
    sim = Simulation(n, seed, config=config)
    sim.join_all()
    sim.run_for(20_000)
    slow = set(random.Random(seed).sample(range(n), math.ceil(n * SLOW_FRACTION)))
    for i in slow:
        sim.set_slow(i, SLOW_EXTRA_MS)
    for _ in range(cycles):
        for i in slow:
            sim.pause(i, SLOW_PAUSE_MS)
        sim.run_for(SLOW_CYCLE_MS)
    deaths = sim.false_deaths()
    of_slow = sum(1 for d in deaths if d[1] in slow)
    by_slow = sum(1 for d in deaths if d[0] in slow)
    return LifeguardResult(seed, lifeguard, len(deaths), of_slow, by_slow)


def lifeguard_task(n: int, seeds: Sequence[int], lifeguard: bool, cycles: int) -> list[Result]:
    return [lifeguard_run(n, seed, lifeguard, cycles) for seed in seeds]


def partition_run(n: int, seed: int, before: Phases) -> list[Result]:
    """The ``before`` phases; then halves cut apart for PARTITION_MS, a record every 10 s on
    each side, and healed."""
    rng = random.Random(seed)
    sim = settled(n, seed, LOSS)
    first = phases(sim, seed, LOSS, before)
    left, right = list(range(n // 2)), list(range(n // 2, n))
    sim.partition([left, right])
    records: list[Record] = []
    for k in range(PARTITION_MS // PARTITION_WRITE_EVERY_MS):
        records.append(sim.write(rng.choice(left), f"left/{k}", b"x" * 300))
        records.append(sim.write(rng.choice(right), f"right/{k}", b"y" * 300))
        sim.run_for(PARTITION_WRITE_EVERY_MS)
    observers = observers_of(n, rng)
    cross = [sim.state_of(i, j) for i in observers for j in (right if i < n // 2 else left)]
    sim.heal()
    healed_at = sim.now
    membership = all_alive = converged = NEVER
    while sim.now - healed_at < HEAL_WATCH_MS and NEVER in (membership, all_alive, converged):
        sim.run_for(1_000)
        elapsed = (sim.now - healed_at) / 1000
        seen = views(sim, observers)
        if membership == NEVER and seen["dead"] == 0 and seen["unknown"] == 0:
            membership = elapsed
        if all_alive == NEVER and seen["alive"] == seen.total():
            all_alive = elapsed
        if converged == NEVER and all(sim.holders(r) == n for r in records):
            converged = elapsed
    cross_dead = cross.count("dead") / len(cross)
    healed = PartitionResult(n, seed, cross_dead, membership, all_alive, converged, len(records))
    return [healed, first] if before.records else [healed]


def partition_task(n: int, seeds: Sequence[int], before: Phases) -> list[Result]:
    return [r for seed in seeds for r in partition_run(n, seed, before)]


def node_memory_task(records: int, value_bytes: int) -> list[Result]:
    """Real Nodes on loopback, not the simulator: bench/node_memory.py in this fresh process."""
    return [node_memory.measure(records, value_bytes, timeout_s=120)]


# ---- scheduling -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Job:
    label: str
    cost: float  # rough wall seconds on one core, to start the longest first
    func: Callable[..., list[Result]]
    args: tuple[Any, ...]


def chunks(seeds: Sequence[int], size: int) -> list[list[int]]:
    return [list(seeds[at : at + size]) for at in range(0, len(seeds), size)]


def jobs_for(plan: Plan, long_run_ms: int) -> list[Job]:
    """Longest first. The big clusters that serve one figure serve others too: the no-crash
    cluster then takes records and a crash, the partitioned one records before the cut, the
    idle one records at 0 % loss (Serf's table)."""
    big, small, records = plan.big, plan.small, plan.records
    scale = (big / 1000) ** 1.5  # rough: the per-step cost grows faster than N
    full = Phases(records, crash=True)
    jobs = [
        Job(
            f"no-crash run N={big} {long_run_ms // 1000} s, then records and a crash",
            scale * (40 + long_run_ms / 15_000),
            long_run_task,
            (big, 1000, long_run_ms, full),
        ),
        Job(f"idle N={big}", scale * 80, idle_task, (big, 3000, Phases(records))),
        Job(
            f"one Node with {plan.node_records} records, a joiner catches up",
            plan.node_records / 50_000,
            node_memory_task,
            (plan.node_records, 500),
        ),
    ]
    for seed in range(plan.big_seeds):
        stalls = seed < plan.big_stall_seeds
        jobs.append(
            Job(
                f"cluster N={big} seed {seed}" + (" +stall" if stalls else ""),
                scale * (60 + (25 if stalls else 0)),
                cluster_task,
                (big, [seed], LOSS, Phases(records, crash=True, stall=stalls)),
            )
        )
    for seed in range(3001, 3000 + plan.zero_loss_seeds):
        jobs.append(
            Job(
                f"0% loss N={big} seed {seed}",
                scale * 35,
                cluster_task,
                (big, [seed], 0.0, Phases(records)),
            )
        )
    for seed in range(2000, 2000 + plan.partition_big_seeds):
        jobs.append(
            Job(
                f"partition N={big} seed {seed}",
                scale * 150,
                partition_task,
                (big, [seed], Phases(records)),
            )
        )
    small_plan = Phases(1, crash=True, stall=True)
    for part in chunks(range(plan.small_seeds), plan.batch):
        jobs.append(
            Job(
                f"clusters N={small} seeds {part[0]}-{part[-1]}",
                0.5 * len(part),
                cluster_task,
                (small, part, LOSS, small_plan),
            )
        )
    for lifeguard in (True, False):
        for part in chunks(range(plan.lifeguard_seeds), max(1, plan.batch // 4)):
            jobs.append(
                Job(
                    f"lifeguard {'on' if lifeguard else 'off'} seeds {part[0]}-{part[-1]}",
                    1.5 * len(part),
                    lifeguard_task,
                    (small, part, lifeguard, plan.lifeguard_cycles),
                )
            )
    for part in chunks(range(4000, 4000 + plan.partition_small_seeds), plan.batch):
        jobs.append(
            Job(
                f"partitions N={small} seeds {part[0]}-{part[-1]}",
                0.5 * len(part),
                partition_task,
                (small, part, Phases()),
            )
        )
    for loss in (0.0, LOSS):
        for part in chunks(range(5000, 5000 + plan.serf_small_seeds), plan.batch * 4):
            jobs.append(
                Job(
                    f"serf N={plan.serf_small} loss {loss:.0%} seeds {part[0]}-{part[-1]}",
                    0.05 * len(part),
                    cluster_task,
                    (plan.serf_small, part, loss, Phases(1)),
                )
            )
    return sorted(jobs, key=lambda j: -j.cost)


def run_jobs(jobs: list[Job], workers: int) -> list[Result]:
    """Every job in a fresh spawned process, longest first; progress on stderr."""
    context = multiprocessing.get_context("spawn")
    results: list[Result] = []
    started = time.perf_counter()
    with ProcessPoolExecutor(workers, mp_context=context, max_tasks_per_child=1) as pool:
        pending = [(job, pool.submit(job.func, *job.args)) for job in jobs]
        for done, (job, future) in enumerate(pending, 1):
            results.extend(future.result())  # BrokenProcessPool if a worker died
            elapsed = time.perf_counter() - started
            print(f"  [{done:>3}/{len(jobs)} {elapsed:5.0f} s] {job.label}", file=sys.stderr)
    return results


def native_module() -> tuple[str, str]:
    """Path and SHA-256 of the native module: a rebuild during the run mixes two builds."""
    path = Path(_core.__file__ or "")
    return str(path), hashlib.sha256(path.read_bytes()).hexdigest()


# ---- report ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Figures:
    plan: Plan
    workers: int
    results: list[Result]

    def clusters(self, n: int, loss: float) -> list[ClusterResult]:
        return [
            r for r in self.results if isinstance(r, ClusterResult) and r.n == n and r.loss == loss
        ]

    def spreads(self, n: int, loss: float) -> list[Spread]:
        return [s for c in self.clusters(n, loss) for s in c.spreads]

    def detections(self, n: int) -> list[Detection]:
        return [c.detection for c in self.clusters(n, LOSS) if c.detection is not None]

    def stalls(self, n: int) -> list[Stall]:
        return [c.stall for c in self.clusters(n, LOSS) if c.stall is not None]

    @property
    def long_run(self) -> LongRun:
        return next(r for r in self.results if isinstance(r, LongRun))

    @property
    def node_memory(self) -> NodeMemory:
        return next(r for r in self.results if isinstance(r, NodeMemory))

    @property
    def idle(self) -> Idle:
        return next(r for r in self.results if isinstance(r, Idle))

    def lifeguard(self, on: bool) -> list[LifeguardResult]:
        return [r for r in self.results if isinstance(r, LifeguardResult) and r.lifeguard == on]

    def partitions(self, n: int) -> list[PartitionResult]:
        return [r for r in self.results if isinstance(r, PartitionResult) and r.n == n]

    # the headline figures

    def lifeguard_counts(self) -> tuple[int, int]:
        on = sum(r.false_deaths for r in self.lifeguard(True))
        off = sum(r.false_deaths for r in self.lifeguard(False))
        return on, off

    def lifeguard_ratio(self) -> float:
        on, off = self.lifeguard_counts()
        return off / max(on, 1)

    def stall_peers_dead(self) -> int:
        return sum(s.peers_dead for n in (self.plan.big, self.plan.small) for s in self.stalls(n))


def fmt(value: float, digits: int = 1) -> str:
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "never"
    return f"{value:.{digits}f}"


def at_most(value: float, target: float) -> str:
    return "n/a" if math.isnan(value) else ("ok" if value <= target else "MISSED")


def at_least(value: float, target: float) -> str:
    return "n/a" if math.isnan(value) else ("ok" if value >= target else "MISSED")


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = [headers, ["-" * w for w in widths], *rows]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in lines)


def indent(text: str) -> str:
    return "\n".join("   " + line.rstrip() for line in text.splitlines())


def row(
    scenario: str,
    figure: str,
    measured: str,
    target: str = "",
    verdict: str = "",
    samples: str = "",
) -> list[str]:
    return [scenario, figure, measured, target, verdict, samples]


def dissemination_rows(f: Figures) -> list[list[str]]:
    big, small = f.plan.big, f.plan.small
    spreads = f.spreads(big, LOSS)
    samples = f"{len(spreads)} records, {len(f.clusters(big, LOSS))} clusters"
    p999 = percentile((s.intervals_999 for s in spreads), 99)
    p_all = percentile((s.intervals_all for s in spreads), 99)
    small_spreads = f.spreads(small, LOSS)
    small_all = percentile((s.intervals_all for s in small_spreads), 99)
    scenario = f"N={big}, 10% loss, one new record"
    return [
        row(scenario, "intervals until 99.9% hold it, p99", fmt(p999, 0), "<= 10",
            at_most(p999, TARGET_999_INTERVALS), samples),
        row(scenario, "intervals until 100% hold it, p99", fmt(p_all, 0), "<= 14",
            at_most(p_all, TARGET_ALL_INTERVALS), samples),
        row(f"N={small}, 10% loss, one new record", f"intervals until all {small}, p99",
            fmt(small_all, 0), "<= 10", at_most(small_all, TARGET_SMALL_ALL_INTERVALS),
            f"{len(small_spreads)} clusters"),
    ]  # fmt: skip


def detection_rows(f: Figures) -> list[list[str]]:
    rows = []
    targets = ((f.plan.big, TARGET_DETECT_BIG), (f.plan.small, TARGET_DETECT_SMALL))
    for n, (t_median, t_p99) in targets:
        times = [d.all_s for d in f.detections(n)]
        scenario = f"crash one node, N={n}, 10% loss"
        figure = "s until every live node marks it dead"
        samples = f"{len(times)} crashes"
        mid, p99 = median(times), percentile(times, 99)
        rows += [
            row(scenario, figure + ", median", fmt(mid), f"<= {t_median:.0f}",
                at_most(mid, t_median), samples),
            row(scenario, figure + ", p99", fmt(p99), f"<= {t_p99:.0f}", at_most(p99, t_p99),
                samples),
        ]  # fmt: skip
    return rows


def false_death_rows(f: Figures) -> list[list[str]]:
    run = f.long_run
    span = f"{run.sim_ms / 60_000:.0f} simulated MINUTES (not an hour)"
    if run.sim_ms >= HOUR_MS:
        span = "one simulated hour"
    on, off = f.lifeguard_counts()
    ratio = f.lifeguard_ratio()
    ratio_text = f"{fmt(ratio)}x (off {off}, on {on})" + (" [on=0: off/1]" if on == 0 else "")
    stall_n = [n for n in (f.plan.big, f.plan.small) if f.stalls(n)]
    stall_samples = ", ".join(f"{len(f.stalls(n))} at N={n}" for n in stall_n)
    peers = f.stall_peers_dead()
    return [
        row(f"N={run.n}, 10% loss, no crash, {span}", "live nodes declared dead",
            str(run.false_deaths), "0", at_most(run.false_deaths, 0), "1 cluster"),
        row(f"5% slow nodes, N={f.plan.small}, Lifeguard on vs off", "false deaths, off/on",
            ratio_text, ">= 10x", at_least(ratio, TARGET_LIFEGUARD_RATIO),
            f"{len(f.lifeguard(True))} seeds each"),
        row("observer stalled 30 s, 10% loss", "peers declared dead because of it", str(peers),
            "0", at_most(peers, 0), stall_samples),
    ]  # fmt: skip


def idle_rows(f: Figures) -> list[list[str]]:
    idle = f.idle
    return [
        row(f"idle cluster N={idle.n}, 0% loss", "bytes sent per node per s, max (median)",
            f"{idle.max_bps:.0f} ({idle.median_bps:.0f})", "<= 2048",
            at_most(idle.max_bps, TARGET_IDLE_BPS), f"{idle.n} nodes over 60 s"),
    ]  # fmt: skip


def partition_rows(f: Figures) -> list[list[str]]:
    rows = []
    for n in (f.plan.big, f.plan.small):
        parts = f.partitions(n)
        if not parts:
            continue
        scenario = f"50/50 partition 120 s, heal, N={n}"
        samples = f"{len(parts)} seed{'s' if len(parts) > 1 else ''}"
        heal = percentile((p.membership_s for p in parts), 99)
        alive = percentile((p.all_alive_s for p in parts), 99)
        records = percentile((p.records_s for p in parts), 99)
        p99 = ", p99" if len(parts) > 1 else ""
        rows += [
            row(scenario, f"s until no live node is held dead{p99}", fmt(heal, 0), "<= 45",
                at_most(heal, TARGET_HEAL_S), samples),
            row(scenario, f"s until every view is 'alive', no suspect{p99}", fmt(alive, 0),
                "(reported)", "", samples),
            row(scenario, f"s until records converged{p99}", fmt(records, 0), "(reported)", "",
                f"{parts[0].records} records each"),
        ]  # fmt: skip
    return rows


def simulator_rows(f: Figures) -> list[list[str]]:
    run = f.long_run
    scenario = f"simulator, N={run.n}, 10% loss"
    span = f"{run.sim_ms / 60_000:.0f} simulated min"
    return [
        row(scenario, "simulated s per wall s (settled)", fmt(run.speed, 2), "", "",
            f"{f.workers} processes busy"),
        row(scenario, f"wall time of {span}", f"{run.wall_s:.0f} s", "minutes", "",
            f"+ {run.settle_wall_s:.0f} s to join"),
        row(scenario, "peak RSS of that process", f"{run.peak_rss_mb:.0f} MB", "<= 4096 MB",
            at_most(run.peak_rss_mb, TARGET_MEMORY_MB)),
    ]  # fmt: skip


def node_rows(f: Figures) -> list[list[str]]:
    m = f.node_memory
    scenario = f"{m.records:,} records of {m.value_bytes} B held by one Node (loopback)"
    return [
        row(scenario, "RSS growth over keys + values", f"{m.writer_ratio:.2f}x", "< 2x",
            at_most(m.writer_ratio, TARGET_NODE_MEMORY_RATIO),
            f"{m.writer_rss_growth_mb:.0f} MB for {m.payload_mb:.0f} MB"),
        row(scenario, "a joining node catches up", f"{m.catch_up_s:.2f} s", "stream speed",
            "", f"{m.catch_up_mb_s:.0f} MB/s; plain TCP {m.raw_tcp_mb_s:.0f} MB/s"),
    ]  # fmt: skip


def acceptance_section(f: Figures) -> str:
    rows = dissemination_rows(f) + detection_rows(f) + false_death_rows(f)
    rows += idle_rows(f) + partition_rows(f) + node_rows(f) + simulator_rows(f)
    headers = ["scenario", "figure", "measured", "target", "verdict", "samples"]
    return (
        "1. Acceptance figures (gossip.md §6.7): simulator, lan profile, i.i.d. loss,"
        " 1-2 ms latency\n"
        "   p99 is nearest-rank (over fewer than 100 samples, the largest); never = not within"
        f" {RECORD_GAP_MS // 1000} s (records), {CRASH_RUN_MS // 1000} s (crash),"
        f" {HEAL_WATCH_MS // 1000} s (heal)\n" + indent(table(headers, rows))
    )


def detection_details(f: Figures) -> list[str]:
    lines = []
    for n in (f.plan.big, f.plan.small):
        d = f.detections(n)
        if not d:
            continue
        first = fmt(median(x.first_s for x in d))
        middle = fmt(median(x.median_s for x in d))
        last = f"{fmt(min(x.all_s for x in d))}-{fmt(max(x.all_s for x in d))}"
        lines.append(
            f"crash N={n}: first observer {first} s, median observer {middle} s"
            f" (medians over crashes); last observer {last} s (range)"
        )
        hours = sum(c.node_hours for c in f.clusters(n, LOSS))
        deaths = sum(c.false_deaths for c in f.clusters(n, LOSS))
        lines.append(
            f"false deaths in those N={n} clusters (records + crash phases):"
            f" {deaths} in {hours:.1f} node-hours"
        )
    run = f.long_run
    rate = run.suspicions / (run.n * run.sim_ms / HOUR_MS)
    acks = run.fallback_acks / (run.n * run.sim_ms / HOUR_MS)
    lines.append(
        f"no-crash run: {run.suspicions} suspicion events (report()['suspicions'] summed),"
        f" {rate:.2f} per node-hour (gossip.md A4: ~28 expected without TCP fallback);"
        f" probes answered only by the TCP fallback ping: {acks:.0f} per node-hour"
    )
    return lines


def stall_details(f: Figures) -> list[str]:
    lines = []
    for n in (f.plan.big, f.plan.small):
        s = f.stalls(n)
        if not s:
            continue
        declared = fmt(median(x.stalled_declared_by for x in s), 0)
        lines.append(
            f"observer stall N={n}: dead verdicts by the stalled node itself"
            f" {sum(x.by_stalled for x in s)}; the stalled node (silent 30 s) was declared dead"
            f" by a median of {declared} observers; views still holding it dead 30 s after it"
            f" resumed: {sum(x.still_dead for x in s)}; stall noticed by the node in"
            f" {sum(x.stalls >= 1 for x in s)}/{len(s)}"
        )
    return lines


def lifeguard_details(f: Figures) -> list[str]:
    lines = []
    for on in (True, False):
        runs = f.lifeguard(on)
        lines.append(
            f"Lifeguard {'on ' if on else 'off'}: {sum(r.false_deaths for r in runs)} false deaths"
            f" ({sum(r.of_slow for r in runs)} about a slow node,"
            f" {sum(r.by_slow for r in runs)} by one); per seed {[r.false_deaths for r in runs]}"
        )
    return lines


def partition_details(f: Figures) -> list[str]:
    lines = []
    for n in (f.plan.big, f.plan.small):
        parts = f.partitions(n)
        if not parts:
            continue
        cut = fmt(100 * median(p.cross_dead for p in parts), 0)
        heals = [fmt(p.membership_s, 0) for p in parts[:20]]
        lines.append(
            f"partition N={n}: sampled cross-partition views dead at the heal {cut}% (median);"
            f" s to no-dead per seed {' '.join(heals)}"
        )
    return lines


def details_section(f: Figures) -> str:
    lines = detection_details(f) + stall_details(f) + lifeguard_details(f)
    lines += partition_details(f)
    return "2. Details\n" + "\n".join("   " + line for line in lines)


def serf_section(f: Figures) -> str:
    rows = []
    for n in (f.plan.serf_small, f.plan.big):
        for loss in (0.0, LOSS):
            spreads = f.spreads(n, loss)
            model = serf_rounds(n, loss)
            ms = [s.ms_999 for s in spreads]
            rounds = [s.intervals_999 for s in spreads]
            rows.append(
                [
                    str(n),
                    f"{loss:.0%}",
                    f"{fmt(model)} rounds = {model * GOSSIP_MS / 1000:.2f} s",
                    f"{fmt(median(rounds), 0)} / {fmt(percentile(rounds, 99), 0)}",
                    f"{fmt(median(ms) / 1000, 2)} / {fmt(percentile(ms, 99) / 1000, 2)}",
                    str(len(spreads)),
                ]
            )
    headers = [
        "N",
        "loss",
        "Serf model to 99.9%",
        "sim rounds p50/p99",
        "sim s p50/p99",
        "records",
    ]
    return (
        f"3. Serf's convergence table (gossip.md §2.5): fanout {FANOUT}, interval {GOSSIP_MS} ms,"
        " time to 99.9% of nodes holding a new record\n"
        "   model: contact = fanout/N·(1-loss)·0.5, infected(x) = N/(1+(N+1)e^(-contact·N·x));"
        " sim rounds = ceil(ms/interval)\n" + indent(table(headers, rows))
    )


def figures_json(f: Figures) -> dict[str, Any]:
    def num(value: float, digits: int = 2) -> float | None:
        return None if math.isinf(value) or math.isnan(value) else round(value, digits)

    big, small = f.plan.big, f.plan.small
    spreads = f.spreads(big, LOSS)
    detection = [d.all_s for d in f.detections(big)]
    small_detection = [d.all_s for d in f.detections(small)]
    on, off = f.lifeguard_counts()
    heal_n = max((p.n for p in f.results if isinstance(p, PartitionResult)), default=0)
    parts = f.partitions(heal_n)
    run = f.long_run
    return {
        "dissemination_p99_intervals": num(percentile((s.intervals_999 for s in spreads), 99)),
        "dissemination_all_p99_intervals": num(percentile((s.intervals_all for s in spreads), 99)),
        "detection_median_s": num(median(detection)),
        "detection_p99_s": num(percentile(detection, 99)),
        "false_deaths": run.false_deaths,
        "lifeguard_ratio": num(f.lifeguard_ratio()),
        "lifeguard_false_deaths_on": on,
        "lifeguard_false_deaths_off": off,
        "observer_stall_false_deaths": f.stall_peers_dead(),
        "idle_bytes_per_node_s": num(f.idle.max_bps, 0),
        "idle_bytes_per_node_s_median": num(f.idle.median_bps, 0),
        "partition_heal_s": num(percentile((p.membership_s for p in parts), 99)),
        "partition_all_alive_s": num(percentile((p.all_alive_s for p in parts), 99)),
        "records_converged_s": num(percentile((p.records_s for p in parts), 99)),
        "partition_n_nodes": heal_n,
        "n_nodes": big,
        "seeds": len(f.clusters(big, LOSS)),
        "records": len(spreads),
        "crashes": len(detection),
        "small_n_nodes": small,
        "small_seeds": len(f.clusters(small, LOSS)),
        "dissemination_small_all_p99_intervals": num(
            percentile((s.intervals_all for s in f.spreads(small, LOSS)), 99)
        ),
        "detection_small_median_s": num(median(small_detection)),
        "detection_small_p99_s": num(percentile(small_detection, 99)),
        "no_crash_sim_s": run.sim_ms // 1000,
        "sim_seconds_per_wall_second": num(run.speed),
        "sim_peak_rss_mb": num(run.peak_rss_mb, 0),
        "node_records": f.node_memory.records,
        "node_memory_ratio": num(f.node_memory.writer_ratio),
        "node_catch_up_s": num(f.node_memory.catch_up_s),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced sizes, under a minute")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of figures")
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    started = time.perf_counter()
    jobs = jobs_for(plan, plan.long_run_ms)
    print(f"{plan.name} run: {len(jobs)} tasks on {args.workers} processes", file=sys.stderr)
    module = native_module()
    try:
        figures = Figures(plan, args.workers, run_jobs(jobs, args.workers))
    except BrokenProcessPool as e:
        print(f"a worker died ({e}); was {module[0]} rebuilt meanwhile?", file=sys.stderr)
        return 1
    if native_module() != module:
        print(f"WARNING: {module[0]} was rebuilt during this run: the figures mix two builds")
    print(acceptance_section(figures), end="\n\n")
    print(details_section(figures), end="\n\n")
    print(serf_section(figures), end="\n\n")
    print(f"{plan.name} run: {time.perf_counter() - started:.0f} s")
    if args.json:
        print(json.dumps(figures_json(figures)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
