"""Packet protection: sealing, opening, refusal of every altered or replayed packet, key rotation.

Where the ``cryptography`` package is installed, packets are also built by a small reference
sealer written from the format table in src/engine/crypto.hpp, so the C++ code is checked against
an independent reading of the format, and authenticated packets with odd headers can be made.
"""

from __future__ import annotations

import gc
import random

import pytest

from metaopt import _core
from metaopt._core import Keyring
from metaopt._core import Opener
from metaopt._core import Sealer

KEY_A = bytes(range(32))
KEY_B = bytes(range(100, 132))
LABEL = "lab-cluster"
SENDER = "node-1"
STATUSES = [
    "ok",
    "truncated",
    "bad_magic",
    "bad_format",
    "unknown_key",
    "bad_header",
    "replayed",
    "old_generation",
    "auth_failed",
]
TAG = 16


def keyring(*keys: tuple[int, bytes]) -> Keyring:
    ring = Keyring()
    for key_id, key in keys or ((1, KEY_A),):
        ring.add(key_id, key)
    return ring


def header_size(sender: str = SENDER) -> int:
    return 22 + len(sender.encode())


def status(opener: Opener, packet: bytes) -> str:
    return opener.open(packet)[0]


def reference_packet(
    key: bytes,
    label: bytes,
    sender: bytes,
    generation: int,
    counter: int,
    plaintext: bytes,
    *,
    key_id: int = 1,
    channel: int = 0,
) -> bytes:
    """Seals as crypto.hpp's format table says, with the cryptography package."""
    aead = pytest.importorskip("cryptography.hazmat.primitives.ciphers.aead")
    hashes = pytest.importorskip("cryptography.hazmat.primitives.hashes")
    hkdf = pytest.importorskip("cryptography.hazmat.primitives.kdf.hkdf")
    gen = generation.to_bytes(8, "big")
    header = b"MO\x01" + bytes([key_id, channel, len(sender)]) + sender + gen
    header += counter.to_bytes(8, "big")
    info = b"metaopt v1" + sender + gen
    sender_key = hkdf.HKDF(hashes.SHA256(), 32, label or None, info).derive(key)
    nonce = gen[4:] + counter.to_bytes(8, "big")
    sealed: bytes = aead.AESGCM(sender_key).encrypt(nonce, plaintext, header + label)
    return header + sealed


# --- round trips and the byte format ----------------------------------------------------------


@pytest.mark.parametrize("channel", [0, 1], ids=["datagram", "stream"])
def test_crypto_round_trip(channel: int) -> None:
    ring = keyring()
    sealer = Sealer(ring, LABEL, SENDER, 42)
    packet = sealer.seal(b"ping \x00 payload", channel)
    result, opened = Opener(ring, LABEL).open(packet)
    assert result == "ok"
    assert opened is not None
    assert opened.sender == SENDER
    assert (opened.generation, opened.counter) == (42, 1)
    assert (opened.channel, opened.key_id) == (channel, 1)
    assert opened.plaintext == b"ping \x00 payload"
    assert len(packet) == header_size() + len(b"ping \x00 payload") + TAG


@pytest.mark.parametrize(
    "plaintext", [b"", b"x", bytes(range(256)) * 40], ids=["empty", "one", "10k"]
)
def test_crypto_round_trip_sizes(plaintext: bytes) -> None:
    ring = keyring()
    packet = Sealer(ring, LABEL, "ñødé-🔑", 1).seal(plaintext, 1)
    result, opened = Opener(ring, LABEL).open(packet)
    assert result == "ok"
    assert opened is not None
    assert (opened.plaintext, opened.sender) == (plaintext, "ñødé-🔑")


def test_crypto_header_layout() -> None:
    packet = Sealer(keyring((7, KEY_A)), LABEL, SENDER, 0x0102030405060708).seal(b"abc", 1)
    assert packet[:2] == b"MO"
    assert packet[2:6] == bytes([1, 7, 1, len(SENDER)])
    assert packet[6:12] == SENDER.encode()
    assert packet[12:20] == bytes.fromhex("0102030405060708")
    assert packet[20:28] == (1).to_bytes(8, "big")
    assert b"abc" not in packet[28:]


