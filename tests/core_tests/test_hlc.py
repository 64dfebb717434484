"""Hybrid logical clock: table tests of now, update and restore.

Expected timestamps are written as (physical_ms, logical) pairs and packed here with plain
arithmetic, independently of the module's hlc_pack.
"""

from __future__ import annotations

import random

import pytest

from metaopt._core import Hlc
from metaopt._core import hlc_logical
from metaopt._core import hlc_pack
from metaopt._core import hlc_physical

MAX_LOGICAL = 0xFFFF
MAX_PHYSICAL = 2**48 - 1


def ts(physical_ms: int, logical: int) -> int:
    return physical_ms << 16 | logical


# --- packing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("physical_ms", "logical"),
    [(0, 0), (1, 0), (0, 1), (1_700_000_000_000, 42), (MAX_PHYSICAL, MAX_LOGICAL)],
)
def test_hlc_pack_round_trip(physical_ms: int, logical: int) -> None:
    packed = hlc_pack(physical_ms, logical)
    assert packed == ts(physical_ms, logical)
    assert (hlc_physical(packed), hlc_logical(packed)) == (physical_ms, logical)


def test_hlc_pack_rejects_out_of_range() -> None:
    with pytest.raises(ValueError, match="48 bits"):
        hlc_pack(MAX_PHYSICAL + 1, 0)
    with pytest.raises(TypeError):
        hlc_pack(0, MAX_LOGICAL + 1)


def test_hlc_orders_as_integers() -> None:
    assert ts(5, MAX_LOGICAL) < ts(6, 0) < ts(6, 1)


# --- now ----------------------------------------------------------------------------------------


def test_hlc_starts_at_zero() -> None:
    assert Hlc().last() == 0


# Each row: wall clock readings fed to now(), and the timestamps expected back.
NOW_TABLE = {
    "follows-wall-clock": ([1000, 1001, 1005], [ts(1000, 0), ts(1001, 0), ts(1005, 0)]),
    "same-ms-counts-up": ([1000, 1000, 1000], [ts(1000, 0), ts(1000, 1), ts(1000, 2)]),
    "wall-goes-back": (
        [1000, 999, 5, 1000, 1001],
        [ts(1000, i) for i in range(4)] + [ts(1001, 0)],
    ),
    "wall-zero": ([0, 0], [ts(0, 1), ts(0, 2)]),
}


@pytest.mark.parametrize(("walls", "expected"), NOW_TABLE.values(), ids=NOW_TABLE.keys())
def test_hlc_now(walls: list[int], expected: list[int]) -> None:
    clock = Hlc()
    assert [clock.now(wall) for wall in walls] == expected
    assert clock.last() == expected[-1]


def test_hlc_now_strictly_monotonic_under_jumpy_wall_clock() -> None:
    rng = random.Random(3)
    clock = Hlc()
    wall, previous = 1_000_000, 0
    for _ in range(20_000):
        wall = max(0, wall + rng.choice([-5000, -1, 0, 0, 0, 1, 2, 700]))
        current = clock.now(wall)
        assert current > previous
        assert hlc_physical(current) >= wall
        previous = current


def test_hlc_now_carries_logical_overflow() -> None:
    clock = Hlc()
    clock.restore(ts(1000, MAX_LOGICAL - 1))
    assert clock.now(1000) == ts(1000, MAX_LOGICAL)
    assert clock.now(1000) == ts(1001, 0)
    assert clock.now(1000) == ts(1001, 1)
    assert clock.now(1002) == ts(1002, 0)


def test_hlc_rejects_wall_clock_past_48_bits() -> None:
    clock = Hlc()
    clock.now(10)
    with pytest.raises(ValueError, match="48 bits"):
        clock.now(MAX_PHYSICAL + 1)
    with pytest.raises(ValueError, match="48 bits"):
        clock.update(ts(1, 0), MAX_PHYSICAL + 1)
    assert clock.last() == ts(10, 0)


def test_hlc_reports_exhaustion() -> None:
    clock = Hlc()
    clock.restore(2**64 - 1)
    with pytest.raises(OverflowError):
        clock.now(0)
    assert clock.last() == 2**64 - 1


# --- update -------------------------------------------------------------------------------------


# Each row: the clock's last timestamp, the remote timestamp, the wall clock, the expected result.
UPDATE_TABLE = {
    "wall-ahead-of-both": (ts(100, 5), ts(90, 7), 200, ts(200, 0)),
    "remote-ahead": (ts(100, 5), ts(150, 7), 120, ts(150, 8)),
    "local-ahead": (ts(100, 5), ts(90, 7), 95, ts(100, 6)),
    "same-ms-remote-counter-higher": (ts(100, 5), ts(100, 9), 100, ts(100, 10)),
    "same-ms-local-counter-higher": (ts(100, 9), ts(100, 5), 100, ts(100, 10)),
    "remote-counter-full": (ts(100, 5), ts(150, MAX_LOGICAL), 120, ts(151, 0)),
    "remote-far-past": (ts(100, 5), ts(1, 0), 50, ts(100, 6)),
    "fresh-clock": (0, ts(70, 3), 60, ts(70, 4)),
}


@pytest.mark.parametrize(
    ("last", "remote", "wall", "expected"), UPDATE_TABLE.values(), ids=UPDATE_TABLE.keys()
)
def test_hlc_update(last: int, remote: int, wall: int, expected: int) -> None:
    clock = Hlc()
    clock.restore(last)
    assert clock.update(remote, wall) == expected
    assert clock.last() == expected
    assert clock.now(0) > expected


# Each row: max_offset_ms, the remote's physical ms, the wall clock, whether it is accepted.
OFFSET_TABLE = {
    "at-the-limit": (100, 1100, 1000, True),
    "one-ms-past": (100, 1101, 1000, False),
    "zero-offset-same-ms": (0, 1000, 1000, True),
    "zero-offset-ahead": (0, 1001, 1000, False),
    "default-limit": (None, 61_000, 1000, True),
    "default-limit-past": (None, 61_001, 1000, False),
    "huge-offset": (2**64 - 1, MAX_PHYSICAL, 0, True),
}


@pytest.mark.parametrize(
    ("max_offset", "remote_ms", "wall", "accepted"), OFFSET_TABLE.values(), ids=OFFSET_TABLE.keys()
)
def test_hlc_update_refuses_drift(
    max_offset: int | None, remote_ms: int, wall: int, accepted: bool
) -> None:
    clock = Hlc() if max_offset is None else Hlc(max_offset_ms=max_offset)
    before = clock.now(wall)
    result = clock.update(ts(remote_ms, 3), wall)
    if accepted:
        assert result == ts(remote_ms, 4)
        assert clock.last() == result
    else:
        assert result is None
        assert clock.last() == before
        assert clock.now(wall) == before + 1


# --- restore ------------------------------------------------------------------------------------


def test_hlc_restore_keeps_timestamps_above_persisted() -> None:
    persisted = ts(5000, 17)
    clock = Hlc()
    clock.restore(persisted)
    assert clock.last() == persisted
    assert clock.now(4000) == ts(5000, 18)
    assert clock.update(ts(10, 0), 4000) == ts(5000, 19)


def test_hlc_restore_never_lowers() -> None:
    clock = Hlc()
    clock.now(5000)
    clock.restore(ts(10, 0))
    assert clock.last() == ts(5000, 0)
    assert clock.now(5000) == ts(5000, 1)
