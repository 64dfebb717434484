"""How well and how fast metaopt's algorithms optimize, side by side with what users pick instead.

    python bench/algorithms.py                 # full run: 10 seeds, table, plot
    python bench/algorithms.py --quick --json  # reduced run; last stdout line: one JSON object

Methods: metaopt ``bayes``, ``evolution`` and ``random`` (through ``metaopt.Optimizer``),
Optuna's TPE (with constant liar) and GP samplers, and plain ``skopt.gp_minimize``.
Tasks (bench/algo_tasks.py): Branin, Hartmann-6, Levy-10 and the cross-validated error of an
SVC on digits, 50 evaluations each (100 for Levy-10).

1. Sequential: every method, every task, every seed. Score: the normalized regret of the best
   value found, (best - optimum) / (median of random points - optimum), so 1 is what a random
   point gives and 0 the optimum. Where the optimum is unknown (digits), the best value any run
   found stands in. Medians over seeds.
2. Asynchronous workers, simulated: with P trials pending, P + 1 workers evaluate at once, each
   evaluation taking a random time in [0.5, 1.5], so every proposal after the first few is made
   while P others are still out. Same evaluation budget. ``async_ratio`` is bayes' mean over
   tasks of median regret with P pending, over the same figure sequentially.
3. Suggest latency: a warm optimizer with 100 (then 1,000) completed Hartmann-6 trials asks and
   is told 100 more; the p50, p95 and max of ask plus tell are reported (some libraries fit
   their model on tell; bayes' max is a refit of its kernel, about 3 calls in 100). Measured
   after the runs, alone on the machine.

The runs are spread over one worker process per core (``--workers``), each limited to one
thread; every run is seeded, so the figures do not depend on how they were spread.

Targets are printed beside the figures, never asserted: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import dataclasses
import heapq
import json
import math
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from algo_methods import METHODS
from algo_methods import AskTell
from algo_methods import MetaoptRun
from algo_methods import skopt_minimize
from algo_tasks import TASKS
from algo_tasks import Task

from metaopt.space import Space

BENCH = Path(__file__).resolve().parent
PLOT = BENCH.parent / "docs" / "algorithms.png"
BAYES = "metaopt bayes"
SKOPT = "skopt gp_minimize"
RANDOM_SAMPLES = 200  # points that set each task's "median of random points"


@dataclasses.dataclass
class Run:
    task: str
    method: str
    pending: int  # 0: sequential
    seed: int
    values: list[float]  # objective values in the order they were told
    optimizer_s: float  # time spent asking and telling, objective excluded


def run_sequential(method: str, task: Task, seed: int, budget: int) -> Run:
    factory, _ = METHODS[method]
    values: list[float] = []
    spent = 0.0

    def evaluate(params: dict[str, Any]) -> float:
        value = task.objective(params)
        values.append(value)
        return value

    start = time.perf_counter()
    if factory is None:
        objective_s = 0.0

        def timed(params: dict[str, Any]) -> float:
            nonlocal objective_s
            t = time.perf_counter()
            value = evaluate(params)
            objective_s += time.perf_counter() - t
            return value

        skopt_minimize(task.space, timed, budget, seed)
        spent = time.perf_counter() - start - objective_s
        return Run(task.name, method, 0, seed, values, spent)
    opt = factory(task.space, seed)
    for _ in range(budget):
        t = time.perf_counter()
        token, params = opt.ask()
        spent += time.perf_counter() - t
        value = evaluate(params)
        t = time.perf_counter()
        opt.tell(token, value)
        spent += time.perf_counter() - t
    return Run(task.name, method, 0, seed, values, spent)


def run_async(method: str, task: Task, seed: int, budget: int, pending: int) -> Run:
    """``pending + 1`` simulated workers; a worker asks as soon as its evaluation is told."""
    factory, _ = METHODS[method]
    assert factory is not None
    opt: AskTell = factory(task.space, seed)
    clock = random.Random(seed * 7919 + pending)
    running: list[tuple[float, int, Any, float]] = []  # (finish time, order, token, value)
    values: list[float] = []
    spent = 0.0
    asked = 0

    def launch(now: float) -> None:
        nonlocal spent, asked
        t = time.perf_counter()
        token, params = opt.ask()
        spent += time.perf_counter() - t
        # Evaluated at once; the value is only told when its simulated time is up.
        finish = now + clock.uniform(0.5, 1.5)
        heapq.heappush(running, (finish, asked, token, task.objective(params)))
        asked += 1

    for _ in range(min(budget, pending + 1)):
        launch(0.0)
    while running:
        now, _, token, value = heapq.heappop(running)
        t = time.perf_counter()
        opt.tell(token, value)
        spent += time.perf_counter() - t
        values.append(value)
        if asked < budget:
            launch(now)
    return Run(task.name, method, pending, seed, values, spent)


def run_job(job: tuple[Task, str, int, int]) -> Run:
    task, method, pending, seed = job
    if pending:
        return run_async(method, task, seed, task.budget, pending)
    return run_sequential(method, task, seed, task.budget)


# Rough seconds per run, to start the longest first so that the workers finish together.
_COST = {SKOPT: 20.0, "optuna GP": 3.0, "metaopt bayes": 1.0}


def run_all(jobs: list[tuple[Task, str, int, int]], workers: int) -> list[Run]:
    """Every run, spread over ``workers`` processes; progress on stderr."""
    import multiprocessing

    jobs = sorted(jobs, key=lambda j: -_COST.get(j[1], 0.05) * j[0].budget)
    runs: list[Run] = []
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(workers, _quiet_worker) as pool:
        for i, run in enumerate(pool.imap_unordered(run_job, jobs), 1):
            runs.append(run)
            if i % 25 == 0 or i == len(jobs):
                elapsed = time.perf_counter() - started
                print(f"  {i}/{len(jobs)} runs, {elapsed:.0f} s", file=sys.stderr, flush=True)
    return runs


def _quiet_worker() -> None:
    """One thread per worker process: the workers are the parallelism. Two workers with two
    BLAS threads each, on two cores, ran scikit-optimize eight times slower than one."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"  # read when each BLAS loads; loaded ones are limited below
    import scipy.linalg  # noqa: F401  (loads SciPy's BLAS now, so that the limit reaches it)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass


