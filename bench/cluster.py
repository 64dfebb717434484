"""A cluster of real daemons beside Optuna workers on one shared storage, in the same run.

    python bench/cluster.py                 # 1, 2, 4, 8 nodes; every figure
    python bench/cluster.py --quick --json  # 1, 2, 4 nodes; the last stdout line is JSON

1. Scaling: N metaoptd (one slot each, own data dir and port on loopback, one key, joined to the
   first) run one experiment of 2-second sleep trials (bench/sleep_trial.py, random search,
   max_trials = N x 8, 4 with --quick). From the trial records: trials per minute over the span
   from the first start to the last end, scaling efficiency (throughput over N times one node's),
   slot time per trial beyond the sleep, trials run twice, trials beyond max_trials. Side by side,
   N Optuna worker processes (RandomSampler, the same sleep in the objective, MaxTrialsCallback
   for the shared budget) on one JournalStorage file and on one SQLite RDBStorage.
2. Failover: three nodes; ``kill -9`` of the node running the trial and of its trial process;
   the seconds until the trial runs again on another node, default timings.
3. Partition heal: three hosts in network namespaces (root only); one is cut off until both
   sides declare each other dead, both sides run an experiment, then the seconds from healing
   to one history digest on every host.
4. Late join: a node joins a node that holds 10,000 finished trials; the seconds from its start
   until its digest equals the other's.
5. Idle traffic: bytes each of four idle nodes sends per second (UDP and TCP, from ``stats``).

Targets are printed next to the figures, never asserted: the machine this runs on is noisy.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import functools
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
from optuna.storages.journal import JournalFileBackend
from overhead import child_env
from overhead import stop
from overhead import write_metaopt

from metaopt._control import Client
from metaopt.records import Trial
from metaopt.records import TrialStatus
from metaopt.testing import netns
from metaoptd import keys

BENCH = Path(__file__).resolve().parent
TRIAL = BENCH / "sleep_trial.py"
SLEEP_S = 2.0
POLL_S = 0.05
SETTLE_S = "1"  # a node's wait after its start before it acts (15 s by default); not timed
JOIN_TRIALS = 10_000

TARGET_EFFICIENCY = {4: 0.95, 8: 0.9}
TARGET_OVERHEAD_MS = 100.0
TARGET_FAILOVER_S = 30.0
TARGET_HEAL_S = 45.0


@dataclasses.dataclass(frozen=True)
class Plan:
    nodes: tuple[int, ...]
    trials_per_node: int
    optuna_workers: tuple[int, ...]
    optuna_storages: tuple[str, ...]
    idle_s: float
    join: bool


FULL = Plan((1, 2, 4, 8), 8, (1, 2, 4, 8), ("journal", "sqlite"), 20.0, True)
QUICK = Plan((1, 2, 4), 4, (1, 4), ("journal",), 5.0, True)


# ---- daemons --------------------------------------------------------------------------------


class Node:
    """A metaoptd child on its own data dir; ``wrap`` runs it inside a namespace."""

    def __init__(self, data_dir: Path, flags: list[str], wrap: list[str] | None = None) -> None:
        self.data_dir = data_dir
        self.log = data_dir.with_name(data_dir.name + ".log")
        self.client = Client(data_dir / "metaoptd.sock", timeout=60)
        data_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "metaoptd", "--data-dir", str(data_dir), "--slots", "1"]
        command += ["--report-interval", "0.1", "--settle", SETTLE_S, *flags]
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [*(wrap or []), *command], stdout=out, stderr=subprocess.STDOUT, env=child_env()
            )

    def wait_ready(self) -> Node:
        wait(self.client.is_alive, 120, f"metaoptd on {self.data_dir}", self)
        return self

    def call(self, op: str, **args: Any) -> Any:
        return self.client.call(op, **args)

    def alive_members(self) -> int:
        return sum(1 for m in self.call("peers") if m["state"] == "alive")

    def trials(self, name: str) -> list[Trial]:
        return [Trial.from_json(t) for t in self.call("trials", name=name)["trials"]]

    def starts(self) -> list[str]:
        """The trial ids this node started (each attempt), from its log."""
        return re.findall(r": started trial (\w+) \(attempt", self.log.read_text())

    def kill(self) -> None:
        """``kill -9`` of its trial processes, then of the daemon: a power cut."""
        for path in self.data_dir.glob("trials/*/*/supervisor.json"):
            with contextlib.suppress(ValueError, OSError, KeyError):
                os.killpg(json.loads(path.read_text())["pid"], signal.SIGKILL)
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


def wait(predicate: Callable[[], Any], timeout: float, what: str, node: Node | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if node is not None and node.proc.poll() is not None:
            raise RuntimeError(f"metaoptd exited with {node.proc.returncode}:\n{tail(node)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(POLL_S)
    return value


def tail(node: Node) -> str:
    return "\n".join(node.log.read_text().splitlines()[-30:])


@contextlib.contextmanager
def loopback_cluster(root: Path, n: int, *flags: str) -> Iterator[list[Node]]:
    """``n`` daemons on loopback, one key, all joined to the first, every one seeing all."""
    key = root / "cluster.key"
    keys.load_or_create(key)
    common = ["--bind", "127.0.0.1", "--port", "0", "--no-zeroconf", "--key-file", str(key)]
    nodes = [Node(root / "n0", [*common, *flags]).wait_ready()]
    try:
        seed = ["--join", nodes[0].call("ping")["address"]]
        nodes += [Node(root / f"n{i}", [*common, *seed, *flags]) for i in range(1, n)]
        for node in nodes:
            node.wait_ready()
        wait(lambda: all(x.alive_members() == n for x in nodes), 60, f"{n} members on each")
        wait(lambda: all(x.call("ping")["settled"] for x in nodes), 60, "settled nodes")
        yield nodes
    finally:
        for node in nodes:
            stop(node.proc)


# ---- 1. scaling -----------------------------------------------------------------------------


def sleep_experiment(name: str, max_trials: int, sleep: float) -> dict[str, Any]:
    """The submit body of an experiment of ``sleep``-second trials on a 2-d continuous space."""
    command = [sys.executable, str(TRIAL), "--x~uniform(0, 1)", "--y~uniform(0, 1)"]
    return {
        "name": name,
        "command": [*command, f"--sleep={sleep}"],
        "cwd": str(BENCH),
        "algo": "random",
        "max_trials": max_trials,
        "seed": 0,
    }


@dataclasses.dataclass(frozen=True)
class Run:
    """One experiment's trials, as a span of wall clock and a count."""

    tool: str  # "metaopt", "optuna journal", "optuna sqlite"
    workers: int
    budget: int
    completed: int
    span_s: float  # first trial start to last trial end
    duplicates: int  # trial runs beyond one per point
    overshoot: int  # trials beyond the budget

    @property
    def per_minute(self) -> float:
        return self.completed / self.span_s * 60

    @property
    def overhead_ms(self) -> float:
        """Slot time per trial beyond the sleep: gaps between trials, process starts, reports."""
        return (self.workers * self.span_s / self.completed - SLEEP_S) * 1000


