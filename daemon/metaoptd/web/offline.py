"""The dashboard with no daemon: the store files read once and shown read-only, for looking
at finished searches on a machine where metaoptd is not running."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from pathlib import Path

from metaopt._history import read_store
from metaopt.errors import MetaoptError
from metaoptd.web.api import Api
from metaoptd.web.http import HttpServer
from metaoptd.web.token import ensure as ensure_token
from metaoptd.web.token import is_loopback


def serve_store(data_dir: Path, host: str, port: int, ready: Callable[[str, str], None]) -> None:
    """Serve until SIGINT or SIGTERM; ``ready(url, token)`` once it listens."""
    view = read_store(data_dir)  # the daemon is not running: nothing changes these files
    token = ensure_token(data_dir)
    source = f"{data_dir} (read-only: no metaoptd runs)"
    api = Api(lambda: view, None, token, is_loopback(host), source=source)

    async def run() -> None:
        server = HttpServer(api.handle)
        try:
            bound = await server.start(host, port)
        except OSError as exc:
            raise MetaoptError(f"cannot serve the dashboard on {host}:{port} ({exc})") from None
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        shown = f"[{host}]" if ":" in host else host
        ready(f"http://{shown}:{bound}/", token)
        try:
            await stop.wait()
        finally:
            await server.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
