"""Checkpoint files between nodes, over TCP, sealed with the cluster key.

Each connection carries one request and its answer as frames: a 4-byte length, then a packet of
the gossip core's ``Sealer`` (AES-256-GCM under a key derived from the cluster key, the sender's
node id and generation, and a label per direction). The ``Opener`` refuses forged, altered and
replayed frames; every answer frame carries the request's random nonce, so an answer cannot be
moved onto another request, and the last frame carries the file's SHA-256, checked before the
file is renamed into place. A half-received file never replaces a whole one.

Requests (JSON): ``get`` a trial's checkpoint from the node that holds it (a thaw or an adoption
elsewhere), ``put`` one onto a peer (the background copy of a running or frozen trial's latest
checkpoint). This node asks one request at a time, so its counters reach each peer in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import logging
import os
import secrets
from collections.abc import Awaitable
from collections.abc import Callable
from pathlib import Path
from typing import Any
from typing import BinaryIO
from typing import Protocol

from metaopt._core import Keyring
from metaopt._core import Opener
from metaopt._core import Sealer

_log = logging.getLogger("metaoptd")
ASK_LABEL = "metaopt-checkpoint-ask"
ANSWER_LABEL = "metaopt-checkpoint-answer"
CHUNK = 1 << 20
_STREAM = 1  # the core's stream channel
_FRAME_LIMIT = CHUNK + 4096  # a chunk, its nonce and index, the packet's header and tag
_NONCE = 16
_END = 0xFFFFFFFF  # the chunk index that ends a file
TIMEOUT_S = 30.0  # between two frames: a peer that stalls longer is given up
_REFUSED = {
    "auth_failed": "not sealed with this cluster's key, or altered",
    "unknown_key": "sealed with a key this node does not have",
    "replayed": "a replayed frame",
    "old_generation": "a frame from an earlier life of its node",
}


class TransferError(Exception):
    """A transfer that did not complete; the message says why and with whom."""


class Refused(TransferError):
    """The peer answered, and said no: it holds no such checkpoint, or has no room."""


class Files(Protocol):
    """What a node's checkpoint store answers to its peers (``checkpoints.Checkpoints``)."""

    def source(self, experiment: str, trial: str) -> Path | None:
        """The checkpoint of this trial that this node can give; None when it has none."""

    def target(self, experiment: str, trial: str, size: int) -> Path:
        """Where a copy pushed by a peer goes; TransferError when it is not wanted here."""

    def accepted(self, experiment: str, trial: str, sender: str, meta: dict[str, Any]) -> None:
        """A pushed copy is in place at ``target``."""


class Channel:
    """This node's sealing and opening of frames: one role asks, the other answers."""

    def __init__(self, keyring: Keyring, node: str, generation: int, send: str, receive: str):
        self.sealer = Sealer(keyring, send, node, generation)
        self.opener = Opener(keyring, receive)

    async def send(self, writer: asyncio.StreamWriter, plaintext: bytes) -> None:
        packet = self.sealer.seal(plaintext, _STREAM)
        writer.write(len(packet).to_bytes(4, "big") + packet)
        await writer.drain()

    async def send_json(self, writer: asyncio.StreamWriter, body: dict[str, Any]) -> None:
        await self.send(writer, json.dumps(body, separators=(",", ":")).encode())

    async def receive(self, reader: asyncio.StreamReader) -> tuple[str, bytes]:
        """(sender, plaintext) of the next frame."""
        try:
            head = await asyncio.wait_for(reader.readexactly(4), TIMEOUT_S)
            size = int.from_bytes(head, "big")
            if size > _FRAME_LIMIT:
                raise TransferError(f"a frame of {size} bytes (at most {_FRAME_LIMIT})")
            packet = await asyncio.wait_for(reader.readexactly(size), TIMEOUT_S)
        except asyncio.IncompleteReadError:
            raise TransferError("the connection closed mid-transfer") from None
        except TimeoutError:
            raise TransferError(f"nothing received for {TIMEOUT_S:g} s") from None
        status, opened = self.opener.open(packet)
        if opened is None:
            raise TransferError(f"refused a frame: {_REFUSED.get(status, status)}")
        return opened.sender, opened.plaintext

    async def receive_json(self, reader: asyncio.StreamReader) -> tuple[str, dict[str, Any]]:
        sender, plaintext = await self.receive(reader)
        try:
            body = json.loads(plaintext)
        except ValueError:
            raise TransferError("a frame that is not JSON where JSON was due") from None
        if not isinstance(body, dict):
            raise TransferError("a frame that is not a JSON object")
        return sender, body