def span(intervals: list[tuple[float, float]]) -> float:
    return max(end for _, end in intervals) - min(start for start, _ in intervals)


def measure_metaopt(root: Path, n: int, per_node: int) -> Run:
    budget = n * per_node
    with loopback_cluster(root, n) as nodes:
        nodes[0].call("submit", experiment=sleep_experiment("scale", budget, SLEEP_S))
        wait(
            lambda: nodes[0].call("status", name="scale")[0]["status"] != "running",
            60 + 10 * per_node * SLEEP_S,
            "the experiment to end",
            nodes[0],
        )
        wait(lambda: all(x.call("ping")["running"] == 0 for x in nodes), 60, "idle nodes")
        wait(lambda: len({x.call("ping")["digest"] for x in nodes}) == 1, 60, "one history")
        trials = nodes[0].trials("scale")
        starts = [tid for node in nodes for tid in node.starts()]
    done = [t for t in trials if t.status == TrialStatus.COMPLETED]
    if len(done) != budget:
        raise RuntimeError(f"{len(done)} of {budget} trials completed:\n{tail(nodes[0])}")
    points = {json.dumps(t.params, sort_keys=True) for t in trials}
    return Run(
        tool="metaopt",
        workers=n,
        budget=budget,
        completed=len(done),
        span_s=span([(t.started or 0, t.ended or 0) for t in done]),
        duplicates=len(starts) - len(set(starts)) + len(trials) - len(points),
        overshoot=max(0, len(trials) - budget),
    )


def optuna_storage(kind: str, root: Path) -> Any:
    if kind == "journal":
        backend = JournalFileBackend(str(root / "optuna.journal"))
        return optuna.storages.JournalStorage(backend)
    return optuna.storages.RDBStorage(f"sqlite:///{root / 'optuna.db'}")


