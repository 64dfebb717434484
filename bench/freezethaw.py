"""Early stopping that resumes: metaopt's asha, hyperband and freezethaw beside what users pick.

    python bench/freezethaw.py                 # 10 seeds, every task; table and plot
    python bench/freezethaw.py --quick --json  # 3 seeds, 1 worker; last line: one JSON object

Tasks (bench/ft_tasks.py): synthetic learning curves without and with crossing, and a pool of
real per-epoch curves (an MLP on scikit-learn's digits). Budget: 20 full trainings' worth of
epochs per run, every method charged the epochs it trains (a thaw only its new ones).

Methods: random search with full training; metaopt ``asha`` and ``hyperband`` (rungs 1, 3, 9,
27: ``fidelity(1, 27, base=3)``) and ``freezethaw`` (the freeze-thaw GP), through
``metaopt.Optimizer``'s jobs;
metaopt ``bayes`` with full training; Optuna's TPE with its HyperbandPruner; and 1-epoch top-k
(every point one epoch, the best ten trained to the end).

``asha`` and ``freezethaw`` also run with 4 simulated workers (``asha-4w``, ``freezethaw-4w``),
each epoch lasting 0.5 to 1.5 time units by the point, to measure what parallel workers cost in
epochs and save in time, and that no trial is leased to two workers at once.

Score: normalized regret of the best validation value seen so far, (best - optimum) / (median
final value - optimum), at 25, 50 and 100 % of the budget, mean over seeds; and the share of the
budget at which a method's mean regret first reaches random search's final one.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from multiprocessing import Pool as Processes
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")  # small matrices: BLAS threads only wait
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ft_tasks

import metaopt

PLOT = Path(__file__).resolve().parent.parent / "docs" / "freezethaw.png"
T = ft_tasks.EPOCHS
BUDGET = 20 * T
NAMES = ("a", "b", "c", "d")
SPACE = {n: "uniform(0, 1)" for n in NAMES}
FIDELITY = {**SPACE, "epochs": f"fidelity(1, {T}, base=3)"}
METHODS = ("random", "asha", "hyperband", "freezethaw", "bayes", "tpe-hyperband", "1-epoch-top-k")
PARALLEL = ("asha", "freezethaw")  # also run with 4 workers, as "METHOD-4w"
WORKERS = 4
EVERY = (*METHODS, *(f"{m}-{WORKERS}w" for m in PARALLEL))


class Budgeted:
    """A run's view of a task: curves served by point, epochs charged, best value traced."""

    def __init__(self, task: Any) -> None:
        self.task = task
        self.spent = 0
        self.best = math.inf
        self.trace: list[tuple[int, float]] = []  # (epochs spent, best value)
        self.clocks: list[tuple[float, float]] = []  # (simulated time, best value)
        self.doubles = 0  # leases of a trial that another worker was training
        self.used: set[int] = set()
        self.served: dict[tuple[float, ...], Any] = {}

    def curve(self, point: dict[str, Any]) -> np.ndarray:
        u = tuple(float(point[n]) for n in NAMES)
        if u not in self.served:
            if isinstance(self.task, ft_tasks.Pool):
                index = self.task.nearest(u, self.used)
                self.used.add(index)
                self.served[u] = self.task.curves[index]
            else:
                self.served[u] = self.task.curve(u)
        values: np.ndarray = self.served[u]
        return values

    def epoch(self, point: dict[str, Any], step: int, clock: float = 0.0) -> float:
        """Train one more epoch (``step``, from 0) of ``point``, ending at simulated ``clock``."""
        value = float(self.curve(point)[step])
        self.spent += 1
        if value < self.best:
            self.best = value
        self.trace.append((self.spent, self.best))
        self.clocks.append((clock, self.best))
        return value

    @property
    def out(self) -> bool:
        return self.spent >= BUDGET


def epoch_seconds(point: dict[str, Any]) -> float:
    """The simulated duration of one epoch of ``point``: 0.5 to 1.5, set by its last coordinate
    (a batch size, say), so that workers drift out of step."""
    return 0.5 + float(point[NAMES[-1]])


