"""``metaopt status``, ``top`` and ``history``: read-only views, with or without a daemon."""

from __future__ import annotations

import argparse
import csv
import sys
from typing import TYPE_CHECKING

from metaopt.cli._common import add_data_dir
from metaopt.cli._common import client
from metaopt.cli._common import fail
from metaopt.cli._common import fmt
from metaopt.cli._common import fmt_params
from metaopt.cli._common import table
from metaopt.errors import DaemonUnavailable
from metaopt.errors import MetaoptError
from metaopt.records import Summary
from metaopt.records import summarize

if TYPE_CHECKING:
    from metaopt._history import History


def status(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="metaopt status", description="Experiments and their progress."
    )
    parser.add_argument("name", nargs="?", help="one experiment (default: all)")
    add_data_dir(parser)
    args = parser.parse_args(argv)
    try:
        summaries = _summaries(args.data_dir, args.name)
    except MetaoptError as exc:
        return fail(str(exc))
    if not summaries:
        print("no experiments yet: start one with `metaopt SCRIPT --flag~'prior(...)'`")
        return 0
    print(render_status(summaries))
    for s in summaries:
        if s.status == "broken" and args.name:
            print(f"\n{s.name} is broken: {s.message}")
    return 0


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
        "best",
        "best params",
    ]
    return table(headers, rows)


def _summaries(data_dir: str | None, name: str | None) -> list[Summary]:
    directory, daemon = client(data_dir)
    try:
        args = {"name": name} if name else {}
        return [Summary.from_dict(s) for s in daemon.call("status", **args)]
    except DaemonUnavailable:
        pass
    from metaopt._history import read_store

    view = read_store(directory)
    exps = view.experiments()
    if name:
        exps = [e for e in exps if e.name == name]
        if not exps:
            raise MetaoptError(f"no experiment named {name!r} in {directory}")
    return [summarize(e, view.trials(e.name)) for e in exps]


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
    metric = hist.objective or "objective"
    rows = [
        [str(i + 1), t.id, fmt(t.objective(metric)), str(len(t.curve)), fmt_params(t.params)]
        for i, t in enumerate(best)
    ]
    print(table(["rank", "trial", metric, "steps", "params"], rows))
    return 0


def history(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="metaopt history", description="Every trial of an experiment."
    )
    parser.add_argument("name")
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--csv", action="store_true", help="comma-separated, one row per trial")
    form.add_argument(
        "--json", action="store_true", help="one JSON object per trial, with its curve"
    )
    add_data_dir(parser)
    args = parser.parse_args(argv)
    try:
        hist = _history(args.data_dir, args.name)
    except MetaoptError as exc:
        return fail(str(exc))
    metric = hist.objective
    if args.json:
        for t in hist.trials:
            print(t.to_json().decode())
        return 0
    names = sorted({k for t in hist.trials for k in t.params})
    headers = ["trial", "status", "node", "attempt", metric or "objective", *names]
    rows = [
        [
            t.id,
            t.status.label,
            t.node,
            str(t.attempt),
            fmt(t.objective(metric)),
            *(fmt(t.params.get(n, "")) for n in names),
        ]
        for t in hist.trials
    ]
    if args.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(headers)
        writer.writerows(rows)
    else:
        print(table(headers, rows))
    return 0


def _history(data_dir: str | None, name: str) -> History:
    from metaopt._history import history as load

    return load(name, data_dir)