# ---- scores ------------------------------------------------------------------------------------


def random_median(task: Task) -> float:
    space = Space.from_dict(task.space)
    rng = random.Random(12345)
    return statistics.median(task.objective(space.sample(rng)) for _ in range(RANDOM_SAMPLES))


def regret_curve(run: Run, optimum: float, scale: float) -> list[float]:
    best = math.inf
    out = []
    for value in run.values:
        best = min(best, value)
        out.append(max(0.0, best - optimum) / scale)
    return out


@dataclasses.dataclass
class Scores:
    """Normalized regret curves of every run, by (task, method, pending)."""

    curves: dict[tuple[str, str, int], list[list[float]]]
    seconds: dict[tuple[str, str, int], list[float]]

    def final(self, task: str, method: str, pending: int = 0) -> float | None:
        curves = self.curves.get((task, method, pending))
        return statistics.median(c[-1] for c in curves) if curves else None

    def median_curve(self, task: str, method: str, pending: int = 0) -> list[float]:
        curves = self.curves[(task, method, pending)]
        return [statistics.median(step) for step in zip(*curves, strict=False)]


def score(runs: list[Run], tasks: list[Task]) -> Scores:
    curves: dict[tuple[str, str, int], list[list[float]]] = {}
    seconds: dict[tuple[str, str, int], list[float]] = {}
    for task in tasks:
        mine = [r for r in runs if r.task == task.name]
        optimum = task.optimum
        if optimum is None:
            optimum = min(min(r.values) for r in mine)
        scale = random_median(task) - optimum
        for r in mine:
            key = (r.task, r.method, r.pending)
            curves.setdefault(key, []).append(regret_curve(r, optimum, scale))
            seconds.setdefault(key, []).append(r.optimizer_s)
    return Scores(curves, seconds)


# ---- latency -----------------------------------------------------------------------------------


def latency(method: str, size: int, steps: int) -> tuple[float, float, float]:
    """(p50, p95, max) ms of one ask plus tell, with ``size`` completed trials already told.
    The first call is timed too: for bayes it fits the kernel, as a refit does."""
    task = TASKS[1]  # Hartmann-6
    space = Space.from_dict(task.space)
    rng = random.Random(size)
    factory, _ = METHODS[method]
    if factory is None:  # skopt: its Optimizer is what gp_minimize runs, one tell per point
        return _skopt_latency(task, space, rng, size, min(steps, 10))  # ~1 s per step
    opt = factory(task.space, 0)
    if isinstance(opt, MetaoptRun):  # completed trials told straight away
        for _ in range(size):
            params = space.sample(rng)
            opt.opt.tell(params, task.objective(params))
    else:
        for _ in range(size):  # Optuna: completed trials added to the study
            token, params = opt.ask()
            opt.tell(token, task.objective(params))
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        token, params = opt.ask()
        times.append(time.perf_counter() - t)
        value = task.objective(params)
        t = time.perf_counter()
        opt.tell(token, value)
        times[-1] += time.perf_counter() - t
    return _percentiles(times)