async def _send_file(
    channel: Channel, writer: asyncio.StreamWriter, path: Path, nonce: bytes
) -> None:
    """The file as chunks, each with the nonce and its index, then its size and SHA-256.

    Disk reads run off the event loop: a checkpoint may be gigabytes on a slow disk."""
    loop = asyncio.get_running_loop()
    digest = hashlib.sha256()
    size = 0
    # an open file stays whole even if the trial replaces it meanwhile
    f = await loop.run_in_executor(None, open, path, "rb")
    try:
        index = 0
        while chunk := await loop.run_in_executor(None, f.read, CHUNK):
            digest.update(chunk)
            size += len(chunk)
            await channel.send(writer, nonce + index.to_bytes(4, "big") + chunk)
            index += 1
    finally:
        f.close()
    await channel.send(writer, nonce + _END.to_bytes(4, "big"))
    end = {"nonce": nonce.hex(), "size": size, "sha256": digest.hexdigest()}
    await channel.send_json(writer, end)


async def _receive_file(
    channel: Channel,
    reader: asyncio.StreamReader,
    dest: Path,
    nonce: bytes,
    expect_from: str | None,
    limit: int,
) -> int:
    """Chunks into ``dest`` (renamed into place once whole and checked); returns its size."""
    loop = asyncio.get_running_loop()
    part = dest.with_name(dest.name + ".part")
    mkdir = functools.partial(dest.parent.mkdir, parents=True, exist_ok=True)
    await loop.run_in_executor(None, mkdir)
    digest = hashlib.sha256()
    size = 0
    f = await loop.run_in_executor(None, open, part, "wb")
    try:
        index = 0
        while True:
            sender, frame = await channel.receive(reader)
            _check_sender(sender, expect_from)
            if frame[:_NONCE] != nonce:
                raise TransferError("a frame of another transfer")
            number = int.from_bytes(frame[_NONCE : _NONCE + 4], "big")
            if number == _END:
                break
            if number != index:
                raise TransferError(f"chunk {number} where chunk {index} was due")
            chunk = frame[_NONCE + 4 :]
            size += len(chunk)
            if size > limit:
                raise TransferError(f"more than the {limit} bytes announced")
            digest.update(chunk)
            await loop.run_in_executor(None, f.write, chunk)
            index += 1
        sender, end = await channel.receive_json(reader)
        _check_sender(sender, expect_from)
        if end.get("nonce") != nonce.hex():
            raise TransferError("an end frame of another transfer")
        if end.get("size") != size or end.get("sha256") != digest.hexdigest():
            raise TransferError("the file received does not match its SHA-256 and size")
        await loop.run_in_executor(None, _flush_and_sync, f)
        f.close()
        os.replace(part, dest)
    finally:
        f.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(part)
    return size


def _flush_and_sync(f: BinaryIO) -> None:
    f.flush()
    os.fsync(f.fileno())


def _check_sender(sender: str, expected: str | None) -> None:
    if expected is not None and sender != expected:
        raise TransferError(f"a frame from {sender}, not from {expected}")


def _split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


