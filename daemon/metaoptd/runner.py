"""Trial processes: start them, watch them, read their reports, and re-adopt them after a restart.

Each trial runs under ``supervise.py`` in its own session, so it outlives a daemon that is
killed, and the outcome it leaves in ``exit.json`` is read by whichever daemon comes next.
Exits are noticed through a pidfd registered with the event loop: no polling delay, no thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from metaopt._reports import FROZEN_EXIT
from metaopt._reports import METRICS_FILE
from metaopt._reports import STDERR_FILE
from metaopt._reports import STDOUT_FILE
from metaopt._reports import STOP_FILE
from metaopt._reports import Report
from metaopt._reports import parse_metrics_line
from metaopt._reports import parse_stdout_line
from metaopt._trial_api import CHECKPOINT_FILE
from metaopt.records import TrialStatus
from metaoptd.supervise import process_identity

SUPERVISOR = Path(__file__).with_name("supervise.py")
REPORTS_FROM = "reports_from.json"  # where an attempt's reports begin in the report files
INTERRUPT_CODE = 130
STDERR_TAIL_BYTES = 4096


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    status: TrialStatus
    exit_code: int | None = None
    signal: int | None = None
    stderr_tail: str = ""


class TrialProcess:
    """One trial's supervisor, started by this daemon or re-adopted from an earlier one."""

    def __init__(
        self, key: tuple[str, str], folder: Path, pid: int, popen: subprocess.Popen[bytes] | None
    ) -> None:
        self.key = key  # (experiment, trial id)
        self.folder = folder
        self.pid = pid
        self._popen = popen
        self._pidfd: int | None = None
        self.exited = False
        self.done: asyncio.Future[None] | None = None  # resolved when the supervisor ends
        self._offsets = {METRICS_FILE: 0, STDOUT_FILE: 0}
        self._next_stdout_step = 0

    def watch(
        self, loop: asyncio.AbstractEventLoop, on_exit: Callable[[TrialProcess], None]
    ) -> None:
        """Call ``on_exit`` from the loop as soon as the supervisor ends."""
        self.done = loop.create_future()
        try:
            self._pidfd = os.pidfd_open(self.pid)
        except ProcessLookupError:
            self._mark_exited(on_exit)
            return
        loop.add_reader(self._pidfd, self._mark_exited, on_exit)

    def _mark_exited(self, on_exit: Callable[[TrialProcess], None]) -> None:
        if self._pidfd is not None:
            asyncio.get_running_loop().remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None
        if self._popen is not None:
            self._popen.wait()  # reap our own child
        self.exited = True
        on_exit(self)
        if self.done is not None and not self.done.done():
            self.done.set_result(None)

    def signal_group(self, sig: int) -> None:
        if self.exited:  # its group is gone: the id may be another's by now
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    def start_reading_at(self, offsets: dict[str, int]) -> None:
        self._offsets.update(offsets)

    def read_reports(self) -> list[Report]:
        """Reports written since the last call, from metrics.jsonl and stdout."""
        reports = []
        for line in self._new_lines(METRICS_FILE):
            report = parse_metrics_line(line)
            if report is not None:
                reports.append(report)
        for line in self._new_lines(STDOUT_FILE):
            report = parse_stdout_line(line, self._next_stdout_step)
            if report is not None:
                reports.append(report)
                self._next_stdout_step = report[0] + 1
        return reports

    def _new_lines(self, name: str) -> list[str]:
        """Complete lines appended since the last read; a torn last line waits for its end."""
        try:
            with open(self.folder / name, "rb") as f:
                f.seek(self._offsets[name])
                data = f.read()
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n") + 1
        self._offsets[name] += end
        return data[:end].decode(errors="replace").splitlines()

    def outcome(self) -> Outcome:
        """How the trial ended, from what the supervisor recorded."""
        tail = _tail(self.folder / STDERR_FILE)
        try:
            body = json.loads((self.folder / "exit.json").read_text())
        except (OSError, ValueError):
            # The supervisor itself was killed (kill -9 of the group, a reboot): not a failure.
            return Outcome(TrialStatus.INTERRUPTED, stderr_tail=tail)
        if "error" in body:
            return Outcome(TrialStatus.BROKEN, exit_code=127, stderr_tail=str(body["error"]))
        if "signal" in body:
            return Outcome(TrialStatus.INTERRUPTED, signal=int(body["signal"]), stderr_tail=tail)
        code = int(body["code"])
        if code == 0:
            return Outcome(TrialStatus.COMPLETED, exit_code=0)
        if code == INTERRUPT_CODE:
            return Outcome(TrialStatus.INTERRUPTED, exit_code=code, stderr_tail=tail)
        if code == FROZEN_EXIT:  # checkpointed and stopped when asked (see freezing.py)
            return Outcome(TrialStatus.FROZEN, exit_code=code)
        return Outcome(TrialStatus.FAILED, exit_code=code, stderr_tail=tail)


