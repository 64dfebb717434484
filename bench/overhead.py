"""What metaopt costs: per-trial overhead, storage, daemon memory and CLI latency, side by side.

    python bench/overhead.py                # full run
    python bench/overhead.py --quick --json # reduced run; its last stdout line is one JSON object

1. Per-trial overhead: a real metaoptd (one slot) runs N no-op trials; the same script started N
   times with subprocess.run is the plain cost of a process start.
2. Storage: N trials written one durable put each (as the daemon writes them: LevelDB, TinyDB),
   and one ``study.add_trial`` each into Optuna's SQLite storage; then read back.
3. Resident memory of a metaoptd holding 10k trials, and of one with an empty store.
4. ``metaopt status`` latency against that daemon, next to the interpreter's own start.

Targets are printed next to the figures, never asserted: the machine this runs on is noisy.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import random
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
import pandas  # noqa: F401  (imported up front: its import is no part of any timed read)

import metaopt
import metaoptd
from metaopt._control import Client
from metaopt._core import Hlc
from metaopt._core import Record
from metaopt._replica import LocalReplica
from metaopt.records import CurveIncrement
from metaopt.records import Experiment
from metaopt.records import ExperimentStatus
from metaopt.records import Trial
from metaopt.records import TrialStatus
from metaopt.records import curve_key
from metaopt.records import experiment_key
from metaopt.records import trial_key
from metaopt.space import parse_command
from metaopt.space import trial_id
from metaopt.storage import open_storage

BENCH = Path(__file__).resolve().parent
NOOP = BENCH / "noop.py"
NOOP_REPORT = BENCH / "noop_report.py"
HEAVY = ("pandas", "numpy", "sklearn", "skopt", "matplotlib")
POLL_S = 0.005  # status polling: short, so that polling does not hide the per-trial figure
STEPS = 10  # points on each stored trial's learning curve
RUNS = 5  # repetitions of each CLI timing (median reported)
READS = 3  # repetitions of each storage read (median reported)
TINYDB_BATCH = 100  # records per put when TinyDB is too slow to write one trial per put

TARGET_OVERHEAD_MS = 50.0
TARGET_HISTORY_10K_S = 1.0
TARGET_RSS_MB = 150.0
TARGET_STATUS_S = 0.5


@dataclasses.dataclass(frozen=True)
class Plan:
    trials: int
    leveldb: tuple[int, ...]
    tinydb: tuple[int, ...]  # one put per trial
    tinydb_batched: tuple[int, ...]  # TINYDB_BATCH records per put
    optuna: tuple[int, ...]
    skipped: dict[str, str]  # "backend/size" -> why it is not measured


FULL = Plan(
    trials=100,
    leveldb=(1000, 10000),
    tinydb=(1000,),
    tinydb_batched=(10000,),
    optuna=(1000, 10000),
    skipped={
        "tinydb/10000 one trial per put": "each put rewrites the whole JSON file;"
        " ~25 s for 1k, ~40 min for 10k; measured batched instead",
    },
)
QUICK = Plan(
    trials=20,
    leveldb=(1000, 10000),
    tinydb=(1000,),
    tinydb_batched=(),
    optuna=(1000,),
    skipped={
        "tinydb/10000": "quick mode: ~40 s even batched (the full run measures it)",
        "optuna_sqlite/10000": "quick mode: ~9 ms per add_trial, ~95 s (the full run measures it)",
    },
)


# ---- processes ------------------------------------------------------------------------------


def child_env() -> dict[str, str]:
    """The environment of every child: it imports the same metaopt and metaoptd as this run."""
    roots = {str(Path(m.__file__ or "").resolve().parent.parent) for m in (metaopt, metaoptd)}
    path = os.pathsep.join([*sorted(roots), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return {**os.environ, "PYTHONPATH": path}


def run_quiet(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, env=child_env(), check=True)


def median_seconds(command: list[str], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run_quiet(command)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@dataclasses.dataclass
class Daemon:
    proc: subprocess.Popen[bytes]
    client: Client
    log: Path
    ready_s: float  # from the process start to its first answer

    def vm_mb(self, field: str = "VmRSS") -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"no {field} for pid {self.proc.pid}")


@contextlib.contextmanager
def running_daemon(data_dir: Path, *flags: str) -> Iterator[Daemon]:
    """A metaoptd child on ``data_dir``, answering; stopped with SIGTERM on the way out."""
    log = data_dir.with_name(data_dir.name + ".log")
    command = [sys.executable, "-m", "metaoptd", "--data-dir", str(data_dir), "--slots", "1"]
    command += ["--bind", "127.0.0.1", "--port", "0"]  # a node alone, on loopback
    command += ["--report-interval", "0.5", *flags]
    start = time.perf_counter()
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=child_env())
    try:
        client = Client(data_dir / "metaoptd.sock")
        wait_ready(proc, client, log)
        yield Daemon(proc, client, log, time.perf_counter() - start)
    finally:
        stop(proc)


def wait_ready(proc: subprocess.Popen[bytes], client: Client, log: Path) -> None:
    deadline = time.monotonic() + 120
    while not client.is_alive():
        if proc.poll() is not None:
            raise RuntimeError(f"metaoptd exited with {proc.returncode}:\n{log.read_text()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"metaoptd did not answer in 120 s:\n{log.read_text()}")
        time.sleep(POLL_S)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ---- 1. per-trial overhead ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Overhead:
    script: str
    metaopt_s: float  # per trial, submit to done
    plain_s: float  # per process start

    @property
    def overhead_ms(self) -> float:
        return (self.metaopt_s - self.plain_s) * 1000

    @property
    def ratio(self) -> float:
        return self.metaopt_s / self.plain_s


def plain_per_trial(script: Path, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        run_quiet([sys.executable, str(script), "--x=0.5"])
    return (time.perf_counter() - start) / n


def metaopt_per_trial(daemon: Daemon, name: str, script: Path, n: int, cwd: Path) -> float:
    """Submit ``n`` trials of ``script`` and poll until the experiment is done."""
    experiment = {
        "name": name,
        "command": [sys.executable, str(script), "--x~uniform(0, 1)"],
        "cwd": str(cwd),
        "max_trials": n,
        "seed": 0,
        # noop.py reports nothing, which counts toward --max-broken: here that is the point
        "max_broken": n + 1,
    }
    start = time.perf_counter()
    daemon.client.call("submit", experiment=experiment)
    while (summary := daemon.client.call("status", name=name)[0])["status"] == "running":
        time.sleep(POLL_S)
    elapsed = time.perf_counter() - start
    if summary["status"] != "done" or summary["counts"].get("completed") != n:
        raise RuntimeError(f"{name} ended {summary}; daemon log: {daemon.log}")
    return elapsed / n


def measure_overhead(tmp: Path, n: int) -> list[Overhead]:
    results = []
    with running_daemon(tmp / "overhead") as daemon:
        for name, script in (("noop", NOOP), ("noop-report", NOOP_REPORT)):
            plain = plain_per_trial(script, n)
            per_trial = metaopt_per_trial(daemon, name, script, n, tmp)
            results.append(Overhead(script.name, per_trial, plain))
    return results


# ---- 2. storage -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class StorageFigure:
    backend: str
    trials: int
    write_s: float
    read_s: float  # objects: metaopt.history() / study.get_trials()
    dataframe_s: float  # History.to_dataframe() / study.trials_dataframe()
    per_put: int = 1  # records per put (trials per call)

    def as_json(self) -> dict[str, Any]:
        body = {
            "write_s": round(self.write_s, 4),
            "read_s": round(self.read_s, 4),
            "dataframe_s": round(self.dataframe_s, 4),
        }
        return body if self.per_put == 1 else {**body, "batched_per_put": self.per_put}


def bench_experiment(name: str, n: int) -> Experiment:
    command = [sys.executable, str(NOOP), "--x~uniform(0, 1)", "--y~uniform(0, 1)"]
    _, space = parse_command(command)
    return Experiment(
        name=name,
        command=tuple(command),
        cwd=str(BENCH),
        space=space.to_dict(),
        max_trials=n,
        status=ExperimentStatus.DONE,
        message=f"{n} trials completed",
        created=time.time(),
    )


def bench_trials(name: str, n: int, node: str) -> list[Trial]:
    """``n`` completed trials: params x and y, a 10-step loss curve, as a real run leaves them."""
    rng = random.Random(0)
    base = time.time()
    trials = []
    for i in range(n):
        params = {"x": rng.random(), "y": rng.random()}
        loss = rng.random()
        curve = tuple((s, {"loss": loss / (s + 1)}) for s in range(STEPS))
        trials.append(
            Trial(
                id=trial_id(name, params),
                experiment=name,
                params=params,
                status=TrialStatus.COMPLETED,
                node=node,
                attempt=1,
                created=base + i,
                started=base + i,
                ended=base + i + 1,
                slot="cpu0",
                pid=10_000 + i,
                curve=curve,
                exit_code=0,
            )
        )
    return trials


def trial_records(trial: Trial) -> list[tuple[str, bytes]]:
    """A finished trial as metaoptd stores it: its copy, and its curve as one increment."""
    increment = CurveIncrement.of(trial, 0, trial.curve)
    return [
        (curve_key(trial.experiment, trial.id, trial.attempt, 0), increment.to_json()),
        (trial_key(trial.experiment, trial.id), trial.to_record()),
    ]


def write_metaopt(data_dir: Path, kind: str, name: str, n: int, per_put: int) -> float:
    """Seconds to store the experiment and ``n`` trials: one put per trial, or batched."""
    with open_storage(data_dir, kind) as storage:
        node = LocalReplica(storage)
        trials = bench_trials(name, n, node.id)
        start = time.perf_counter()
        node.write(experiment_key(name), bench_experiment(name, n).to_json())
        if per_put == 1:
            for trial in trials:  # one durable put per trial, as metaoptd makes when one ends
                node.write_many(trial_records(trial))
        else:
            write_batched(node, trials, per_put)
        return time.perf_counter() - start


def write_batched(node: LocalReplica, trials: list[Trial], per_put: int) -> None:
    """Puts of ``per_put`` records each, through LocalReplica.receive (the replication path)."""
    hlc = Hlc()
    items = [item for t in trials for item in trial_records(t)]
    records = [
        Record("bench-peer", key, i + 1, hlc.now(i + 1), value)
        for i, (key, value) in enumerate(items)
    ]
    for at in range(0, len(records), per_put):
        node.receive(records[at : at + per_put])


def read_metaopt(data_dir: Path, name: str, n: int) -> tuple[float, float]:
    """Median seconds of ``metaopt.history`` (no daemon: it reads the files) and its DataFrame."""
    reads, frames = [], []
    for _ in range(READS):
        start = time.perf_counter()
        history = metaopt.history(name, data_dir=data_dir)
        reads.append(time.perf_counter() - start)
        if len(history) != n:
            raise RuntimeError(f"history({name!r}) has {len(history)} trials, expected {n}")
        start = time.perf_counter()
        history.to_dataframe()
        frames.append(time.perf_counter() - start)
    return statistics.median(reads), statistics.median(frames)


def measure_metaopt_store(tmp: Path, kind: str, n: int, per_put: int) -> StorageFigure:
    data_dir = tmp / f"{kind}-{n}"
    name = f"bench-{n}"
    write_s = write_metaopt(data_dir, kind, name, n, per_put)
    read_s, frame_s = read_metaopt(data_dir, name, n)
    return StorageFigure(kind, n, write_s, read_s, frame_s, per_put)


def write_optuna(url: str, trials: list[Trial]) -> float:
    """Seconds for one ``study.add_trial`` per trial into a fresh study."""
    study = optuna.create_study(study_name="bench", storage=url)
    uniform = optuna.distributions.FloatDistribution(0, 1)
    dists: dict[str, optuna.distributions.BaseDistribution] = {"x": uniform, "y": uniform}
    frozen = [
        optuna.trial.create_trial(
            params=t.params,
            distributions=dists,
            value=t.objective("loss"),
            intermediate_values={step: m["loss"] for step, m in t.curve},
        )
        for t in trials
    ]
    start = time.perf_counter()
    for trial in frozen:
        study.add_trial(trial)
    return time.perf_counter() - start


def read_optuna(url: str, n: int) -> tuple[float, float]:
    """Median seconds of ``get_trials`` through a fresh storage (no cache), and the DataFrame."""
    reads, frames = [], []
    for _ in range(READS):
        start = time.perf_counter()
        study = optuna.load_study(study_name="bench", storage=optuna.storages.RDBStorage(url))
        trials = study.get_trials(deepcopy=False)
        reads.append(time.perf_counter() - start)
        if len(trials) != n:
            raise RuntimeError(f"optuna study has {len(trials)} trials, expected {n}")
        start = time.perf_counter()
        study.trials_dataframe()
        frames.append(time.perf_counter() - start)
    return statistics.median(reads), statistics.median(frames)


def measure_optuna(tmp: Path, n: int) -> StorageFigure:
    url = f"sqlite:///{tmp / f'optuna-{n}.db'}"
    write_s = write_optuna(url, bench_trials("bench", n, "optuna"))
    read_s, frame_s = read_optuna(url, n)
    return StorageFigure("optuna_sqlite", n, write_s, read_s, frame_s)


def measure_storage(tmp: Path, plan: Plan) -> list[StorageFigure]:
    tmp.mkdir()
    runs: list[Callable[[], StorageFigure]] = [
        *(lambda n=n: measure_metaopt_store(tmp, "leveldb", n, 1) for n in plan.leveldb),
        *(lambda n=n: measure_metaopt_store(tmp, "tinydb", n, 1) for n in plan.tinydb),
        *(
            lambda n=n: measure_metaopt_store(tmp, "tinydb", n, TINYDB_BATCH)
            for n in plan.tinydb_batched
        ),
        *(lambda n=n: measure_optuna(tmp, n) for n in plan.optuna),
    ]
    return [run() for run in runs]


# ---- 3. and 4. daemon memory, CLI latency ---------------------------------------------------


STATUS_CODE = "import sys; from metaopt.cli import main; sys.exit(main(sys.argv[1:]))"
HEAVY_CODE = (
    "import json, sys; from metaopt.cli import main; "
    f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
)


@dataclasses.dataclass(frozen=True)
class DaemonFigures:
    rss_empty_mb: float
    rss_10k_mb: float
    hwm_10k_mb: float  # peak resident memory, after the status calls
    ready_empty_s: float
    ready_10k_s: float
    status_s: float  # `metaopt status` with the 10k daemon running
    status_files_s: float  # the same with no daemon: the CLI reads the store itself
    cli_import_s: float
    python_floor_s: float
    heavy: list[str]


def status_command(data_dir: Path) -> list[str]:
    return [sys.executable, "-c", STATUS_CODE, "status", "--data-dir", str(data_dir)]


def heavy_imports() -> list[str]:
    found: list[str] = json.loads(run_quiet([sys.executable, "-c", HEAVY_CODE]).stdout)
    return found


def measure_daemon(tmp: Path, store_10k: Path) -> DaemonFigures:
    with running_daemon(tmp / "empty") as daemon:
        rss_empty, ready_empty = daemon.vm_mb(), daemon.ready_s
    with running_daemon(store_10k) as daemon:
        rss_10k, ready_10k = daemon.vm_mb(), daemon.ready_s
        status_s = median_seconds(status_command(store_10k))
        hwm_10k = daemon.vm_mb("VmHWM")
    status_files_s = median_seconds(status_command(store_10k))  # the daemon is stopped now
    return DaemonFigures(
        rss_empty_mb=rss_empty,
        rss_10k_mb=rss_10k,
        hwm_10k_mb=hwm_10k,
        ready_empty_s=ready_empty,
        ready_10k_s=ready_10k,
        status_s=status_s,
        status_files_s=status_files_s,
        cli_import_s=median_seconds([sys.executable, "-c", "from metaopt.cli import main"]),
        python_floor_s=median_seconds([sys.executable, "-c", "pass"]),
        heavy=heavy_imports(),
    )


# ---- report ---------------------------------------------------------------------------------


def verdict(value: float, target: float) -> str:
    return "ok" if value < target else "MISSES"


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = [headers, *rows]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in lines)


def overhead_section(plan: Plan, results: list[Overhead]) -> str:
    rows = [
        [
            r.script,
            f"{r.metaopt_s * 1000:.1f}",
            f"{r.plain_s * 1000:.1f}",
            f"{r.overhead_ms:.1f}",
            f"{r.ratio:.2f}x",
            f"< {TARGET_OVERHEAD_MS:.0f} ms  {verdict(r.overhead_ms, TARGET_OVERHEAD_MS)}",
        ]
        for r in results
    ]
    headers = ["trial script", "metaopt ms", "plain ms", "overhead ms", "ratio", "target"]
    return (
        f"1. Per-trial overhead: {plan.trials} trials, one slot, submit to done"
        f" (status polled every {POLL_S * 1000:.0f} ms)\n"
        "   metaopt = metaoptd + its supervisor process + the script; plain = subprocess.run\n"
        + indent(table(headers, rows))
    )


def storage_section(figures: list[StorageFigure], plan: Plan) -> str:
    rows = []
    for f in figures:
        target = ""
        if f.backend == "leveldb" and f.trials == 10000:
            target = f"history < {TARGET_HISTORY_10K_S:.0f} s  "
            target += verdict(f.read_s, TARGET_HISTORY_10K_S)
        rows.append(
            [
                f.backend,
                str(f.trials),
                "1 trial" if f.per_put == 1 else f"{f.per_put} (BATCHED)",
                f"{f.write_s:.2f}",
                f"{f.trials / f.write_s:.0f}",
                f"{f.read_s:.3f}",
                f"{f.dataframe_s:.3f}",
                target,
            ]
        )
    headers = ["backend", "trials", "per put", "write s", "trials/s", "read s", "frame s"]
    headers.append("target")
    skipped = "".join(f"\n   not measured: {k}: {why}" for k, why in plan.skipped.items())
    return (
        "2. Storage: completed trials (x, y, 10-step curve), each put durable, then read back\n"
        "   metaopt: one durable put per trial (its copy and its curve increment, as metaoptd\n"
        "            writes when a trial ends), read by metaopt.history()\n"
        "            (no daemon: it reads the files); frame = History.to_dataframe()\n"
        "   optuna:  study.add_trial(create_trial(...)) per trial into a fresh sqlite study,\n"
        "            read with load_study + get_trials(deepcopy=False);"
        " frame = trials_dataframe()\n"
        "   reads: median of 3; BATCHED = LocalReplica.receive of 100 records per put"
        + skipped
        + "\n"
        + indent(table(headers, rows))
    )


def daemon_section(d: DaemonFigures) -> str:
    rows = [
        ["metaoptd RSS, empty store", f"{d.rss_empty_mb:.1f} MB", ""],
        [
            "metaoptd RSS, 10k trials",
            f"{d.rss_10k_mb:.1f} MB",
            f"< {TARGET_RSS_MB:.0f} MB  {verdict(d.rss_10k_mb, TARGET_RSS_MB)}",
        ],
        ["metaoptd peak RSS (VmHWM), 10k, after status calls", f"{d.hwm_10k_mb:.1f} MB", ""],
        ["metaoptd start to first answer, empty", f"{d.ready_empty_s:.3f} s", ""],
        ["metaoptd start to first answer, 10k", f"{d.ready_10k_s:.3f} s", ""],
        ["python -c pass (interpreter floor)", f"{d.python_floor_s:.3f} s", ""],
        ["python -c 'from metaopt.cli import main'", f"{d.cli_import_s:.3f} s", ""],
        [
            "metaopt status, daemon with 10k trials",
            f"{d.status_s:.3f} s",
            f"< {TARGET_STATUS_S} s  {verdict(d.status_s, TARGET_STATUS_S)}",
        ],
        ["metaopt status, no daemon, reads 10k from files", f"{d.status_files_s:.3f} s", ""],
        ["heavy modules after importing metaopt.cli", ", ".join(d.heavy) or "none", ""],
    ]
    return f"3-4. Daemon memory and CLI latency (CLI timings: median of {RUNS} runs)\n" + indent(
        table(["figure", "value", "target"], rows)
    )


def indent(text: str) -> str:
    return "\n".join("   " + line.rstrip() for line in text.splitlines())


def figures_json(
    plan: Plan, overhead: list[Overhead], storage: list[StorageFigure], d: DaemonFigures
) -> dict[str, Any]:
    noop = overhead[0]
    by_backend: dict[str, dict[str, Any]] = {}
    for f in storage:
        by_backend.setdefault(f.backend, {})[str(f.trials)] = f.as_json()
    return {
        "trials": plan.trials,
        "overhead_ms_per_trial": round(noop.overhead_ms, 2),
        "plain_process_s": round(noop.plain_s, 4),
        "metaopt_s_per_trial": round(noop.metaopt_s, 4),
        "report_overhead_ms_per_trial": round(overhead[1].overhead_ms, 2),
        "storage": by_backend,
        "storage_skipped": plan.skipped,
        "daemon_rss_mb_10k": round(d.rss_10k_mb, 1),
        "daemon_rss_mb_empty": round(d.rss_empty_mb, 1),
        "daemon_ready_s_10k": round(d.ready_10k_s, 3),
        "status_s": round(d.status_s, 3),
        "status_no_daemon_s": round(d.status_files_s, 3),
        "python_floor_s": round(d.python_floor_s, 3),
        "cli_import_s": round(d.cli_import_s, 3),
        "cli_imports_heavy": bool(d.heavy),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced run, under a minute")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of figures")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="metaopt-bench-") as name:
        tmp = Path(name)
        overhead = measure_overhead(tmp, plan.trials)
        print(overhead_section(plan, overhead), end="\n\n", flush=True)
        storage = measure_storage(tmp / "storage", plan)
        print(storage_section(storage, plan), end="\n\n", flush=True)
        daemon = measure_daemon(tmp, tmp / "storage" / "leveldb-10000")
        print(daemon_section(daemon), end="\n\n")
    print(f"{'quick' if args.quick else 'full'} run: {time.perf_counter() - started:.0f} s")
    if args.json:
        print(json.dumps(figures_json(plan, overhead, storage, daemon)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