def run_optimizer_jobs(
    run: Budgeted, algo: str, seed: int, latency: list[float], workers: int = 1
) -> None:
    """``workers`` simulated workers training jobs of one ``metaopt.Optimizer``, event by event:
    each asks for a job when it is free and tells each epoch as it ends."""
    opt = metaopt.Optimizer(FIDELITY, algo=algo, seed=seed)
    events: list[tuple[float, int, metaopt.Job, int]] = []  # (ends at, worker, job, step)
    training: set[str] = set()

    def start(worker: int, now: float) -> None:
        began = time.perf_counter()
        job = opt.ask()
        latency.append(time.perf_counter() - began)
        assert isinstance(job, metaopt.Job)
        run.doubles += job.id in training
        training.add(job.id)
        heapq.heappush(events, (now + epoch_seconds(job), worker, job, job.start))

    for worker in range(workers):
        start(worker, 0.0)
    while not run.out:
        now, worker, job, step = heapq.heappop(events)
        value = run.epoch(job, step, now)
        began = time.perf_counter()
        go_on = opt.tell(job, step, value)
        latency.append(time.perf_counter() - began)
        if go_on and step + 1 < job.until:
            heapq.heappush(events, (now + epoch_seconds(job), worker, job, step + 1))
        elif not run.out:
            training.discard(job.id)
            start(worker, now)


def run_whole(run: Budgeted, algo: str, seed: int, latency: list[float]) -> None:
    opt = metaopt.Optimizer(SPACE, algo=algo, seed=seed)
    while not run.out:
        params = opt.ask()
        value = math.inf
        for step in range(T):
            value = run.epoch(params, step)
            if run.out:
                break
        opt.tell(params, value)


def run_tpe_hyperband(run: Budgeted, seed: int, latency: list[float]) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    pruner = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=T, reduction_factor=3)
    study = optuna.create_study(  # a fixed name: the pruner assigns brackets by its hash
        study_name=f"tpe-hyperband-{seed}",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=pruner,
    )
    while not run.out:
        trial = study.ask()
        point = {n: trial.suggest_float(n, 0.0, 1.0) for n in NAMES}
        value = math.inf
        pruned = False
        for step in range(T):
            value = run.epoch(point, step)
            trial.report(value, step)
            if run.out:
                break
            if trial.should_prune():
                pruned = True
                break
        if pruned:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, value)


def run_top_k(run: Budgeted, seed: int, latency: list[float], k: int = 10) -> None:
    rng = np.random.default_rng(seed)
    count = BUDGET - k * (T - 1)
    points = [dict(zip(NAMES, map(float, rng.random(4)), strict=True)) for _ in range(count)]
    firsts = [(run.epoch(p, 0), i) for i, p in enumerate(points)]
    for _, i in sorted(firsts)[:k]:
        for step in range(1, T):
            if run.out:
                return
            run.epoch(points[i], step)


def on_workers(algo: str) -> Callable[[Budgeted, int, list[float]], None]:
    def run(r: Budgeted, seed: int, latency: list[float]) -> None:
        run_optimizer_jobs(r, algo, seed, latency, WORKERS)

    return run


RUNNERS: dict[str, Callable[[Budgeted, int, list[float]], None]] = {
    "random": lambda r, s, lat: run_whole(r, "random", s, lat),
    "bayes": lambda r, s, lat: run_whole(r, "bayes", s, lat),
    "asha": lambda r, s, lat: run_optimizer_jobs(r, "asha", s, lat),
    "hyperband": lambda r, s, lat: run_optimizer_jobs(r, "hyperband", s, lat),
    "freezethaw": lambda r, s, lat: run_optimizer_jobs(r, "freezethaw", s, lat),
    **{f"{m}-{WORKERS}w": on_workers(m) for m in PARALLEL},
    "tpe-hyperband": run_tpe_hyperband,
    "1-epoch-top-k": run_top_k,
}


def tasks(quick: bool) -> list[Any]:
    out: list[Any] = [ft_tasks.Synthetic(0.0), ft_tasks.Synthetic(2.0)]
    out.append(ft_tasks.digits_pool(64 if quick else 128))
    return out


