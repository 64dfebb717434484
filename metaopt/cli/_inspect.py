"""``metaopt status``, ``follow``, ``top`` and ``history``: views, with or without a daemon."""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from typing import TYPE_CHECKING
from typing import Any

from metaopt.cli._common import add_data_dir
from metaopt.cli._common import client
from metaopt.cli._common import fail
from metaopt.cli._common import fmt
from metaopt.cli._common import fmt_params
from metaopt.cli._common import table
from metaopt.errors import DaemonUnavailable
from metaopt.errors import MetaoptError
from metaopt.records import Summary
from metaopt.records import forecast
from metaopt.records import summarize_in
from metaopt.records import unknown_experiment
from metaopt.space import FidelityPrior
from metaopt.space import parse_prior

if TYPE_CHECKING:
    from metaopt._history import History
    from metaopt.records import Trial


def status(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="metaopt status", description="Experiments and their progress."
    )
    parser.add_argument("name", nargs="?", help="one experiment (default: all)")
    parser.add_argument(
        "-f", "--follow", action="store_true", help="watch NAME until it ends (as `follow`)"
    )
    add_data_dir(parser)
    args = parser.parse_args(argv)
    if args.follow:
        if not args.name:
            parser.error("--follow watches one experiment: give its NAME")
        return _follow(args.data_dir, args.name)
    try:
        summaries, live = _summaries(args.data_dir, args.name)
    except MetaoptError as exc:
        return fail(str(exc))
    if not summaries:
        print("no experiments yet: start one with `metaopt SCRIPT --flag~'prior(...)'`")
        return 0
    print(render_status(summaries))
    if live:
        _print_cluster(args.data_dir)
    for s in summaries:
        if s.status == "broken" and args.name:
            print(f"\n{s.name} is broken: {s.message}")
        if s.counts.get("frozen") and args.name:
            _print_frozen(args.data_dir, s.name)
    if not live and any(s.status == "running" for s in summaries):
        print(
            "\nno metaoptd runs on this data dir: running experiments go on when one starts "
            "(`metaoptd --detach`, or their `metaopt` command again)"
        )
    return 0


def _print_frozen(data_dir: str | None, name: str, most: int = 10) -> None:
    """The frozen trials most worth thawing by their forecast: where each curve is heading."""
    hist = _history(data_dir, name)
    frozen = [t for t in hist.trials if t.status.is_frozen()]
    headers, rows = trial_table(hist, frozen)
    at = headers.index("forecast")
    sign = -1.0 if hist.experiment.maximize else 1.0
    rows.sort(key=lambda r: sign * float(r[at]) if r[at] else math.inf)
    print(f"\nfrozen trials of {name} ({len(frozen)}), by forecast at the full budget:")
    print(table(headers, rows[:most]))


def _print_cluster(data_dir: str | None) -> None:
    """One line on the cluster's slots, when this node has peers."""
    _, daemon = client(data_dir)
    try:
        members = daemon.call("peers")
    except MetaoptError:
        return
    if len(members) > 1:
        alive = sum(1 for m in members if m["state"] in ("alive", "suspect"))
        print(f"\ncluster: {alive} of {len(members)} nodes alive, {cluster_slots(members)}")


def follow(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="metaopt follow", description="Watch an experiment until it ends."
    )
    parser.add_argument("name", help="the experiment")
    add_data_dir(parser)
    args = parser.parse_args(argv)
    return _follow(args.data_dir, args.name)


def _follow(data_dir: str | None, name: str) -> int:
    from metaopt.cli._follow import exit_code
    from metaopt.cli._follow import final_report
    from metaopt.cli._follow import follow as watch

    directory, daemon = client(data_dir)
    try:
        summary = watch(daemon, name)
    except DaemonUnavailable:
        return fail(
            f"no metaoptd is running on {directory}, so {name} is not running: "
            f"`metaopt status {name}` shows where it stands"
        )
    except MetaoptError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        print("\nstopped watching; the experiment goes on in metaoptd", file=sys.stderr)
        return 130
    print(final_report(summary))
    return exit_code(summary)