@pytest.mark.parametrize(
    ("label", "sender", "generation", "channel", "plaintext"),
    [
        (LABEL, SENDER, 42, 0, b"hello"),
        ("", "n", 0, 1, b""),
        ("κλάστερ", "x" * 64, 2**64 - 1, 1, bytes(range(256))),
    ],
    ids=["plain", "empty-label", "long-sender"],
)
def test_crypto_matches_reference(
    label: str, sender: str, generation: int, channel: int, plaintext: bytes
) -> None:
    sealer = Sealer(keyring((3, KEY_B)), label, sender, generation)
    for counter in (1, 2, 3):
        expected = reference_packet(
            KEY_B,
            label.encode(),
            sender.encode(),
            generation,
            counter,
            plaintext,
            key_id=3,
            channel=channel,
        )
        assert sealer.seal(plaintext, channel) == expected


def test_crypto_golden_bytes() -> None:
    # Peers of different builds must agree on these bytes; checked against reference_packet.
    packet = Sealer(keyring(), "c", "n", 5).seal(b"hi")
    assert packet.hex() == (
        "4d4f010100016e00000000000000050000000000000001"  # header
        "9011"  # ciphertext of b"hi"
        "f0fd782bd006ae100d88c522a56c1402"  # tag
    )


def test_crypto_reference_packets_open() -> None:
    packet = reference_packet(KEY_A, LABEL.encode(), b"peer", 9, 5, b"from elsewhere", channel=1)
    result, opened = Opener(keyring(), LABEL).open(packet)
    assert result == "ok"
    assert opened is not None
    assert (opened.sender, opened.generation, opened.counter) == ("peer", 9, 5)
    assert opened.plaintext == b"from elsewhere"


def test_opened_packet_repr() -> None:
    ring = keyring()
    _, opened = Opener(ring, LABEL).open(Sealer(ring, LABEL, SENDER, 3).seal(b"v"))
    assert repr(opened) == (
        "OpenedPacket(sender='node-1', generation=3, counter=1, channel=0, key_id=1, "
        "plaintext=b'v')"
    )


# --- keys and labels --------------------------------------------------------------------------


def test_crypto_wrong_key_is_auth_failed() -> None:
    packet = Sealer(keyring((1, KEY_A)), LABEL, SENDER, 1).seal(b"secret")
    opener = Opener(keyring((1, KEY_B)), LABEL)
    assert opener.open(packet) == ("auth_failed", None)
    assert opener.counters()["auth_failed"] == 1


def test_crypto_uninstalled_key_id_is_unknown_key() -> None:
    packet = Sealer(keyring((2, KEY_A)), LABEL, SENDER, 1).seal(b"secret")
    opener = Opener(keyring((1, KEY_A)), LABEL)
    assert status(opener, packet) == "unknown_key"
    assert opener.counters()["unknown_key"] == 1


def test_crypto_label_mismatch_is_auth_failed() -> None:
    ring = keyring()
    packet = Sealer(ring, "cluster-a", SENDER, 1).seal(b"secret")
    assert status(Opener(ring, "cluster-b"), packet) == "auth_failed"
    assert status(Opener(ring, ""), packet) == "auth_failed"
    assert status(Opener(ring, "cluster-a"), packet) == "ok"


def test_crypto_key_rotation_install_use_remove() -> None:
    # Two nodes, each with its own keyring, rotating from key 1 to key 2.
    sender_ring, receiver_ring = keyring((1, KEY_A)), keyring((1, KEY_A))
    sealer = Sealer(sender_ring, LABEL, SENDER, 1)
    opener = Opener(receiver_ring, LABEL)
    under_old = [sealer.seal(b"old %d" % i) for i in range(3)]
    assert status(opener, under_old[0]) == "ok"

    for ring in (sender_ring, receiver_ring):  # install
        ring.add(2, KEY_B)
        assert ring.ids() == [1, 2]
        assert ring.primary() == 1
    assert sealer.seal(b"still old")[3] == 1
    sender_ring.use(2)  # use, on the sender first
    under_new = sealer.seal(b"new")
    assert under_new[3] == 2
    assert status(opener, under_new) == "ok"  # the receiver has not switched yet
    assert status(opener, under_old[1]) == "ok"  # both keys open while both are installed

    receiver_ring.use(2)
    assert sender_ring.remove(1) is True
    assert receiver_ring.remove(1) is True  # remove
    assert status(opener, under_old[2]) == "unknown_key"
    assert status(opener, sealer.seal(b"newer")) == "ok"
    assert receiver_ring.ids() == [2]


