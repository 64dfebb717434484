"""A small HTTP/1.1 server on asyncio streams: one request per connection, bounded in size and
time, answered by a handler that maps a ``Request`` to a ``Response``.

The daemon's loop serves it, so handlers read the node's view directly; a slow or malicious
client costs one connection until its timeout, never the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import unquote
from urllib.parse import urlsplit

from metaopt._log import logger

MAX_HEAD = 16 * 1024  # request line and headers
MAX_BODY = 1024 * 1024
READ_TIMEOUT = 10.0  # seconds to send a whole request

_log = logger.getChild("http")
_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    413: "Content Too Large",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
}


@dataclasses.dataclass(frozen=True)
class Request:
    method: str
    path: str  # percent-decoded, without the query
    query: dict[str, str]
    headers: dict[str, str]  # names in lower case
    body: bytes = b""
    peer: str = ""
    segments: tuple[str, ...] = ()  # the path's parts, each decoded on its own ("a%2Fb": one)

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError as exc:
            raise HttpError(400, f"the request body is not JSON: {exc}") from None


@dataclasses.dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


class HttpError(Exception):
    """Raised by a handler: answered as ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def json_response(body: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(body, allow_nan=False, separators=(",", ":")).encode())


def error_response(status: int, message: str) -> Response:
    return json_response({"error": message}, status)


Handler = Callable[[Request], Awaitable[Response]]


class HttpServer:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the port (the one chosen when ``port`` is 0)."""
        self._server = await asyncio.start_server(self._serve, host, port, limit=MAX_HEAD)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        head_only = False
        try:
            try:
                request = await asyncio.wait_for(_read(reader, peer), READ_TIMEOUT)
                head_only = request.method == "HEAD"
                response = await self.handler(request)
            except HttpError as exc:
                response = error_response(exc.status, exc.message)
            except TimeoutError:
                response = error_response(408, f"the request took over {READ_TIMEOUT:g} s")
            except Exception:  # a bug in a handler: the client learns no more than that
                _log.exception("dashboard: a request failed")
                response = error_response(500, "the daemon failed to answer; see its log")
            writer.write(_encode(response, head_only))
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away
        except asyncio.CancelledError:
            pass  # the daemon is stopping; the connection closes unanswered
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


async def _read(reader: asyncio.StreamReader, peer: Any) -> Request:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        raise HttpError(431, f"request line and headers over {MAX_HEAD} bytes") from None
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            raise
        raise HttpError(400, "the request ended before its headers did") from None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise HttpError(400, f"not an HTTP/1.x request line: {lines[0][:80]!r}")
    method, target, _ = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip() or name != name.strip():
            raise HttpError(400, f"malformed header line: {line[:80]!r}")
        headers[name.lower()] = value.strip()
    body = b""
    if "transfer-encoding" in headers:
        raise HttpError(400, "chunked request bodies are not accepted: send Content-Length")
    if "content-length" in headers:
        length = headers["content-length"]
        if not length.isdigit():
            raise HttpError(400, f"Content-Length is not a number: {length!r}")
        if int(length) > MAX_BODY:
            raise HttpError(413, f"request bodies are limited to {MAX_BODY} bytes")
        body = await reader.readexactly(int(length))
    url = urlsplit(target)
    if not url.path.startswith("/"):
        raise HttpError(400, f"the request target is not a path: {target[:80]!r}")
    query = dict(parse_qsl(url.query, keep_blank_values=True))
    segments = tuple(unquote(part) for part in url.path.split("/") if part)
    address = str(peer[0]) if peer else ""
    return Request(method, unquote(url.path), query, headers, body, address, segments)


def _encode(response: Response, head_only: bool = False) -> bytes:
    reason = _REASONS.get(response.status, "")
    head = [
        f"HTTP/1.1 {response.status} {reason}",
        f"Content-Type: {response.content_type}",
        f"Content-Length: {len(response.body)}",
        "Connection: close",
        "X-Content-Type-Options: nosniff",
        "Cache-Control: no-store",
        *(f"{name}: {value}" for name, value in response.headers),
    ]
    body = b"" if head_only else response.body  # HEAD: the headers GET would send, no body
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
