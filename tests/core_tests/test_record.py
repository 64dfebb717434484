"""Record encoding: round trips, the byte format, and refusal of every malformed input.

The tests carry their own small reference encoder and CRC-32C, written from the format table in
src/engine/record.hpp, so the C++ code is checked against an independent reading of the format
and hostile inputs (valid checksum, bad contents) can be built.
"""

from __future__ import annotations

import random

import pytest

from metaopt import _core
from metaopt._core import DecodeError
from metaopt._core import Record
from metaopt._core import decode_record
from metaopt._core import decode_records
from metaopt._core import encode_record

U64_MAX = 2**64 - 1
MAGIC = 0xB7


def crc32c(data: bytes) -> int:
    """Bit-at-a-time CRC-32C: slow and obviously right."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def seal(body: bytes, *, magic: int = MAGIC, fmt: int = 1) -> bytes:
    """Header + body + a correct checksum: lets a test put anything in the body."""
    covered = bytes([magic, fmt]) + body
    return covered + crc32c(covered).to_bytes(4, "little")


def body(origin: bytes, key: bytes, version: int, hlc: int, value: bytes) -> bytes:
    return (
        varint(len(origin))
        + origin
        + varint(len(key))
        + key
        + varint(version)
        + varint(hlc)
        + varint(len(value))
        + value
    )


def reference_encode(r: Record) -> bytes:
    return seal(body(r.origin.encode(), r.key.encode(), r.version, r.hlc, r.value))


def reason(data: bytes) -> str:
    with pytest.raises(DecodeError) as info:
        decode_record(data)
    return str(info.value)


SAMPLES = [
    Record("n", "k", 1, 2, b"v"),
    Record("", "", 0, 0, b""),
    Record("node-7", "trial/42/curve", 300, (1_700_000_000_000 << 16) | 5, b"\x00\x01\x00\xff"),
    Record("ñødé", "κλειδί/🔑", U64_MAX, U64_MAX, bytes(range(256)) * 3),
    Record("a" * 255, "k" * 4096, 2**63, 2**56, b"\x00" * 1000),
]
SAMPLE_IDS = ["small", "empty", "binary-value", "unicode-u64-max", "long-text"]


# --- round trips and the byte format ----------------------------------------------------------


@pytest.mark.parametrize("record", SAMPLES, ids=SAMPLE_IDS)
def test_record_round_trip(record: Record) -> None:
    assert decode_record(encode_record(record)) == record


@pytest.mark.parametrize("record", SAMPLES, ids=SAMPLE_IDS)
def test_record_encoding_matches_reference(record: Record) -> None:
    assert encode_record(record) == reference_encode(record)


def test_record_golden_bytes() -> None:
    # The store keeps these bytes: a change here breaks every existing store.
    encoded = encode_record(Record("n", "k", 1, 2, b"v"))
    assert encoded.hex() == "b701016e016b010201761b8a8228"
    assert encoded[1] == _core.FORMAT_VERSION == 1


def test_crc32c_reference_check_value() -> None:
    assert crc32c(b"123456789") == 0xE3069283


def test_record_round_trip_max_value() -> None:
    value = bytes(range(256)) * (_core.MAX_VALUE_BYTES // 256)
    assert len(value) == _core.MAX_VALUE_BYTES
    record = Record("o" * _core.MAX_ORIGIN_BYTES, "k" * _core.MAX_KEY_BYTES, 7, 8, value)
    assert decode_record(encode_record(record)) == record


def test_record_limits() -> None:
    assert (_core.MAX_ORIGIN_BYTES, _core.MAX_KEY_BYTES) == (255, 4096)
    assert _core.MAX_VALUE_BYTES == 16 * 1024 * 1024


def test_record_value_keeps_nul_bytes() -> None:
    value = b"\x00a\x00\x00b\x00"
    decoded = decode_record(encode_record(Record("o", "k", 1, 1, value)))
    assert decoded.value == value
    assert type(decoded.value) is bytes


# --- the Python object --------------------------------------------------------------------------


def test_record_attributes_are_writable() -> None:
    record = Record("o", "k", 1, 2, b"v")
    record.origin, record.key, record.version, record.hlc, record.value = "p", "q", 3, 4, b"w"
    assert record == Record("p", "q", 3, 4, b"w")
    assert (type(record.origin), type(record.value)) == (str, bytes)


def test_record_equality_compares_every_field() -> None:
    base = Record("o", "k", 1, 2, b"v")
    assert base == Record("o", "k", 1, 2, b"v")
    assert base != Record("x", "k", 1, 2, b"v")
    assert base != Record("o", "x", 1, 2, b"v")
    assert base != Record("o", "k", 9, 2, b"v")
    assert base != Record("o", "k", 1, 9, b"v")
    assert base != Record("o", "k", 1, 2, b"x")
    assert base != ("o", "k", 1, 2, b"v")


def test_record_repr_evaluates_back() -> None:
    record = Record("ñ'", 'k"', 1, 2, b"\x00v")
    assert repr(record) == "Record(origin=\"ñ'\", key='k\"', version=1, hlc=2, value=b'\\x00v')"
    assert eval(repr(record), {"Record": Record}) == record


@pytest.mark.parametrize("number", [-1, 2**64])
def test_record_rejects_numbers_outside_u64(number: int) -> None:
    with pytest.raises(TypeError):
        Record("o", "k", number, 0, b"")
    with pytest.raises(TypeError):
        Record("o", "k", 0, number, b"")


def test_record_value_must_be_bytes() -> None:
    with pytest.raises(TypeError):
        Record("o", "k", 1, 1, "text")  # type: ignore[arg-type]


# --- encode-time limits -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "size"),
    [("origin", 256), ("key", 4097), ("value", 16 * 1024 * 1024 + 1)],
)
def test_encode_rejects_oversize_field(field: str, size: int) -> None:
    record = Record("o", "k", 1, 1, b"v")
    setattr(record, field, b"x" * size if field == "value" else "x" * size)
    with pytest.raises(ValueError, match=f"{field} is {size} bytes") as info:
        encode_record(record)
    assert not isinstance(info.value, DecodeError)


def test_encode_limit_counts_utf8_bytes() -> None:
    encode_record(Record("é" * 127, "k", 1, 1, b""))  # 254 bytes
    with pytest.raises(ValueError, match="origin is 256 bytes"):
        encode_record(Record("é" * 128, "k", 1, 1, b""))


# --- decode-time refusals -----------------------------------------------------------------------


def test_decode_error_is_a_value_error() -> None:
    assert issubclass(DecodeError, ValueError)


def test_decode_rejects_every_truncation() -> None:
    encoded = encode_record(SAMPLES[2])
    for end in range(len(encoded)):
        assert reason(encoded[:end]) == "truncated", end


def test_decode_rejects_every_bit_flip() -> None:
    encoded = encode_record(SAMPLES[2])
    for index in range(len(encoded)):
        for bit in range(8):
            corrupt = bytearray(encoded)
            corrupt[index] ^= 1 << bit
            with pytest.raises(DecodeError):
                decode_record(bytes(corrupt))


def test_decode_names_the_reason() -> None:
    encoded = encode_record(SAMPLES[0])
    value_at = len(encoded) - 5
    flipped = encoded[:value_at] + bytes([encoded[value_at] ^ 1]) + encoded[value_at + 1 :]
    assert reason(flipped) == "bad_checksum"
    assert reason(b"\x00" + encoded[1:]) == "bad_magic"
    assert reason(encoded[:1] + b"\x02" + encoded[2:]) == "bad_format_version"
    assert reason(encoded + b"\x00") == "trailing_bytes"
    assert reason(encoded + encoded) == "trailing_bytes"
    assert reason(b"") == "truncated"


@pytest.mark.parametrize(
    "bad_body",
    [
        body(b"o" * 256, b"k", 1, 1, b""),
        body(b"o", b"k" * 4097, 1, 1, b""),
        varint(1) + b"o" + varint(1) + b"k" + varint(1) + varint(1) + varint(16 * 2**20 + 1),
        varint(2**64 - 1),  # a length far past any bound, and no bytes behind it
        b"\x81\x00" + b"o",  # origin length 1, written in two bytes
        varint(1) + b"o" + varint(1) + b"k" + b"\x80" * 9 + b"\x02",  # a version past 64 bits
        varint(1) + b"o" + varint(1) + b"k" + b"\xff" * 10 + b"\x01",  # an 11-byte varint
    ],
    ids=["origin", "key", "value", "huge-length", "non-minimal", "65-bits", "11-bytes"],
)
def test_decode_rejects_oversize_with_valid_checksum(bad_body: bytes) -> None:
    assert reason(seal(bad_body)) == "too_long"


@pytest.mark.parametrize(
    ("origin", "key"),
    [(b"\xff", b"k"), (b"o", b"\xc0\x80"), (b"o", b"\xed\xa0\x80"), (b"\xf4\x90\x80\x80", b"k")],
    ids=["invalid-byte", "overlong-nul", "surrogate", "past-10ffff"],
)
def test_decode_rejects_invalid_utf8(origin: bytes, key: bytes) -> None:
    assert reason(seal(body(origin, key, 1, 1, b""))) == "bad_utf8"


def test_decode_text_agrees_with_python_utf8() -> None:
    rng = random.Random(7)
    alphabet = [0x00, 0x41, 0x7F, 0x80, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xED, 0xEF]
    alphabet += [0xF0, 0xF4, 0xF5, 0xFF]
    for _ in range(3000):
        key = bytes(rng.choice(alphabet) for _ in range(rng.randrange(1, 6)))
        try:
            expected = key.decode("utf-8")
        except UnicodeDecodeError:
            expected = None
        encoded = seal(body(b"o", key, 1, 1, b""))
        if expected is None:
            assert reason(encoded) == "bad_utf8", key
        else:
            assert decode_record(encoded).key == expected


def test_decode_random_bytes_never_crash() -> None:
    rng = random.Random(1)
    seeds = [encode_record(record) for record in SAMPLES[:4]]
    for _ in range(5000):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        data = data[: rng.randrange(len(data) + 1)] if rng.random() < 0.3 else data
        try:
            record = decode_record(bytes(data))
        except DecodeError:
            continue
        assert encode_record(record) == data  # anything accepted is canonical


def test_decode_requires_bytes() -> None:
    with pytest.raises(TypeError):
        decode_record("not bytes")  # type: ignore[arg-type]


# --- batches ------------------------------------------------------------------------------------


def test_decode_records_batch() -> None:
    assert decode_records([encode_record(r) for r in SAMPLES]) == SAMPLES
    assert decode_records(encode_record(r) for r in SAMPLES) == SAMPLES
    assert decode_records([]) == []


def test_decode_records_names_first_bad_item() -> None:
    good = [encode_record(r) for r in SAMPLES]
    items = [*good[:3], good[3][:-1], b"junk"]
    with pytest.raises(DecodeError, match=r"^item 3: truncated$"):
        decode_records(items)


def test_decode_records_rejects_non_bytes_item() -> None:
    with pytest.raises(TypeError, match="item 1 is str, not bytes"):
        decode_records([encode_record(SAMPLES[0]), "text"])  # type: ignore[list-item]


def test_record_checksum_matches_the_reference_at_every_tail_length() -> None:
    # The core computes CRC-32C 8 bytes at a time where the CPU allows: every length mod 8 and
    # a few long values check it against the bit-at-a-time reference.
    for size in [*range(0, 40), 255, 1000, 4099]:
        value = bytes((i * 131 + size) % 256 for i in range(size))
        encoded = encode_record(Record("origin", "key", 3, 4, value))
        assert encoded[-4:] == crc32c(encoded[:-4]).to_bytes(4, "little"), size
