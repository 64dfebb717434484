"""Checkpoints between two nodes over real loopback sockets: whole, sealed, refused when forged."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import struct

import pytest

from metaopt._core import Keyring
from metaopt._core import Sealer
from metaopt._replica import LocalReplica
from metaopt.records import Experiment
from metaopt.records import Trial
from metaopt.records import experiment_key
from metaopt.records import trial_key
from metaopt.storage import open_storage
from metaoptd.checkpoints import Checkpoints
from metaoptd.transfer import ASK_LABEL
from metaoptd.transfer import CHUNK
from metaoptd.transfer import CheckpointServer
from metaoptd.transfer import TransferError
from metaoptd.transfer import Transfers

KEY = bytes(range(32))


class Node:
    """One node's history (real LevelDB), checkpoint store, server and client."""

    def __init__(self, root, key: bytes = KEY, limit: float = 1e9) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.replica = LocalReplica(open_storage(root))
        self.keyring = Keyring()
        self.keyring.add(1, key)
        self.id = self.replica.id
        self.files = Checkpoints(root, self.id, self.replica.view, limit)
        self.server = CheckpointServer(self.keyring, self.id, self.replica.generation, self.files)
        self.client = Transfers(self.keyring, self.id, self.replica.generation)
        self.address = ""

    async def start(self) -> None:
        port = await self.server.start("127.0.0.1", 0)
        self.address = f"127.0.0.1:{port}"

    def knows(self, trial: Trial) -> None:
        exp = Experiment(trial.experiment, ("python", "train.py"), "/", {}, created=1.0)
        self.replica.write(experiment_key(exp.name), exp.to_json())
        self.replica.write(trial_key(trial.experiment, trial.id), trial.to_record())


def trial_of(node: Node) -> Trial:
    return Trial("0123456789abcdef", "exp", {"x": 1}, node=node.id, attempt=1)


def pair(tmp_path, **b_options):
    a, b = Node(tmp_path / "a"), Node(tmp_path / "b", **b_options)
    trial = trial_of(a)
    a.knows(trial)
    b.knows(trial)
    return a, b, trial


def test_a_checkpoint_is_fetched_whole_from_its_holder(tmp_path):
    a, b, trial = pair(tmp_path)
    data = secrets.token_bytes(2 * CHUNK + 12345)  # three chunks, the last one short
    path = a.files.own_file(trial)
    path.parent.mkdir(parents=True)
    path.write_bytes(data)

    async def main():
        await a.start()
        dest = tmp_path / "fetched"
        size = await b.client.fetch(a.id, a.address, "exp", trial.id, dest)
        await a.server.close()
        return size, dest.read_bytes()

    size, got = asyncio.run(main())
    assert size == len(data)
    assert got == data


def test_a_pushed_copy_is_kept_by_the_peer_and_served_from_there(tmp_path):
    a, b, trial = pair(tmp_path)
    source = tmp_path / "checkpoint.pkl"
    source.write_bytes(b"state at step 3")

    async def main():
        await b.start()
        await a.client.push(b.id, b.address, "exp", trial.id, source, {"attempt": 1, "step": 3})
        # a third party (here a itself) can now fetch b's copy
        dest = tmp_path / "again"
        await a.client.fetch(b.id, b.address, "exp", trial.id, dest)
        await b.server.close()
        return dest.read_bytes()

    assert asyncio.run(main()) == b"state at step 3"
    held = b.files.copy_file("exp", trial.id)
    assert held.read_bytes() == b"state at step 3"
    meta = json.loads(held.with_name("copy.json").read_text())
    assert meta == {"from": a.id, "attempt": 1, "step": 3}


def test_a_node_with_another_key_gets_nothing_and_leaves_nothing(tmp_path, caplog):
    a, _, trial = pair(tmp_path)
    stranger = Node(tmp_path / "c", key=bytes(32))
    stranger.knows(trial)
    a.files.own_file(trial).parent.mkdir(parents=True)
    a.files.own_file(trial).write_bytes(b"secret")
    source = tmp_path / "forged.pkl"
    source.write_bytes(b"forged")

    async def main():
        await a.start()
        dest = tmp_path / "stolen"
        with pytest.raises(TransferError, match="closed"):
            await stranger.client.fetch(a.id, a.address, "exp", trial.id, dest)
        with pytest.raises(TransferError):
            await stranger.client.push(a.id, a.address, "exp", trial.id, source, {})
        await a.server.close()
        return dest

    assert not asyncio.run(main()).exists()
    assert not a.files.copy_file("exp", trial.id).exists()
    assert "not sealed with this cluster's key" in caplog.text