def one_run(job: tuple[int, str, int, bool]) -> dict[str, Any]:
    task_index, method, seed, quick = job
    task = tasks(quick)[task_index]
    run = Budgeted(task)
    latency: list[float] = []
    RUNNERS[method](run, seed, latency)
    scale = task.median - task.optimum
    regrets = [(spent, max(0.0, (best - task.optimum) / scale)) for spent, best in run.trace]
    clocks = [(clock, max(0.0, (best - task.optimum) / scale)) for clock, best in run.clocks]
    return {
        "task": task.name,
        "method": method,
        "seed": seed,
        "regrets": regrets,
        "clocks": clocks,
        "doubles": run.doubles,
        "lat": latency,
    }


def regret_at(regrets: list[tuple[Any, float]], spent: float) -> float:
    last = 1.0
    for at, value in regrets:
        if at > spent:
            break
        last = value
    return last


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    table: dict[str, dict[str, list[float]]] = {}
    curves: dict[tuple[str, str], list[list[float]]] = {}
    fractions = [i / 100 for i in range(1, 101)]
    for r in results:
        points = [regret_at(r["regrets"], f * BUDGET) for f in fractions]
        curves.setdefault((r["task"], r["method"]), []).append(points)
    errors: dict[str, dict[str, float]] = {}
    for (task, method), runs in curves.items():
        means = [float(np.mean(col)) for col in zip(*runs, strict=True)]
        table.setdefault(task, {})[method] = means
        finals = [run[-1] for run in runs]  # the standard error of the final regret's mean
        se = float(np.std(finals, ddof=1) / math.sqrt(len(finals))) if len(finals) > 1 else 0.0
        errors.setdefault(task, {})[method] = se
    latency = [x for r in results if r["method"] == "freezethaw" for x in r["lat"]]
    to_target: dict[str, dict[str, float | None]] = {}
    for task, methods in table.items():
        target = methods["random"][-1]
        to_target[task] = {
            m: next((fractions[i] * 100 for i, v in enumerate(c) if v <= target), None)
            for m, c in methods.items()
        }
    return {
        "table": table,
        "to_target": to_target,
        "latency": latency,
        "errors": errors,
        "parallel": parallel(results, to_target, table),
    }


def parallel(
    results: list[dict[str, Any]],
    to_target: dict[str, dict[str, float | None]],
    table: dict[str, dict[str, list[float]]],
) -> dict[str, dict[str, dict[str, float | None]]]:
    """Per task and method of ``PARALLEL`` run with 4 workers: the epochs and the simulated
    time they take to reach random search's final regret, as ratios to one worker's."""
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for task, methods in table.items():
        target = methods["random"][-1]
        for method in PARALLEL:
            wide = f"{method}-{WORKERS}w"
            if method not in methods or wide not in methods:
                continue
            one, many = (
                [r["clocks"] for r in results if r["task"] == task and r["method"] == m]
                for m in (method, wide)
            )
            end = max(c[-1][0] for c in one)  # one worker's runs end last
            grid = [end * i / 400 for i in range(1, 401)]
            walls = [_time_to(runs, grid, target) for runs in (one, many)]
            epochs = to_target[task][method], to_target[task][wide]
            out.setdefault(task, {})[method] = {
                "epochs_ratio": _ratio(*epochs),
                "wall_ratio": _ratio(*walls),
                "double_leases": float(
                    sum(r["doubles"] for r in results if r["task"] == task and r["method"] == wide)
                ),
            }
    return out


def _time_to(
    runs: list[list[tuple[float, float]]], grid: list[float], target: float
) -> float | None:
    """The first time of ``grid`` at which the mean regret of ``runs`` is at most ``target``."""
    for at in grid:
        if float(np.mean([regret_at(run, at) for run in runs])) <= target:
            return at
    return None


def _ratio(one: float | None, many: float | None) -> float | None:
    return round(many / one, 3) if one and many is not None else None