def _skopt_latency(
    task: Task, space: Space, rng: random.Random, size: int, steps: int
) -> tuple[float, float, float]:
    from skopt import Optimizer
    from skopt.space import Real

    opt = Optimizer([Real(0.0, 1.0)] * 6, random_state=0)
    names = list(task.space)
    xs = [space.sample(rng) for _ in range(size)]
    opt.tell([[p[n] for n in names] for p in xs], [task.objective(p) for p in xs])
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        point = opt.ask()
        value = task.objective(dict(zip(names, point, strict=False)))
        opt.tell(point, value)
        times.append(time.perf_counter() - t)
    return _percentiles(times)


def _percentiles(times: list[float]) -> tuple[float, float, float]:
    ordered = sorted(t * 1000 for t in times)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered), p95, ordered[-1]


# ---- report ------------------------------------------------------------------------------------


def table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3g}" if value >= 1e-3 else f"{value:.1e}"


def regret_table(
    scores: Scores, tasks: list[Task], methods: list[str]
) -> tuple[str, dict[str, dict[str, float]]]:
    rows = []
    figures: dict[str, dict[str, float]] = {}
    for task in tasks:
        finals = {m: scores.final(task.name, m) for m in methods}
        figures[task.name] = {m: v for m, v in finals.items() if v is not None}
        ranked = sorted(figures[task.name].values())
        row = [task.name]
        for m in methods:
            value = finals[m]
            mark = " **1st**" if value == ranked[0] else " (2nd)" if value == ranked[1] else ""
            row.append(fmt(value) + mark)
        rows.append(row)
    return table(["task", *methods], rows), figures


def seconds_table(scores: Scores, tasks: list[Task], methods: list[str]) -> str:
    rows = []
    for task in tasks:
        row = [task.name]
        for m in methods:
            spent = scores.seconds.get((task.name, m, 0))
            row.append(f"{statistics.median(spent):.2f}" if spent else "n/a")
        rows.append(row)
    return table(["task", *methods], rows)


def async_report(
    scores: Scores, tasks: list[Task], methods: list[str], pendings: list[int]
) -> tuple[str, dict[str, float]]:
    rows = []
    for m in methods:
        for p in [0, *pendings]:
            row = [m, "sequential" if p == 0 else f"{p} pending"]
            row += [fmt(scores.final(t.name, m, p)) for t in tasks]
            rows.append(row)
    ratios = {}
    for p in pendings:
        seq = statistics.fmean(scores.final(t.name, BAYES) or 0.0 for t in tasks)
        par = statistics.fmean(scores.final(t.name, BAYES, p) or 0.0 for t in tasks)
        ratios[str(p)] = par / seq if seq > 0 else math.inf
    return table(["method", "workers", *(t.name for t in tasks)], rows), ratios


