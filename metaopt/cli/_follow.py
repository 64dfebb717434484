"""Watching an experiment: a live progress line until it ends, then its best trial."""

from __future__ import annotations

import sys
import time

from metaopt._control import Client
from metaopt.cli._common import fmt
from metaopt.cli._common import fmt_params
from metaopt.records import Summary

_RUNNING = "running"


def follow(client: Client, name: str, interval: float = 0.25) -> Summary:
    """Print progress until the experiment is no longer running; returns its last summary."""
    tty = sys.stdout.isatty()
    last = ""
    while True:
        summary = Summary.from_dict(client.call("status", name=name)[0])
        line = progress_line(summary)
        if line != last:
            print(f"\r\033[K{line}" if tty else line, end="" if tty else "\n", flush=True)
            last = line
        if summary.status != _RUNNING:
            if tty:
                print()
            return summary
        time.sleep(interval)


def progress_line(s: Summary) -> str:
    parts = [f"{s.name}: {s.completed}/{s.max_trials} completed", f"{s.active} running"]
    failed = s.counts.get("failed", 0) + s.counts.get("broken", 0)
    if failed:
        parts.append(f"{failed} failed")
    if s.counts.get("interrupted"):
        parts.append(f"{s.counts['interrupted']} requeued")
    if s.best_value is not None:
        parts.append(f"best {s.objective}={fmt(s.best_value)}")
    return ", ".join(parts)


def final_report(s: Summary) -> str:
    lines = [
        f"{s.name}: {s.status}" + (f" ({s.message})" if s.message and s.status != "broken" else "")
    ]
    if s.status == "broken":
        lines.append(s.message)
    if s.best_trial is None:
        lines.append("no trial completed with a reported metric")
    else:
        lines.append(f"best trial {s.best_trial}: {s.objective}={fmt(s.best_value)}")
        lines.append(f"  {fmt_params(s.best_params)}")
    return "\n".join(lines)