def peers(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="metaopt peers",
        description="The members of this node's cluster, as this node sees them: state, "
        "address, last contact, slots, trials running and the digest of the history each shows "
        "(equal digests: the same history).",
    )
    parser.add_argument(
        "--stats",
        action="store_true",
        help="also this node's gossip counters, with the packets rejected and why",
    )
    parser.add_argument("--json", action="store_true", help="print the table as JSON")
    add_data_dir(parser)
    args = parser.parse_args(argv)
    directory, daemon = client(args.data_dir)
    try:
        info = daemon.call("ping")
        members = daemon.call("peers")
        stats = daemon.call("stats") if args.stats else {}
    except DaemonUnavailable:
        return fail(f"no metaoptd is running on {directory}: `metaoptd --detach` starts one")
    except MetaoptError as exc:
        return fail(str(exc))
    if args.json:
        print(json.dumps({"members": members, "stats": stats} if args.stats else members))
        return 0
    print(render_peers(members))
    alive = sum(1 for m in members if m["state"] in ("alive", "suspect"))
    print(f"\n{alive} of {len(members)} alive; {cluster_slots(members)}", end="")
    print(f"; cluster key fingerprint {info['key']}" if info.get("key") else "")
    if args.stats:
        print("\n" + render_stats(stats))
    return 0


def render_peers(members: list[dict[str, Any]]) -> str:
    rows = []
    for m in members:
        card = m.get("card") or {}
        heard = m.get("heard_s")
        rows.append(
            [
                ("* " if m["self"] else "  ") + str(m["node"]),
                str(m["state"]),
                str(m["address"] or "-"),
                "-" if heard is None else "now" if m["self"] else _ago(float(heard)),
                _slots(card),
                str(card.get("free", "-")),
                str(m["running"]),
                str(card.get("digest") or "-"),
            ]
        )
    head = ["node", "state", "address", "last contact", "slots", "free", "running", "digest"]
    return table(head, rows)


def cluster_slots(members: list[dict[str, Any]]) -> str:
    """ "12 slots, 4 free" over the live members that told theirs."""
    cards = [m["card"] for m in members if m.get("card") and m["state"] in ("alive", "suspect")]
    slots = sum(int(c["slots"]) for c in cards)
    free = sum(int(c["free"]) for c in cards)
    return f"{slots} slot{'s' if slots != 1 else ''}, {free} free"


def render_stats(stats: dict[str, int]) -> str:
    rejected = {k[9:]: v for k, v in stats.items() if k.startswith("rejected_")}
    shown = [
        "packets_received",
        "bytes_received",
        "datagrams_sent",
        "bytes_sent",
        "probes",
        "probes_failed",
        "suspicions",
        "deaths",
        "records_applied",
        "sync_exchanges",
    ]
    lines = [f"{k.replace('_', ' ')}: {stats[k]}" for k in shown if k in stats]
    total = sum(rejected.values())
    why = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in rejected.items() if v)
    lines.append(f"packets rejected: {total}" + (f" ({why})" if why else ""))
    return "\n".join(lines)


def _slots(card: dict[str, Any]) -> str:
    if not card:
        return "-"
    gpus = card.get("gpus") or []
    if not gpus:
        return f"{card['slots']} CPU"
    count = sum(int(n) for _, n in gpus)
    models = ", ".join(str(name) for name, _ in gpus)
    packed = f" x{int(card['slots']) // count}" if count and card["slots"] != count else ""
    return f"{count} GPU{packed} ({models})"


def _ago(seconds: float) -> str:
    from metaopt.cli._follow import duration

    return f"{duration(seconds)} ago"


def render_status(summaries: list[Summary]) -> str:
    rows = []
    for s in summaries:
        best = "-" if s.best_value is None else f"{s.objective}={fmt(s.best_value)}"
        rows.append(
            [
                s.name,
                s.status,
                f"{s.completed}/{s.max_trials}",
                str(s.active),
                str(s.counts.get("failed", 0) + s.counts.get("broken", 0)),
                str(s.counts.get("interrupted", 0)),
                str(s.counts.get("frozen", 0)),
                best,
                fmt_params(s.best_params) if s.best_params else "",
            ]
        )
    headers = [
        "experiment",
        "status",
        "completed",
        "running",
        "failed",
        "requeued",
        "frozen",
        "best",
        "best params",
    ]
    return table(headers, rows)


def _summaries(data_dir: str | None, name: str | None) -> tuple[list[Summary], bool]:
    """The summaries, and whether a daemon gave them (else they were read from the files)."""
    directory, daemon = client(data_dir)
    try:
        args = {"name": name} if name else {}
        return [Summary.from_dict(s) for s in daemon.call("status", **args)], True
    except DaemonUnavailable:
        pass
    from metaopt._history import read_store

    view = read_store(directory)
    exps = view.experiments()
    if name:
        exps = [e for e in exps if e.name == name]
        if not exps:
            raise MetaoptError(unknown_experiment(view, name, directory))
    return [summarize_in(view, e) for e in exps], False


