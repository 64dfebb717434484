"""The control socket: JSON lines over a Unix socket that only the owner may use."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Awaitable
from collections.abc import Callable
from pathlib import Path
from typing import Any

from metaopt import _control
from metaopt.errors import MetaoptError

_log = logging.getLogger("metaoptd")

Handler = Callable[[str, dict[str, Any]], Awaitable[Any]]


class ControlServer:
    """The listening socket and its open sessions, so that a shutdown can end both cleanly."""

    def __init__(self, handle: Handler) -> None:
        self._handle = handle
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._sessions: set[asyncio.Task[None]] = set()

    async def start(self, path: Path) -> None:
        """Listen on ``path``: mode 0600, made under a 0077 umask so it is never open to others."""
        _remove_stale(path)
        old = os.umask(0o077)
        try:
            self._server = await asyncio.start_unix_server(
                self._session, path=str(path), limit=_control.MAX_LINE
            )
        finally:
            os.umask(old)
        os.chmod(path, 0o600)

    async def close(self) -> None:
        """Stop listening and end every open session at a line boundary, not by cancelling it.

        A session cancelled while it waits for its next request makes asyncio log a
        CancelledError traceback; closing its transport instead ends it as a client hang-up would.
        """
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        if self._sessions:
            await asyncio.wait(list(self._sessions), timeout=5)
        if self._server is not None:
            await self._server.wait_closed()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._sessions.add(task)
        self._writers.add(writer)
        try:
            while line := await reader.readline():
                writer.write(_control.encode(await _answer(line, self._handle)))
                await writer.drain()
        except (ConnectionError, asyncio.LimitOverrunError, ValueError) as exc:
            _log.debug("control connection dropped: %s", exc)
        finally:
            self._writers.discard(writer)
            self._sessions.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


def _remove_stale(path: Path) -> None:
    """A socket left by a daemon that was killed; the data dir lock proves it is gone."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


async def _answer(line: bytes, handle: Handler) -> dict[str, Any]:
    try:
        request = json.loads(line)
        op = request.pop("op")
    except (ValueError, KeyError, TypeError, AttributeError):
        return _control.error("malformed request: expected a JSON object with an 'op'")
    if op not in _control.OPS:
        return _control.error(f"unknown operation {op!r}")
    try:
        return _control.ok(await handle(op, request))
    except MetaoptError as exc:
        return _control.error(str(exc))
    except (TypeError, ValueError, KeyError) as exc:
        _log.exception("bad %s request", op)
        return _control.error(f"bad {op} request: {exc}")