def optuna_worker(kind: str, root: str, budget: int) -> None:
    """One Optuna worker process: trials until the study holds ``budget`` of them."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(
        study_name="scale",
        storage=optuna_storage(kind, Path(root)),
        sampler=optuna.samplers.RandomSampler(),
    )

    def objective(trial: optuna.Trial) -> float:
        x, y = trial.suggest_float("x", 0, 1), trial.suggest_float("y", 0, 1)
        time.sleep(SLEEP_S)
        return float((x - 0.3) ** 2 + (y - 0.7) ** 2)

    # states=None counts running trials too: the tightest cap Optuna offers across workers
    cap = optuna.study.MaxTrialsCallback(budget, states=None)
    study.optimize(objective, n_trials=budget, callbacks=[cap])


def measure_optuna(root: Path, kind: str, n: int, per_node: int) -> Run:
    root.mkdir(parents=True)
    budget = n * per_node
    optuna.create_study(study_name="scale", storage=optuna_storage(kind, root))
    command = [sys.executable, __file__, "--optuna-worker", kind, str(root), str(budget)]
    workers = [subprocess.Popen(command, env=child_env()) for _ in range(n)]
    for worker in workers:
        if worker.wait(timeout=120 + 10 * per_node * SLEEP_S) != 0:
            raise RuntimeError(f"an optuna worker exited with {worker.returncode}")
    trials = optuna.load_study(study_name="scale", storage=optuna_storage(kind, root)).trials
    done = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    points = {json.dumps(t.params, sort_keys=True) for t in trials}
    return Run(
        tool=f"optuna {kind}",
        workers=n,
        budget=budget,
        completed=len(done),
        span_s=span([(stamp(t.datetime_start), stamp(t.datetime_complete)) for t in done]),
        duplicates=len(trials) - len(points),
        overshoot=max(0, len(trials) - budget),
    )


def plain_process_ms(runs: int = 5) -> float:
    """The trial script alone with no sleep (interpreter, imports, report), median of ``runs``."""
    command = [sys.executable, str(TRIAL), "--x=0.5", "--y=0.5", "--sleep=0"]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True, env=child_env())
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def stamp(moment: datetime.datetime | None) -> float:
    if moment is None:
        raise RuntimeError("a completed Optuna trial without a start or an end")
    return moment.timestamp()


def efficiency(runs: list[Run], run: Run) -> float:
    (one,) = [r for r in runs if r.tool == run.tool and r.workers == 1]
    return run.per_minute / (run.workers * one.per_minute)


# ---- 2. failover ----------------------------------------------------------------------------


def measure_failover(root: Path) -> float:
    """Seconds from ``kill -9`` of the node running the trial to the trial running elsewhere."""
    # two slots each: a survivor has one free even when it started a trial of its own (with
    # max_trials 1, a node that sees the experiment before its first trial may propose one too)
    with loopback_cluster(root, 3, "--slots", "2") as nodes:
        victim = nodes[2]
        # the node it is submitted to proposes at once: the trial is most likely its own
        victim.call("submit", experiment=sleep_experiment("failover", 1, 120))

        def running() -> list[Trial]:
            return [t for t in victim.trials("failover") if t.status == TrialStatus.RUNNING]

        trial = wait(running, 60, "the trial to run")[0]
        (runner,) = [x for x in nodes if x.call("ping")["node"] == trial.node]
        survivors = [x for x in nodes if x is not runner]
        runner.kill()
        killed = time.monotonic()

        def elsewhere() -> bool:
            again = [t for t in survivors[0].trials("failover") if t.id == trial.id]
            return bool(again) and again[0].node != trial.node and again[0].status.is_active()

        wait(elsewhere, 120, "the trial to run on a survivor")
        return time.monotonic() - killed


# ---- 3. partition heal ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Heal:
    detect_s: float  # from the cut until both sides have declared each other dead
    members_s: float  # from healing until every host sees three alive
    digest_s: float  # from healing until every host shows one history digest


def done(node: Node, name: str) -> bool:
    return bool(node.call("status", name=name)[0]["status"] == "done")


def measure_heal(root: Path) -> Heal | str:
    """Three hosts in namespaces, one cut off; or why it cannot run here."""
    why = netns.available()
    if why is not None:
        return why
    key = root / "cluster.key"
    keys.load_or_create(key)
    with netns.Network() as network:
        hosts = [network.add_host() for _ in range(3)]
        nodes = [Node(root / h.name, ["--key-file", str(key)], h.command([])) for h in hosts]
        try:
            for node in nodes:
                node.wait_ready()
            wait(lambda: all(x.alive_members() == 3 for x in nodes), 90, "3 members by zeroconf")
            network.partition(hosts[2:])
            cut = time.monotonic()
            wait(lambda: [x.alive_members() for x in nodes] == [2, 2, 1], 90, "the partition seen")
            detect = time.monotonic() - cut
            for node, name in ((nodes[0], "left"), (nodes[2], "right")):
                node.call("submit", experiment=sleep_experiment(name, 4, 0.2))
            for node, name in ((nodes[0], "left"), (nodes[2], "right")):
                wait(functools.partial(done, node, name), 90, f"{name} done")
            network.heal()
            healed = time.monotonic()
            wait(lambda: all(x.alive_members() == 3 for x in nodes), 120, "3 members again")
            members = time.monotonic() - healed
            wait(lambda: len({x.call("ping")["digest"] for x in nodes}) == 1, 120, "one digest")
            return Heal(detect, members, time.monotonic() - healed)
        finally:
            for node in nodes:
                with contextlib.suppress(Exception):
                    node.call("shutdown")


# ---- 4. late join ---------------------------------------------------------------------------


def measure_join(root: Path) -> float:
    """Seconds from a fresh node's start until it holds the 10k-trial history of its seed."""
    write_metaopt(root / "n0", "leveldb", "joined", JOIN_TRIALS, per_put=500)
    with loopback_cluster(root, 1) as (old,):
        key = root / "cluster.key"
        flags = ["--bind", "127.0.0.1", "--port", "0", "--no-zeroconf", "--key-file", str(key)]
        target = old.call("ping")["digest"]
        start = time.monotonic()
        new = Node(root / "late", [*flags, "--join", old.call("ping")["address"]])
        try:
            new.wait_ready()
            wait(
                lambda: new.call("ping")["digest"] == target, 300, "the late node to catch up", new
            )
            caught_up = time.monotonic() - start
            (summary,) = new.call("status", name="joined")
            if summary["counts"].get("completed") != JOIN_TRIALS:
                raise RuntimeError(f"the late node holds {summary['counts']}")
            return caught_up
        finally:
            stop(new.proc)