def top(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="metaopt top", description="The best trials of an experiment."
    )
    parser.add_argument("name")
    parser.add_argument("-k", type=int, default=10, help="how many (default 10)")
    add_data_dir(parser)
    args = parser.parse_args(argv)
    try:
        hist = _history(args.data_dir, args.name)
    except MetaoptError as exc:
        return fail(str(exc))
    best = hist.best(args.k)
    assert isinstance(best, list)
    if not best:
        print(f"{args.name}: no completed trial yet")
        return 0
    headers, rows = trial_table(hist, best)
    print(table(["rank", *headers], [[str(i + 1), *row] for i, row in enumerate(rows)]))
    return 0


def history(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="metaopt history",
        description="Every trial of an experiment: a table, CSV, or JSON Lines (one object per "
        "trial and line, learning curve included; NaN and infinities are null).",
    )
    parser.add_argument("name")
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--csv", action="store_true", help="comma-separated, one row per trial")
    form.add_argument(
        "--json", action="store_true", help="JSON Lines: one object per trial, with its curve"
    )
    add_data_dir(parser)
    args = parser.parse_args(argv)
    try:
        hist = _history(args.data_dir, args.name)
    except MetaoptError as exc:
        return fail(str(exc))
    if args.json:
        for t in hist.trials:
            print(json.dumps(trial_json(t, hist.objective), allow_nan=False))
        return 0
    headers, rows = trial_table(hist, hist.trials, detail=True)
    if args.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(headers)
        writer.writerows(rows)
    else:
        print(table(headers, rows))
    return 0


def trial_table(
    hist: History, trials: list[Trial], detail: bool = False
) -> tuple[list[str], list[list[str]]]:
    """Columns shared by `top` and `history`, in one order: trial, [status,] objective, steps,
    [node, attempt,] then each parameter in the order the command declared them."""
    metric = hist.objective
    declared = list(hist.experiment.space)
    fidelity, high = _fidelity(hist)
    names = declared + sorted({k for t in trials for k in t.params} - set(declared))
    headers = ["trial", *(["status"] if detail else []), metric or "objective", "steps"]
    headers += ["forecast"] if high else []
    headers += ["node", "attempt"] if detail else []
    rows = []
    for t in trials:
        row = [t.id, *([t.status.label] if detail else []), fmt(t.objective(metric))]
        row.append(str(len(t.curve)))
        if high:  # where a paused trial's curve is heading at the full budget
            row.append(_forecast(t, metric, high, hist.experiment.maximize))
        row += [t.node, str(t.attempt)] if detail else []
        # a trial that early stopping runs in leases shows its budget under the fidelity
        params = {**t.params, **({fidelity: t.budget} if fidelity and t.budget else {})}
        rows.append(row + [fmt(params.get(n, "")) for n in names])
    return headers + names, rows


def _fidelity(hist: History) -> tuple[str | None, int]:
    """The budget flag of a multi-fidelity experiment and its full budget; (None, 0) if none."""
    for name, text in hist.experiment.space.items():
        if text.startswith("fidelity("):
            prior = parse_prior(text)
            assert isinstance(prior, FidelityPrior)
            return name, prior.high
    return None, 0


def _forecast(t: Trial, metric: str | None, high: int, maximize: bool) -> str:
    name = metric or t.first_metric()
    values = [m[name] for _, m in t.curve if name in m]
    if len(values) >= high or t.status.is_finished():
        return ""
    return fmt(forecast(values, high, maximize))


def trial_json(t: Trial, metric: str | None) -> dict[str, Any]:
    """One trial for standard JSON tools: status by name, the curve as one object per step."""
    body: dict[str, Any] = {
        "id": t.id,
        "experiment": t.experiment,
        "status": t.status.label,
        "objective": t.objective(metric),
        "params": t.params,
        "node": t.node,
        "attempt": t.attempt,
        "created": t.created,
        "started": t.started,
        "ended": t.ended,
        "exit_code": t.exit_code,
        "signal": t.signal,
        "budget": t.budget,
        # where it can be resumed from: its own checkpoint on ``node``, a copy on a peer
        "checkpoint": {"bytes": t.checkpoint_bytes, "step": t.checkpoint_step},
        "copy": {"node": t.copy_node, "step": t.copy_step, "bytes": t.copy_bytes},
        "curve": [{"step": step, **metrics} for step, metrics in t.curve],
    }
    finite: dict[str, Any] = _finite(body)
    return finite


def _finite(value: Any) -> Any:
    """NaN and infinities as None (null): strict JSON has no spelling for them."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _history(data_dir: str | None, name: str) -> History:
    from metaopt._history import history as load

    return load(name, data_dir)
