"""The control protocol between the CLI (or ``metaopt.history``) and metaoptd.

One JSON object per line over the daemon's Unix socket: a request ``{"op": NAME, ...}`` gets
one response, ``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "message"}``.
The socket is created owner-only: whoever can write to it can make the node run commands.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from metaopt.errors import ControlError
from metaopt.errors import DaemonUnavailable

OPS = (
    "ping",
    "submit",
    "status",
    "trials",
    "stop",
    "resume",
    "delete",
    "peers",
    "stats",
    "shutdown",
)
MAX_LINE = 256 * 1024 * 1024  # a history of many thousand trials is one response


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def ok(result: Any) -> dict[str, Any]:
    return {"ok": True, "result": result}


def error(message: str) -> dict[str, Any]:
    return {"ok": False, "error": message}


class Client:
    """A blocking client of one daemon's control socket; one request at a time."""

    def __init__(self, path: Path, timeout: float = 30.0) -> None:
        self.path = path
        self.timeout = timeout

    def call(self, op: str, **args: Any) -> Any:
        """Send one request; returns its result or raises ControlError / DaemonUnavailable."""
        with self._connect() as sock:
            try:
                sock.sendall(encode({"op": op, **args}))
                reply = _read_line(sock)
            except ConnectionError as exc:  # it exited while we asked
                raise DaemonUnavailable(f"metaoptd at {self.path} went away: {exc}") from exc
        if not reply:
            raise DaemonUnavailable(f"metaoptd at {self.path} closed the connection")
        message = json.loads(reply)
        if not message.get("ok"):
            raise ControlError(message.get("error", "unknown error"))
        return message.get("result")

    def is_alive(self) -> bool:
        try:
            self.call("ping")
        except (DaemonUnavailable, ControlError):
            return False
        return True

    def _connect(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(str(self.path))
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            sock.close()
            raise DaemonUnavailable(f"no metaoptd is running on {self.path}") from exc
        except OSError as exc:
            sock.close()
            raise DaemonUnavailable(f"cannot reach metaoptd on {self.path}: {exc}") from exc
        return sock


def _read_line(sock: socket.socket) -> bytes:
    chunks, size = [], 0
    while True:
        try:
            chunk = sock.recv(1 << 20)
        except TimeoutError as exc:
            raise DaemonUnavailable("metaoptd did not answer in time") from exc
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if chunk.endswith(b"\n") or size > MAX_LINE:
            break
    return b"".join(chunks)