# ---- 5. idle traffic ------------------------------------------------------------------------


def measure_idle(nodes: list[Node], seconds: float) -> float:
    """Mean bytes sent per node per second (UDP and TCP) over ``seconds`` of nothing to do."""

    def sent() -> int:
        return sum(
            s["udp_bytes_sent"] + s["tcp_bytes_sent"] for s in (x.call("stats") for x in nodes)
        )

    before = sent()
    time.sleep(seconds)
    return (sent() - before) / len(nodes) / seconds


# ---- report ---------------------------------------------------------------------------------


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = [headers, *rows]
    return "\n".join(
        "   " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in lines
    )


def scaling_section(runs: list[Run], plan: Plan, plain_ms: float) -> str:
    rows = []
    for r in runs:
        eff = efficiency(runs, r)
        ours = r.tool == "metaopt"
        target = TARGET_EFFICIENCY.get(r.workers) if ours else None
        rows.append(
            [
                r.tool,
                str(r.workers),
                f"{r.completed}/{r.budget}",
                f"{r.span_s:.1f}",
                f"{r.per_minute:.1f}",
                f"{eff:.3f}",
                mark(eff >= target, f">= {target}") if target else "",
                f"{r.overhead_ms:.0f}",
                mark(r.overhead_ms < TARGET_OVERHEAD_MS, f"< {TARGET_OVERHEAD_MS:.0f}")
                if ours
                else "",
                str(r.duplicates),
                str(r.overshoot),
            ]
        )
    headers = ["tool", "N", "trials", "span s", "trials/min", "efficiency", "target"]
    headers += ["overhead ms", "target", "duplicates", "overshoot"]
    return (
        f"1. Scaling: {SLEEP_S:.0f}-s sleep trials, {plan.trials_per_node} per worker,"
        " one slot per node or one Optuna worker process\n"
        "   span = first trial start to last trial end; efficiency = trials/min over N times"
        " one worker's;\n   overhead = slot time per trial beyond the sleep (N x span / trials"
        f" - {SLEEP_S:.0f} s); metaopt runs each trial as a process, and\n"
        f"   {TRIAL.name} alone (interpreter, imports, report, no sleep) takes {plain_ms:.0f} ms"
        " of it; Optuna's objective sleeps in its worker\n" + table(headers, rows)
    )


def mark(met: bool, target: str) -> str:
    return f"{target}  {'ok' if met else 'MISSES'}"