def plot(
    scores: Scores, tasks: list[Task], methods: list[str], pendings: list[int], path: Path
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, grid = plt.subplots(1, len(tasks), figsize=(5 * len(tasks), 4), squeeze=False)
    axes = grid[0]
    for ax, task in zip(axes, tasks, strict=False):
        for m in methods:
            curve = scores.median_curve(task.name, m)
            ax.plot(range(1, len(curve) + 1), [max(v, 1e-6) for v in curve], label=m)
        for p in pendings:
            if (task.name, BAYES, p) in scores.curves:
                curve = scores.median_curve(task.name, BAYES, p)
                ax.plot(
                    range(1, len(curve) + 1),
                    [max(v, 1e-6) for v in curve],
                    linestyle="--",
                    label=f"{BAYES}, {p} pending",
                )
        ax.set_yscale("log")
        ax.set_title(task.name)
        ax.set_xlabel("evaluations")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("median normalized regret")
    axes[-1].legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


# ---- main --------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds, budgets cut to 40%%")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    parser.add_argument("--seeds", type=int, help="seeds per method and task")
    parser.add_argument("--plot", type=Path, default=PLOT, help=f"figure path ({PLOT})")
    parser.add_argument("--tasks", help="comma-separated subset of task names")
    parser.add_argument("--methods", help="comma-separated subset of method names")
    parser.add_argument(
        "--skopt-seeds",
        type=int,
        help="seeds for gp_minimize alone (its Levy-10 runs take minutes each on one core)",
    )
    parser.add_argument("--workers", type=int, default=2, help="processes running seeds (2)")
    args = parser.parse_args()

    seeds = args.seeds or (2 if args.quick else 10)
    tasks = list(TASKS)
    if args.tasks:
        tasks = [t for t in TASKS if t.name in args.tasks.split(",")]
    if args.quick:  # shorter budgets: the ranking shows early, the JSON shape is the same
        tasks = [dataclasses.replace(t, budget=t.budget * 2 // 5) for t in tasks]
    methods = list(METHODS)
    try:
        import torch  # noqa: F401  (what Optuna's GP sampler runs on)
    except ImportError:
        print("optuna GP left out: it needs torch (pip install '.[bench]')", file=sys.stderr)
        methods.remove("optuna GP")
    if args.methods:
        methods = [m for m in METHODS if m in args.methods.split(",")]
    pendings = [4, 8]
    # Random search ignores pending points: its asynchronous runs would repeat the sequential.
    parallel = [m for m in methods if METHODS[m][1] and m != "metaopt random"]
    started = time.perf_counter()

    def seeds_of(method: str) -> range:
        return range(args.skopt_seeds if method == SKOPT and args.skopt_seeds else seeds)

    jobs = [(task, m, 0, seed) for task in tasks for m in methods for seed in seeds_of(m)]
    jobs += [
        (task, m, p, seed)
        for task in tasks
        for m in parallel
        for p in pendings
        for seed in range(seeds)
    ]
    runs = run_all(jobs, args.workers)

    scores = score(runs, tasks)
    regrets, figures = regret_table(scores, tasks, methods)
    async_rows, ratios = async_report(scores, tasks, parallel, pendings)

    steps = 100  # refits are ~3 calls in 100 at these sizes: fewer steps would over-count them
    lat_methods = [BAYES] if args.quick else [m for m in methods if m != "metaopt random"]
    lat_rows = []
    p95: dict[str, float] = {}
    for size in (100, 1000):
        for method in lat_methods:
            if size == 1000 and method not in (BAYES, "metaopt evolution", "optuna TPE"):
                continue  # the GP libraries refit on every point: minutes at this size
            p50, high, top = latency(method, size, steps)
            lat_rows.append([method, f"{size:,}", f"{p50:.1f}", f"{high:.1f}", f"{top:.0f}"])
            if method == BAYES:
                p95[str(size)] = high

    plot(scores, tasks, methods, pendings, args.plot)
    elapsed = time.perf_counter() - started

    bayes_top2 = sum(
        sorted(figures[t.name].values()).index(figures[t.name][BAYES]) < 2 for t in tasks
    )
    tpe = {t.name: figures[t.name].get("optuna TPE", math.inf) for t in tasks}
    beats_tpe = sum(figures[t.name][BAYES] < tpe[t.name] for t in tasks)
    note = f", {SKOPT} {args.skopt_seeds}" if args.skopt_seeds else ""
    print(f"\n## Median normalized regret after the budget, sequential ({seeds} seeds{note})\n")
    print(regrets)
    print(
        f"\nbayes best or 2nd best on {bayes_top2}/{len(tasks)} tasks (target >= 3 of 4); "
        f"beats Optuna TPE on {beats_tpe}/{len(tasks)} (target >= 3 of 4)"
    )
    print("\n## Optimizer time per run, s (objective excluded)\n")
    print(seconds_table(scores, tasks, methods))
    print("\n## Simulated asynchronous workers: median normalized regret\n")
    print(async_rows)
    for p, r in ratios.items():
        target = " (target <= 1.25)" if p == "4" else ""
        print(f"async_ratio with {p} pending: {r:.2f}{target}")
    print("\n## Suggest latency, ms (ask plus tell, Hartmann-6)\n")
    print(table(["method", "completed trials", "p50", "p95", "max"], lat_rows))
    print(
        f"bayes p95: {p95.get('100', math.nan):.0f} ms at 100 (target < 100), "
        f"{p95.get('1000', math.nan):.0f} ms at 1,000 (target < 1000)"
    )
    print(f"\nplot: {args.plot}\nelapsed: {elapsed:.0f} s")
    if args.json:
        out = {"tasks": figures, "suggest_p95_ms": p95, "async_ratio": ratios}
        print(json.dumps(out, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