def test_crypto_removed_then_readded_key_uses_new_bytes() -> None:
    receiver = keyring((1, KEY_A), (2, KEY_B))
    opener = Opener(receiver, LABEL)
    sealer = Sealer(keyring((2, KEY_B)), LABEL, SENDER, 1)
    first, second = sealer.seal(b"a"), sealer.seal(b"b")
    assert status(opener, first) == "ok"  # the key derived for (2, SENDER, 1) is now cached
    receiver.remove(2)
    receiver.add(2, KEY_A)  # same id, other bytes: the cached derived key must not survive
    assert status(opener, second) == "auth_failed"
    assert status(opener, Sealer(keyring((2, KEY_A)), LABEL, SENDER, 1).seal(b"c")) == "replayed"
    renewed = Sealer(keyring((2, KEY_A)), LABEL, SENDER, 1)
    renewed.seal(b"")
    renewed.seal(b"")
    assert status(opener, renewed.seal(b"d")) == "ok"


def test_keyring_rules() -> None:
    ring = Keyring()
    assert ring.primary() is None
    assert ring.ids() == []
    assert not ring.has(1)
    ring.add(9, KEY_A)
    ring.add(4, KEY_B)
    assert ring.primary() == 9  # the first key installed
    assert ring.ids() == [4, 9]
    assert ring.has(4)
    ring.add(4, KEY_B)  # the same bytes again: a retried install
    with pytest.raises(ValueError, match="remove it first"):
        ring.add(4, KEY_A)
    with pytest.raises(ValueError, match="32 bytes"):
        ring.add(5, b"short")
    with pytest.raises(ValueError, match="32 bytes"):
        ring.add(5, KEY_A + b"!")
    with pytest.raises(ValueError, match="not installed"):
        ring.use(5)
    with pytest.raises(ValueError, match="primary"):
        ring.remove(9)
    assert ring.remove(5) is False
    ring.use(4)
    assert ring.remove(9) is True
    assert (ring.primary(), ring.ids()) == (4, [4])
    with pytest.raises(TypeError):
        ring.add(256, KEY_A)


def test_sealer_needs_a_key() -> None:
    ring = Keyring()
    sealer = Sealer(ring, LABEL, SENDER, 1)
    with pytest.raises(RuntimeError, match="no key"):
        sealer.seal(b"x")
    ring.add(1, KEY_A)  # takes effect at once
    assert status(Opener(ring, LABEL), sealer.seal(b"x")) == "ok"


def test_sealer_and_opener_keep_their_keyring_alive() -> None:
    sealer = Sealer(keyring(), LABEL, SENDER, 1)
    opener = Opener(keyring(), LABEL)
    gc.collect()
    assert status(opener, sealer.seal(b"x")) == "ok"


# --- arguments --------------------------------------------------------------------------------


@pytest.mark.parametrize("sender", ["", "x" * 65, "🔑" * 16 + "x"], ids=["empty", "65", "65-utf8"])
def test_sealer_refuses_bad_sender(sender: str) -> None:
    with pytest.raises(ValueError, match="sender"):
        Sealer(keyring(), LABEL, sender, 1)


def test_sealer_accepts_longest_sender() -> None:
    ring = keyring()
    packet = Sealer(ring, LABEL, "🔑" * 16, 1).seal(b"x")
    assert status(Opener(ring, LABEL), packet) == "ok"


def test_sealer_refuses_bad_channel_and_oversize_plaintext() -> None:
    sealer = Sealer(keyring(), LABEL, SENDER, 1)
    with pytest.raises(ValueError, match="channel"):
        sealer.seal(b"x", 2)
    with pytest.raises(ValueError, match="at most"):
        sealer.seal(bytes(_core.MAX_PACKET_PLAINTEXT_BYTES + 1))
    assert sealer.counter() == 0


