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


async def serve(path: Path, handle: Handler) -> asyncio.AbstractServer:
    """Listen on ``path`` (mode 0600, created under a 0077 umask so it is never open to others)."""
    _remove_stale(path)
    old = os.umask(0o077)
    try:
        server = await asyncio.start_unix_server(
            lambda r, w: _session(r, w, handle), path=str(path), limit=_control.MAX_LINE
        )
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    return server


def _remove_stale(path: Path) -> None:
    """A socket left by a daemon that was killed; the data dir lock proves it is gone."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


async def _session(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, handle: Handler
) -> None:
    try:
        while line := await reader.readline():
            writer.write(_control.encode(await _answer(line, handle)))
            await writer.drain()
    except (ConnectionError, asyncio.LimitOverrunError, ValueError) as exc:
        _log.debug("control connection dropped: %s", exc)
    finally:
        writer.close()
        # A session still open when the daemon exits is cancelled here: that is its normal end.
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            await writer.wait_closed()


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
