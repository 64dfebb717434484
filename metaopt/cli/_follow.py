"""Watching an experiment: a live progress line until it ends, then its best trial."""

from __future__ import annotations

import shutil
import sys
import time

from metaopt._control import Client
from metaopt.cli._common import fmt
from metaopt.cli._common import fmt_params
from metaopt.records import Summary

_RUNNING = "running"
EXIT_OK = 0
EXIT_FAILED = 1  # broken, every trial failed, nothing reported, or stopped before its end
_BAR = 20


class Progress:
    """Counts, best so far, time spent and a guess of the time left, from successive summaries.

    The time left is the remaining trials at the rate trials completed while we watched; it is
    shown once one has completed.
    """

    def __init__(self, first: Summary, now: float) -> None:
        self.start = now
        self.completed_at_start = first.completed

    def line(self, s: Summary, now: float, bar: bool = False) -> str:
        failed = s.counts.get("failed", 0) + s.counts.get("broken", 0)
        parts = [
            f"{s.completed}/{s.max_trials} completed",
            f"{s.active} running",
            f"{failed} failed",
        ]
        if s.counts.get("interrupted"):
            parts.append(f"{s.counts['interrupted']} requeued")
        if s.counts.get("frozen"):
            parts.append(f"{s.counts['frozen']} frozen")
        if s.best_value is not None:
            parts.append(f"best {s.objective}={fmt(s.best_value)}")
        elapsed = now - self.start
        timing = [f"{duration(elapsed)} elapsed"]
        done_here = s.completed - self.completed_at_start
        left = max(0, s.max_trials - s.completed)
        if done_here > 0 and left and s.status == _RUNNING:
            timing.append(f"~{duration(elapsed / done_here * left)} left")
        head = f"{s.name}: "
        if bar:
            filled = min(_BAR, round(_BAR * s.completed / max(1, s.max_trials)))
            head += "[" + "#" * filled + "-" * (_BAR - filled) + "] "
        return head + ", ".join(parts) + " | " + ", ".join(timing)

    def counts(self, s: Summary) -> tuple[object, ...]:
        """What a change of is worth a new line when the output is not a terminal."""
        return (s.status, s.completed, s.active, tuple(sorted(s.counts.items())), s.best_value)


def follow(client: Client, name: str, interval: float = 0.25) -> Summary:
    """Show progress until the experiment is no longer running; returns its last summary.

    On a terminal one line is redrawn in place; otherwise a line is printed at each change, so
    that a log of the run reads well.
    """
    tty = sys.stdout.isatty()
    summary = _summary(client, name)
    progress = Progress(summary, time.monotonic())
    last: object = None
    while True:
        now = time.monotonic()
        if tty:
            width = shutil.get_terminal_size().columns - 1
            print(f"\r\033[K{progress.line(summary, now, bar=True)[:width]}", end="", flush=True)
        elif progress.counts(summary) != last:
            print(progress.line(summary, now), flush=True)
            last = progress.counts(summary)
        if summary.status != _RUNNING:
            if tty:
                print()
            return summary
        time.sleep(interval)
        summary = _summary(client, name)


def _summary(client: Client, name: str) -> Summary:
    return Summary.from_dict(client.call("status", name=name)[0])


def duration(seconds: float) -> str:
    """0:42, 12:05, 3:02:10."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def exit_code(s: Summary) -> int:
    """0 only for an experiment that ended with a best trial to show."""
    return EXIT_OK if s.status == "done" and s.best_trial is not None else EXIT_FAILED


def final_report(s: Summary) -> str:
    head = f"{s.name}: {s.status}"
    if s.message and s.status != "broken":
        head += f" ({s.message})"
    lines = [head]
    if s.status == "broken":  # why, with the last failure's stderr: it may span many lines
        lines.append(s.message)
    if s.best_trial is None:
        if s.status != "broken":
            lines.append("no trial completed with a reported metric")
    else:
        lines.append(f"best trial {s.best_trial}: {s.objective}={fmt(s.best_value)}")
        lines.append(f"  {fmt_params(s.best_params)}")
    return "\n".join(lines)
