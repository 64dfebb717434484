"""The scheduling and lifecycle decisions, as pure functions."""

from __future__ import annotations

import dataclasses

import pytest

from metaopt.records import Experiment
from metaopt.records import ExperimentStatus
from metaopt.records import Trial
from metaopt.records import TrialStatus
from metaoptd import lifecycle
from metaoptd.scheduler import Demand
from metaoptd.scheduler import fair_share


@pytest.mark.parametrize(
    ("free", "demands", "expected"),
    [
        (4, [Demand("a", 0, 10, 1.0), Demand("b", 0, 10, 2.0)], ["a", "b", "a", "b"]),
        (2, [Demand("a", 2, 10, 1.0), Demand("b", 0, 10, 2.0)], ["b", "b"]),
        (4, [Demand("a", 0, 1, 1.0), Demand("b", 0, 10, 2.0)], ["a", "b", "b", "b"]),
        (4, [Demand("a", 0, 1, 1.0)], ["a"]),
        (0, [Demand("a", 0, 1, 1.0)], []),
        (
            3,
            [Demand("b", 1, 5, 2.0), Demand("a", 1, 5, 1.0), Demand("c", 0, 5, 3.0)],
            ["c", "a", "b"],
        ),
    ],
)
def test_fair_share(free, demands, expected):
    assert fair_share(free, demands) == expected


EXP = Experiment("e", ("p",), "/", {}, max_trials=3, max_broken=2)


def trial(i: int, status: TrialStatus, ended: float | None = None) -> Trial:
    curve = ((0, {"loss": float(i)}),) if status == TrialStatus.COMPLETED else ()
    return Trial(
        str(i),
        "e",
        {"x": i},
        status,
        ended=ended,
        exit_code=1,
        stderr_tail=f"err {i}",
        curve=curve,
    )


def test_new_allowed_never_overshoots_max_trials():
    trials = [
        trial(1, TrialStatus.COMPLETED, 1),
        trial(2, TrialStatus.RUNNING),
        trial(3, TrialStatus.FAILED, 2),
    ]
    assert lifecycle.new_allowed(EXP, trials) == 1
    assert lifecycle.new_allowed(EXP, [*trials, trial(4, TrialStatus.INTERRUPTED)]) == 0


def test_broken_after_consecutive_failures_with_the_last_stderr():
    trials = [
        trial(1, TrialStatus.FAILED, 1),
        trial(2, TrialStatus.COMPLETED, 2),
        trial(3, TrialStatus.FAILED, 3),
    ]
    assert lifecycle.end_state(EXP, trials, exhausted=False) is None
    trials.append(trial(4, TrialStatus.BROKEN, 4))
    status, message = lifecycle.end_state(EXP, trials, exhausted=False)
    assert status == ExperimentStatus.BROKEN
    assert "2 trials failed in a row" in message
    assert message.endswith("err 4")
    resumed = dataclasses.replace(EXP, resumed=3.5)
    assert lifecycle.end_state(resumed, trials, exhausted=False) is None


def test_done_waits_for_running_trials():
    done = [trial(i, TrialStatus.COMPLETED, i) for i in range(3)]
    assert lifecycle.end_state(EXP, done, exhausted=False)[0] == ExperimentStatus.DONE
    assert (
        lifecycle.end_state(EXP, [*done, trial(9, TrialStatus.RUNNING)], exhausted=False) is None
    )
    exhausted = [trial(1, TrialStatus.COMPLETED, 1)]
    assert "exhausted" in lifecycle.end_state(EXP, exhausted, exhausted=True)[1]
    requeued = [*exhausted, trial(2, TrialStatus.INTERRUPTED)]
    assert lifecycle.end_state(EXP, requeued, exhausted=True) is None