@pytest.mark.parametrize("null_crypto", [False, True], ids=["aes", "null"])
def test_crypto_label_length_is_bounded(null_crypto: bool) -> None:
    ring = keyring()
    longest = "l" * _core.MAX_LABEL_BYTES
    packet = Sealer(ring, longest, SENDER, 1, null_crypto=null_crypto).seal(b"x")
    assert status(Opener(ring, longest, null_crypto=null_crypto), packet) == "ok"
    with pytest.raises(ValueError, match="label"):
        Sealer(ring, longest + "l", SENDER, 1, null_crypto=null_crypto)
    with pytest.raises(ValueError, match="label"):
        Opener(ring, longest + "l", null_crypto=null_crypto)


def test_opener_refuses_zero_max_senders() -> None:
    with pytest.raises(ValueError, match="max_senders"):
        Opener(keyring(), LABEL, max_senders=0)


def test_crypto_constants() -> None:
    assert (_core.MAX_SENDER_BYTES, _core.PACKET_TAG_BYTES, _core.MAX_LABEL_BYTES) == (
        64,
        16,
        1024,
    )
    assert _core.MAX_PACKET_PLAINTEXT_BYTES == 32 * 1024 * 1024


# --- hostile packets --------------------------------------------------------------------------


def flip_expectations(packet: bytes, position: int, bit: int) -> set[str]:
    """Statuses a packet with one flipped bit may get, from the field the bit lies in."""
    sender_end = header_size() - 16
    if position < 2:
        return {"bad_magic"}
    if position == 2:
        return {"bad_format"}
    if position == 3:
        return {"unknown_key"}
    if position == 4:
        return {"auth_failed"} if bit == 0 else {"bad_header"}
    if position == 5:
        return {"bad_header", "truncated", "auth_failed"}
    if position < sender_end:
        return {"bad_header", "auth_failed"}  # not UTF-8, or another sender
    if position < sender_end + 8:
        return {"auth_failed"}  # another generation: a new key
    if position < sender_end + 16:
        return {"auth_failed", "bad_header"}  # another counter, or 0
    return {"auth_failed"}  # ciphertext and tag


def test_crypto_every_bit_flip_is_refused_and_counted() -> None:
    ring = keyring()
    packet = Sealer(ring, LABEL, SENDER, 1).seal(b"payload!")
    opener = Opener(ring, LABEL)
    seen: set[str] = set()
    for position in range(len(packet)):
        for bit in range(8):
            altered = bytearray(packet)
            altered[position] ^= 1 << bit
            result, opened = opener.open(bytes(altered))
            assert opened is None
            assert result in flip_expectations(packet, position, bit), (position, bit)
            seen.add(result)
    counters = opener.counters()
    assert counters["ok"] == 0
    assert sum(counters.values()) == 8 * len(packet)
    assert {"bad_magic", "bad_format", "unknown_key", "bad_header", "auth_failed"} <= seen
    # No forgery touched the replay state: the genuine packet still opens, once.
    assert status(opener, packet) == "ok"
    assert status(opener, packet) == "replayed"


def test_crypto_every_truncation_is_refused() -> None:
    ring = keyring()
    packet = Sealer(ring, LABEL, SENDER, 1).seal(b"payload!")
    opener = Opener(ring, LABEL)
    for size in range(len(packet)):
        expected = "truncated" if size < header_size() + TAG else "auth_failed"
        assert opener.open(packet[:size]) == (expected, None), size
    assert status(opener, packet + b"\x00") == "auth_failed"
    assert opener.counters()["ok"] == 0
    assert status(opener, packet) == "ok"


def test_crypto_authenticated_but_odd_headers_are_bad_header() -> None:
    opener = Opener(keyring(), LABEL)
    label = LABEL.encode()
    bad_sender = reference_packet(KEY_A, label, b"\xff\xfe", 1, 1, b"x")
    zero_counter = reference_packet(KEY_A, label, b"n", 1, 0, b"x")
    last_counter = reference_packet(KEY_A, label, b"n", 1, 2**64 - 1, b"x")
    long_sender = reference_packet(KEY_A, label, b"s" * 65, 1, 1, b"x")
    bad_channel = reference_packet(KEY_A, label, b"n", 1, 1, b"x", channel=2)
    for packet in (bad_sender, zero_counter, last_counter, long_sender, bad_channel):
        assert status(opener, packet) == "bad_header"
    assert status(opener, b"MO\x02" + bytes(40)) == "bad_format"
    assert status(opener, b"XO\x01" + bytes(40)) == "bad_magic"
    assert status(opener, b"") == "truncated"