def start(
    key: tuple[str, str], folder: Path, command: list[str], env: dict[str, str], cwd: str
) -> TrialProcess:
    """Start a trial's supervisor in a new session with its logs in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in ("exit.json", "supervisor.json", STOP_FILE):  # left by an earlier attempt
        with contextlib.suppress(FileNotFoundError):
            (folder / stale).unlink()
    # read from the report files' current ends: what an earlier attempt of this trial wrote
    # here was recorded with that attempt (taken before the process can write)
    offsets = {}
    for name in (METRICS_FILE, STDOUT_FILE):
        with contextlib.suppress(FileNotFoundError):
            offsets[name] = (folder / name).stat().st_size
    # kept for a daemon that comes after us: it reads this attempt's reports from there on
    tmp = folder / (REPORTS_FROM + ".tmp")
    tmp.write_text(json.dumps(offsets))
    tmp.replace(folder / REPORTS_FROM)
    with open(folder / STDOUT_FILE, "ab") as out, open(folder / STDERR_FILE, "ab") as err:
        popen = subprocess.Popen(
            [sys.executable, "-I", "-S", str(SUPERVISOR), str(folder), *command],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
    proc = TrialProcess(key, folder, popen.pid, popen)
    proc.start_reading_at(offsets)
    return proc


def adopt(key: tuple[str, str], folder: Path) -> TrialProcess | None:
    """The trial's supervisor if it still runs (a daemon restart), else None."""
    try:
        recorded = json.loads((folder / "supervisor.json").read_text())
    except (OSError, ValueError):
        return None
    pid = recorded.get("pid")
    if not isinstance(pid, int) or process_identity(pid) != recorded:
        return None
    proc = TrialProcess(key, folder, pid, None)
    proc.start_reading_at(_reports_from(folder))
    return proc


def left_behind(key: tuple[str, str], folder: Path) -> TrialProcess:
    """A trial's attempt whose supervisor is gone and that no daemon saw end: what it reported
    and how it ended (``outcome``: interrupted when the supervisor died too) are still there."""
    proc = TrialProcess(key, folder, -1, None)
    proc.exited = True
    proc.start_reading_at(_reports_from(folder))
    return proc


def _reports_from(folder: Path) -> dict[str, int]:
    """Where the attempt last started in ``folder`` began its reports; the start of the files
    when that is not known (a step read twice keeps one value)."""
    try:
        offsets = json.loads((folder / REPORTS_FROM).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(offsets, dict):
        return {}
    return {
        k: v for k, v in offsets.items() if k in (METRICS_FILE, STDOUT_FILE) and isinstance(v, int)
    }


def _tail(path: Path) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - STDERR_TAIL_BYTES))
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def ask_to_stop(folder: Path) -> None:
    """Tell a running trial that early stopping pauses it: its next report returns False."""
    with contextlib.suppress(FileNotFoundError):
        (folder / STOP_FILE).touch()


def checkpoint_bytes(folder: Path) -> int:
    """The size of the checkpoint a trial left in ``folder``; 0 when it left none."""
    try:
        return (folder / CHECKPOINT_FILE).stat().st_size
    except FileNotFoundError:
        return 0


def drop_checkpoint(folder: Path) -> int:
    """Delete a trial's checkpoint (it will never be resumed); returns 0, its size now."""
    with contextlib.suppress(FileNotFoundError):
        (folder / CHECKPOINT_FILE).unlink()
    return 0