def verdict(value: float, target: float) -> str:
    return mark(value < target, f"< {target:.0f} s")


def figures_section(
    failover: float, heal: Heal | str, join: float | None, idle: float | None
) -> str:
    rows = [
        [
            "2. kill -9 of a node to its trial running elsewhere",
            f"{failover:.1f} s",
            verdict(failover, TARGET_FAILOVER_S),
        ]
    ]
    if isinstance(heal, Heal):
        rows += [
            [
                "3. partition: cut to both sides seeing the other dead",
                f"{heal.detect_s:.1f} s",
                "",
            ],
            ["   heal to every host seeing 3 alive", f"{heal.members_s:.1f} s", ""],
            [
                "   heal to one history digest on every host",
                f"{heal.digest_s:.1f} s",
                verdict(heal.digest_s, TARGET_HEAL_S),
            ],
        ]
    else:
        rows.append(["3. partition heal", f"not measured: {heal}", ""])
    if join is not None:
        rows.append(
            [
                f"4. a node joining {JOIN_TRIALS} finished trials: start to caught up",
                f"{join:.1f} s",
                "",
            ]
        )
    if idle is not None:
        rows.append(["5. idle bytes sent per node per s (4 nodes)", f"{idle:.0f} B/s", ""])
    return "Cluster figures (default timings; three nodes)\n" + table(
        ["figure", "value", "target"], rows
    )


def figures_json(
    runs: list[Run],
    plain_ms: float,
    failover: float,
    heal: Heal | str,
    join: float | None,
    idle: float | None,
) -> dict[str, Any]:
    ours = [r for r in runs if r.tool == "metaopt"]
    optuna = [r for r in runs if r.tool == "optuna journal"]
    return {
        "efficiency": {
            str(r.workers): round(efficiency(runs, r), 3) for r in ours if r.workers > 1
        },
        "duplicates": sum(r.duplicates for r in ours),
        "overshoot": sum(r.overshoot for r in ours),
        "overhead_ms": {str(r.workers): round(r.overhead_ms, 1) for r in ours},
        "trial_process_ms": round(plain_ms, 1),
        "trials_per_minute": {str(r.workers): round(r.per_minute, 2) for r in ours},
        "failover_s": round(failover, 2),
        "heal_s": round(heal.digest_s, 2) if isinstance(heal, Heal) else None,
        "join_10k_s": None if join is None else round(join, 2),
        "idle_bytes_per_node_s": None if idle is None else round(idle),
        "optuna_efficiency": {
            str(r.workers): round(efficiency(runs, r), 3) for r in optuna if r.workers > 1
        },
        "optuna_overhead_ms": {str(r.workers): round(r.overhead_ms, 1) for r in optuna},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1, 2, 4 nodes; under 2 minutes")
    parser.add_argument("--json", action="store_true", help="end with one line of JSON")
    parser.add_argument("--optuna-worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.optuna_worker:
        kind, root, budget = args.optuna_worker
        optuna_worker(kind, root, int(budget))
        return 0
    plan = QUICK if args.quick else FULL
    began = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="metaopt-cluster-bench-"))
    try:
        plain_ms = plain_process_ms()
        runs: list[Run] = []
        idle = None
        for n in plan.nodes:
            progress(f"metaopt, {n} node(s)")
            runs.append(measure_metaopt(tmp / f"metaopt-{n}", n, plan.trials_per_node))
            if n == 4:
                progress("idle traffic, 4 nodes")
                with loopback_cluster(tmp / "idle", 4) as nodes:
                    idle = measure_idle(nodes, plan.idle_s)
        for kind in plan.optuna_storages:
            for n in plan.optuna_workers:
                progress(f"optuna {kind}, {n} worker(s)")
                runs.append(
                    measure_optuna(tmp / f"optuna-{kind}-{n}", kind, n, plan.trials_per_node)
                )
        progress("failover")
        failover = measure_failover(tmp / "failover")
        progress("partition heal")
        heal = measure_heal(tmp / "heal")
        join = None
        if plan.join:
            progress(f"late join of {JOIN_TRIALS} trials")
            join = measure_join(tmp / "join")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(scaling_section(runs, plan, plain_ms))
    print()
    print(figures_section(failover, heal, join, idle))
    print(f"\n({time.monotonic() - began:.0f} s in all)")
    if args.json:
        print(json.dumps(figures_json(runs, plain_ms, failover, heal, join, idle)))
    return 0


def progress(what: str) -> None:
    print(f"... {what}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