def test_a_replayed_request_is_refused(tmp_path, caplog):
    a, b, trial = pair(tmp_path)
    a.files.own_file(trial).parent.mkdir(parents=True)
    a.files.own_file(trial).write_bytes(b"state")
    sealer = Sealer(b.keyring, ASK_LABEL, b.id, b.replica.generation)
    ask = {"op": "get", "experiment": "exp", "trial": trial.id, "nonce": "ab" * 16}
    packet = sealer.seal(json.dumps(ask).encode(), 1)
    frame = struct.pack(">I", len(packet)) + packet

    async def send(raw: bytes) -> bytes:
        host, port = a.address.split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(raw)
        await writer.drain()
        answer = await reader.read()
        writer.close()
        return answer

    async def main():
        await a.start()
        first = await send(frame)
        again = await send(frame)
        garbage = await send(struct.pack(">I", 40) + os.urandom(40))
        huge = await send(struct.pack(">I", 1 << 30))
        await a.server.close()
        return first, again, garbage, huge

    first, again, garbage, huge = asyncio.run(main())
    assert len(first) > 0  # answered: the header, the file and its end
    assert again == garbage == huge == b""  # closed without a word
    assert "a replayed frame" in caplog.text
    assert "a frame of 1073741824 bytes" in caplog.text


def test_names_that_are_not_a_known_trial_are_refused(tmp_path):
    a, b, _ = pair(tmp_path)
    (tmp_path / "a" / "secret").write_text("not a checkpoint")
    source = tmp_path / "x.pkl"
    source.write_bytes(b"x")

    async def main():
        await a.start()
        unknown = [("..", ".."), ("exp", "../../secret"), ("exp", "feedfeedfeedfeed")]
        for experiment, tid in unknown:
            with pytest.raises(TransferError, match="no checkpoint of it here"):
                await b.client.fetch(a.id, a.address, experiment, tid, tmp_path / "out")
            with pytest.raises(TransferError, match="no trial"):
                await b.client.push(a.id, a.address, experiment, tid, source, {})
        await a.server.close()

    asyncio.run(main())
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "a" / "checkpoint-copies").exists()


def test_a_copy_beyond_the_peers_limit_is_refused(tmp_path):
    a, b, trial = pair(tmp_path, limit=1000)
    source = tmp_path / "big.pkl"
    source.write_bytes(b"x" * 1001)

    async def main():
        await b.start()
        with pytest.raises(TransferError, match="no room"):
            await a.client.push(b.id, b.address, "exp", trial.id, source, {})
        await b.server.close()

    asyncio.run(main())
    assert not b.files.copy_file("exp", trial.id).exists()


def test_a_newer_copy_of_a_trial_takes_the_room_of_the_older(tmp_path):
    a, b, trial = pair(tmp_path, limit=1000)
    source = tmp_path / "checkpoint.pkl"

    async def main():
        await b.start()
        for data in (b"x" * 900, b"y" * 950):  # each fits alone, not both
            source.write_bytes(data)
            await a.client.push(b.id, b.address, "exp", trial.id, source, {})
        await b.server.close()

    asyncio.run(main())
    assert b.files.copy_file("exp", trial.id).read_bytes() == b"y" * 950


def test_a_transfer_cut_midway_leaves_no_file(tmp_path):
    a, b, trial = pair(tmp_path)
    a.files.own_file(trial).parent.mkdir(parents=True)
    a.files.own_file(trial).write_bytes(secrets.token_bytes(3 * CHUNK))

    async def cut(reader, writer):  # a proxy that passes the first 1.5 chunks, then hangs up
        host, port = a.address.split(":")
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        up_writer.write(await reader.read(65536))
        passed = b""
        while len(passed) < CHUNK * 3 // 2:
            passed += await up_reader.read(65536)
        writer.write(passed[: CHUNK * 3 // 2])
        await writer.drain()
        writer.close()
        up_writer.close()

    async def main():
        await a.start()
        proxy = await asyncio.start_server(cut, "127.0.0.1", 0)
        port = proxy.sockets[0].getsockname()[1]
        dest = tmp_path / "fetched"
        with pytest.raises(TransferError, match="closed mid-transfer"):
            await b.client.fetch(a.id, f"127.0.0.1:{port}", "exp", trial.id, dest)
        proxy.close()
        await a.server.close()
        return dest

    dest = asyncio.run(main())
    assert not dest.exists()
    assert not dest.with_name("fetched.part").exists()
