"""Runs one trial's command and records how it ended, even when metaoptd is gone by then.

    python -I -S supervise.py TRIAL_DIR COMMAND [ARGS...]

metaoptd starts this file by path in a new session, with stdout and stderr already pointing
at the trial's log files. It writes ``supervisor.json`` (its pid, start time and boot id, so a
restarted daemon can tell it from a reused pid), runs the command as its child and, when the
child ends, writes ``exit.json``: ``{"code": N}``, ``{"signal": N}`` or ``{"error": "..."}``.
Signals to the session reach the child directly; the supervisor ignores SIGINT and SIGTERM so
that it stays to record the outcome. It imports only the standard library and runs with -S:
its start-up is part of every trial's overhead.
"""

from __future__ import annotations

import os
import signal
import sys


def _json(value: object) -> str:
    """JSON for the flat dicts written here; the json module would cost every trial ~7 ms."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_json(str(k))}: {_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, int):
        return str(value)
    text = "".join(c if c >= " " and c not in '"\\' else f"\\u{ord(c):04x}" for c in str(value))
    return f'"{text}"'


def _write_json(path: str, body: dict[str, object]) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(_json(body))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def process_identity(pid: int) -> dict[str, object] | None:
    """(boot id, start time) of a live process, which no later process can share."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot_id = f.read().strip()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":  # a zombie has finished
        return None
    return {"pid": pid, "start": int(fields[19]), "boot_id": boot_id}


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: supervise.py TRIAL_DIR COMMAND [ARGS...]", file=sys.stderr)
        return 2
    folder, command = argv[0], argv[1:]
    exit_path = os.path.join(folder, "exit.json")
    if os.path.exists(exit_path):  # left by an earlier attempt of this trial
        os.unlink(exit_path)
    _write_json(os.path.join(folder, "supervisor.json"), process_identity(os.getpid()) or {})
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        pid = os.fork()
    except OSError as exc:
        _write_json(exit_path, {"error": f"cannot fork: {exc}"})
        return 127
    if pid == 0:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        try:
            os.execvp(command[0], command)
        except OSError as exc:
            _write_json(exit_path, {"error": f"{command[0]}: {exc.strerror}"})
            os._exit(127)
    _, status = os.waitpid(pid, 0)
    if os.path.exists(exit_path):  # written by the child: the exec failed
        return 127
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        _write_json(exit_path, {"signal": sig})
        return 128 + sig
    code = os.waitstatus_to_exitcode(status)
    _write_json(exit_path, {"code": code})
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