class CheckpointServer:
    """Answers peers' ``get`` and ``put`` requests from and into this node's ``Files``."""

    def __init__(self, keyring: Keyring, node: str, generation: int, files: Files) -> None:
        self.channel = Channel(keyring, node, generation, ANSWER_LABEL, ASK_LABEL)
        self.files = files
        self._server: asyncio.Server | None = None
        self._told: set[tuple[str, str]] = set()

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host:port`` (0: any free port); returns the port."""
        self._server = await asyncio.start_server(self._serve, host or None, port)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = str(writer.get_extra_info("peername", ("?",))[0])
        try:
            sender, ask = await self.channel.receive_json(reader)
            nonce = bytes.fromhex(str(ask.get("nonce", "")))
            if len(nonce) != _NONCE:
                raise TransferError("a request without its nonce")
            experiment, trial = str(ask.get("experiment", "")), str(ask.get("trial", ""))
            if ask.get("op") == "get":
                path = self.files.source(experiment, trial)
                if path is None:
                    await self.channel.send_json(
                        writer, {"nonce": nonce.hex(), "error": "no checkpoint of it here"}
                    )
                    return
                await self.channel.send_json(writer, {"nonce": nonce.hex(), "ok": True})
                await _send_file(self.channel, writer, path, nonce)
                _log.info("checkpoints: sent %s/%s to %s", experiment, trial, sender)
            elif ask.get("op") == "put":
                size = int(ask.get("size", -1))
                try:
                    dest = self.files.target(experiment, trial, size)
                except TransferError as exc:
                    await self.channel.send_json(writer, {"nonce": nonce.hex(), "error": str(exc)})
                    return
                await self.channel.send_json(writer, {"nonce": nonce.hex(), "ok": True})
                await _receive_file(self.channel, reader, dest, nonce, sender, size)
                self.files.accepted(experiment, trial, sender, ask)
                await self.channel.send_json(writer, {"nonce": nonce.hex(), "ok": True})
            else:
                raise TransferError(f"an unknown request {ask.get('op')!r}")
        except (TransferError, OSError, ValueError) as exc:
            why = str(exc) or type(exc).__name__
            if (peer, why) not in self._told:  # once per peer and reason: a flood logs little
                self._told.add((peer, why))
                _log.warning("checkpoints: a request from %s failed: %s", peer, why)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


class Transfers:
    """This node's requests to its peers, one at a time."""

    def __init__(self, keyring: Keyring, node: str, generation: int) -> None:
        self.channel = Channel(keyring, node, generation, ASK_LABEL, ANSWER_LABEL)
        self._lock = asyncio.Lock()

    async def fetch(self, peer: str, address: str, experiment: str, trial: str, dest: Path) -> int:
        """The checkpoint that ``peer`` at ``address`` holds, into ``dest``; its size."""

        async def get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> int:
            nonce = secrets.token_bytes(_NONCE)
            ask = {"op": "get", "experiment": experiment, "trial": trial, "nonce": nonce.hex()}
            await self.channel.send_json(writer, ask)
            await self._answer(reader, nonce, peer)
            return await _receive_file(self.channel, reader, dest, nonce, peer, 1 << 62)

        return await self._talk(peer, address, get)

    async def push(
        self,
        peer: str,
        address: str,
        experiment: str,
        trial: str,
        path: Path,
        meta: dict[str, Any],
    ) -> int:
        """Copy ``path`` onto ``peer`` as its copy of the trial's checkpoint; its size."""

        async def put(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> int:
            nonce = secrets.token_bytes(_NONCE)
            size = os.stat(path).st_size
            ask = {
                **meta,
                "op": "put",
                "experiment": experiment,
                "trial": trial,
                "size": size,
                "nonce": nonce.hex(),
            }
            await self.channel.send_json(writer, ask)
            await self._answer(reader, nonce, peer)
            await _send_file(self.channel, writer, path, nonce)
            await self._answer(reader, nonce, peer)
            return size

        return await self._talk(peer, address, put)

    async def _talk(
        self,
        peer: str,
        address: str,
        exchange: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[int]],
    ) -> int:
        async with self._lock:
            host, port = _split(address)
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(host, port), TIMEOUT_S
                )
            except (OSError, TimeoutError) as exc:
                raise TransferError(f"cannot reach {peer} at {address}: {exc}") from None
            try:
                return await exchange(reader, writer)
            except (OSError, ValueError) as exc:
                raise TransferError(f"{peer} at {address}: {exc}") from None
            except TransferError as exc:
                raise type(exc)(f"{peer} at {address}: {exc}") from None
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader, nonce: bytes, peer: str) -> None:
        sender, answer = await self.channel.receive_json(reader)
        _check_sender(sender, peer)
        if answer.get("nonce") != nonce.hex():
            raise TransferError("an answer to another request")
        if "error" in answer:
            raise Refused(str(answer["error"]))