def test_crypto_random_garbage_never_opens() -> None:
    rng = random.Random(1234)
    ring = keyring()
    opener = Opener(ring, LABEL)
    packet = Sealer(ring, LABEL, SENDER, 1).seal(b"payload" * 5)
    for _ in range(3000):
        if rng.random() < 0.5:
            garbage = rng.randbytes(rng.randrange(0, 120))
        else:
            altered = bytearray(packet)
            for _ in range(rng.randrange(1, 6)):
                altered[rng.randrange(len(altered))] = rng.randrange(256)
            garbage = bytes(altered[: rng.randrange(len(altered) + 1)])
        if garbage == packet:
            continue
        assert opener.open(garbage)[1] is None
    assert opener.counters()["ok"] == 0


# --- replay protection ------------------------------------------------------------------------


def test_crypto_replay_is_refused() -> None:
    ring = keyring()
    packet = Sealer(ring, LABEL, SENDER, 1).seal(b"once")
    opener = Opener(ring, LABEL)
    assert status(opener, packet) == "ok"
    assert opener.open(packet) == ("replayed", None)
    assert opener.open(packet) == ("replayed", None)
    assert opener.counters() == dict.fromkeys(STATUSES, 0) | {"ok": 1, "replayed": 2}


def test_crypto_window_accepts_out_of_order_once() -> None:
    ring = keyring()
    sealer = Sealer(ring, LABEL, SENDER, 1)
    packets = [sealer.seal(b"%d" % counter) for counter in range(1, 71)]  # counters 1..70
    opener = Opener(ring, LABEL)
    assert status(opener, packets[69]) == "ok"  # 70 first
    order = list(range(7, 70))  # 7..69 lie inside the window below 70
    random.Random(5).shuffle(order)
    for counter in order:
        result, opened = opener.open(packets[counter - 1])
        assert result == "ok"
        assert opened is not None
        assert opened.counter == counter
        assert opened.plaintext == b"%d" % counter
    for counter in range(7, 71):
        assert status(opener, packets[counter - 1]) == "replayed"
    for counter in range(1, 7):  # more than 63 below the highest: never arrived, still refused
        assert status(opener, packets[counter - 1]) == "replayed", counter


def test_crypto_window_slides_past_gaps() -> None:
    ring = keyring()
    sealer = Sealer(ring, LABEL, SENDER, 1)
    packets = [sealer.seal(b"") for _ in range(300)]
    opener = Opener(ring, LABEL)
    for index in (0, 1, 100, 99, 299, 236, 235):
        expected = "replayed" if index == 235 else "ok"  # 236 is 64 below 300
        assert status(opener, packets[index]) == expected, index


def test_crypto_restarted_sender_is_accepted_and_old_generation_refused() -> None:
    ring = keyring()
    opener = Opener(ring, LABEL)
    first = Sealer(ring, LABEL, SENDER, 5)
    before_restart = [first.seal(b"a"), first.seal(b"b"), first.seal(b"c")]
    assert status(opener, before_restart[0]) == "ok"

    second = Sealer(ring, LABEL, SENDER, 6)  # restart: new generation, counter from 1
    result, opened = opener.open(second.seal(b"again"))
    assert result == "ok"
    assert opened is not None
    assert (opened.generation, opened.counter) == (6, 1)
    assert status(opener, before_restart[1]) == "old_generation"
    assert status(opener, second.seal(b"more")) == "ok"
    assert opener.counters()["old_generation"] == 1


def test_crypto_forged_newer_generation_does_not_reset_window() -> None:
    ring = keyring()
    opener = Opener(ring, LABEL)
    sealer = Sealer(ring, LABEL, SENDER, 5)
    packets = [sealer.seal(b"x"), sealer.seal(b"y")]
    assert status(opener, packets[0]) == "ok"
    forged = bytearray(Sealer(ring, LABEL, SENDER, 6).seal(b"z"))
    forged[-1] ^= 1
    assert status(opener, bytes(forged)) == "auth_failed"
    assert status(opener, packets[1]) == "ok"  # still generation 5
    assert status(opener, packets[0]) == "replayed"


def test_crypto_senders_have_separate_windows() -> None:
    ring = keyring()
    opener = Opener(ring, LABEL)
    for sender in ("a", "b", "c"):
        assert status(opener, Sealer(ring, LABEL, sender, 1).seal(b"x")) == "ok"
    assert opener.tracked_senders() == 3