def report(summary: dict[str, Any], seconds: float) -> dict[str, Any]:
    table, to_target = summary["table"], summary["to_target"]
    print(f"normalized regret (mean over seeds) at 25 / 50 / 100 % of {BUDGET} epochs;")
    print("to RS target: % of the budget at which the mean regret reaches random search's final")
    for task, methods in table.items():
        print(f"\n{task}")
        print(f"   {'method':<15}{'25 %':>8}{'50 %':>8}{'100 %':>8}{'± se':>8}   to RS target")
        for method in (m for m in METHODS if m in methods):
            c = methods[method]
            pct = to_target[task][method]
            reach = f"{pct:.0f} %" if pct is not None else "not reached"
            se = summary["errors"][task][method]
            print(f"   {method:<15}{c[24]:>8.3f}{c[49]:>8.3f}{c[99]:>8.3f}{se:>8.3f}   {reach}")
    lat = summary["latency"]
    p50 = statistics.median(lat) * 1000 if lat else 0.0
    p95 = float(np.percentile(lat, 95)) * 1000 if lat else 0.0
    if summary["parallel"]:
        print(f"\n{WORKERS} workers against 1, to random search's final regret (simulated epochs")
        print("of 0.5 to 1.5 time units; target: epochs <= 1.25x, time <= 0.35x, no double lease)")
        print(f"   {'task':<15}{'method':<12}{'epochs':>8}{'time':>8}   double leases")
        for task, methods in summary["parallel"].items():
            for method, f in methods.items():
                e, w = (
                    f"{v:.2f}x" if v is not None else "-"
                    for v in (f["epochs_ratio"], f["wall_ratio"])
                )
                print(f"   {task:<15}{method:<12}{e:>8}{w:>8}   {f['double_leases']:.0f}")
    print(f"\nfreezethaw decision latency (ask and tell): p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    print(f"({seconds:.0f} s in all)")
    ft = {t: to_target[t].get("freezethaw") for t in table}
    return {
        "tasks": {t: {m: round(c[-1], 4) for m, c in ms.items()} for t, ms in table.items()},
        "epochs_to_rs_target_pct": {
            t: (round(v, 1) if v is not None else None) for t, v in ft.items()
        },
        "decide_p50_ms": round(p50, 2),
        "decide_p95_ms": round(p95, 2),
        "parallel": summary["parallel"],
    }


def plot(summary: dict[str, Any], path: Path) -> None:
    try:
        import matplotlib
    except ImportError:
        print("no plot: matplotlib is not installed (pip install 'metaopt[bench]')")
        return

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = summary["table"]
    fig, axes = plt.subplots(1, len(table), figsize=(5 * len(table), 4), squeeze=False)
    for ax, (task, methods) in zip(axes[0], table.items(), strict=True):
        for method in (m for m in METHODS if m in methods):
            ax.plot(range(1, 101), methods[method], label=method)
        ax.set_yscale("log")
        ax.set_title(task)
        ax.set_xlabel("% of the epoch budget")
        ax.set_ylabel("normalized regret")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    print(f"plot: {path}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 seeds, a smaller pool")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--plot", type=Path, default=PLOT, help=f"figure path ({PLOT})")
    parser.add_argument(
        "--only",
        metavar="METHOD,...",
        help="these methods (random search always runs: it sets the target)",
    )
    parser.add_argument("--task", type=int, action="append", help="only task number N (from 0)")
    args = parser.parse_args()
    started = time.time()
    print("... building tasks (the real-curve pool is cached after its first build)")
    count = len(tasks(args.quick))
    seeds = range(3 if args.quick else 10)
    methods: tuple[str, ...] = METHODS if args.quick else EVERY  # --quick: one worker only
    if args.only:
        wanted = {"random", *args.only.split(",")}
        methods = tuple(m for m in EVERY if m in wanted)
    numbers = args.task or range(count)
    jobs = [(t, m, s, args.quick) for t in numbers for m in methods for s in seeds]
    print(f"... {len(jobs)} runs on {args.workers} processes")
    with Processes(args.workers) as workers:
        results = workers.map(one_run, jobs, chunksize=1)
    summary = summarize(results)
    figures = report(summary, time.time() - started)
    if not (args.quick or args.only or args.task):  # the recorded figure shows whole runs
        plot(summary, args.plot)
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