def test_crypto_counters_never_repeat() -> None:
    ring = keyring()
    sealer = Sealer(ring, LABEL, SENDER, 77)
    assert sealer.counter() == 0
    packets = [sealer.seal(b"same plaintext") for _ in range(2000)]
    assert sealer.counter() == 2000
    start = header_size() - 12
    nonces = [packet[start : start + 12] for packet in packets]
    assert len(set(nonces)) == len(packets)
    assert [int.from_bytes(nonce[4:], "big") for nonce in nonces] == list(range(1, 2001))
    assert {nonce[:4] for nonce in nonces} == {(77).to_bytes(4, "big")}
    assert len({packet[header_size() :] for packet in packets}) == len(packets)
    opener = Opener(ring, LABEL)
    assert all(status(opener, packet) == "ok" for packet in packets)


def test_opener_memory_is_bounded_by_max_senders() -> None:
    ring = keyring()
    opener = Opener(ring, LABEL, max_senders=8)
    first_packets = {}
    for index in range(20):
        sealer = Sealer(ring, LABEL, f"node-{index}", 1)
        first_packets[index] = sealer.seal(b"hello")
        assert status(opener, first_packets[index]) == "ok"
        assert status(opener, sealer.seal(b"again")) == "ok"
    assert opener.tracked_senders() == 8
    assert opener.evicted_senders() == 12
    assert status(opener, first_packets[19]) == "replayed"  # still tracked
    assert status(opener, first_packets[12]) == "replayed"  # the oldest still tracked
    # The least recently seen were forgotten, as documented: their history is gone.
    assert status(opener, first_packets[0]) == "ok"
    assert opener.tracked_senders() == 8


def test_opener_counts_every_status() -> None:
    opener = Opener(keyring(), LABEL)
    assert opener.counters() == dict.fromkeys(STATUSES, 0)
    opener.open(b"M")
    opener.open(b"MO\x01\x01\x00\x00" + bytes(40))
    assert opener.counters() == dict.fromkeys(STATUSES, 0) | {"truncated": 1, "bad_header": 1}


# --- null crypto (simulator only) -------------------------------------------------------------


def test_null_crypto_round_trip_and_replay() -> None:
    ring = keyring()
    sealer = Sealer(ring, LABEL, SENDER, 3, null_crypto=True)
    opener = Opener(ring, LABEL, null_crypto=True)
    packet = sealer.seal(b"visible", 1)
    assert packet == b"MO\x01\x01\x01\x06node-1" + (3).to_bytes(8, "big") + (1).to_bytes(
        8, "big"
    ) + b"visible" + bytes(TAG)
    result, opened = opener.open(packet)
    assert result == "ok"
    assert opened is not None
    assert (opened.plaintext, opened.channel, opened.counter) == (b"visible", 1, 1)
    assert status(opener, packet) == "replayed"
    tampered = bytearray(sealer.seal(b"x"))
    tampered[-1] = 1
    assert status(opener, bytes(tampered)) == "auth_failed"


def test_null_crypto_and_real_crypto_do_not_mix() -> None:
    ring = keyring()
    null_packet = Sealer(ring, LABEL, SENDER, 1, null_crypto=True).seal(b"x")
    real_packet = Sealer(ring, LABEL, SENDER, 1).seal(b"x")
    assert status(Opener(ring, LABEL), null_packet) == "auth_failed"
    assert status(Opener(ring, LABEL, null_crypto=True), real_packet) == "auth_failed"


def test_stream_frame_overtaken_by_many_datagrams_still_opens() -> None:
    # One counter numbers both channels, but each has its own replay window: a frame held up
    # behind a TCP connect must not be refused because 100 later datagrams arrived first.
    keys = keyring((1, KEY_A))
    sealer = Sealer(keys, LABEL, SENDER, 1)
    opener = Opener(keys, LABEL)
    frame = sealer.seal(b"anti-entropy", 1)
    datagrams = [sealer.seal(b"probe", 0) for _ in range(100)]
    assert all(status(opener, d) == "ok" for d in datagrams)
    assert status(opener, frame) == "ok"
    assert status(opener, frame) == "replayed"
