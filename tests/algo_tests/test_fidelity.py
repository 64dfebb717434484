"""Multi-fidelity search: rungs, ASHA and Hyperband promotions, freeze-thaw, and ask/tell jobs."""

from __future__ import annotations

import collections
import math

import pytest

import metaopt
from metaopt.algo import SearchHistory
from metaopt.algo import make_algorithm
from metaopt.algo._fidelity import rungs
from metaopt.errors import AlgorithmError
from metaopt.errors import MetaoptError
from metaopt.records import Trial
from metaopt.records import TrialStatus
from metaopt.space import Space
from metaopt.space import parse_prior
from metaopt.space import trial_id

SPACE = {"a": "uniform(0, 1)", "b": "uniform(0, 1)", "epochs": "fidelity(1, 27, base=3)"}
MULTI = ("asha", "hyperband")


def true_curve(params, t: int) -> float:
    """Losses that fall to an asymptote set by (a, b), faster for larger b: no crossing."""
    floor = (params["a"] - 0.3) ** 2 + 0.5 * (params["b"] - 0.6) ** 2 + 0.05
    return floor + math.exp(-(0.15 + 0.5 * params["b"]) * t)


def frozen(name: str, values: list[float], status=TrialStatus.FROZEN) -> Trial:
    params = {"a": int(trial_id("", {"n": name}), 16) % 1000 / 1000, "b": 0.5}
    curve = tuple((i, {"loss": v}) for i, v in enumerate(values))
    return Trial(trial_id("e", params), "e", params, status=status, curve=curve)


def run(opt, budget: int) -> int:
    """Train jobs from ``opt`` until ``budget`` steps are spent; returns the steps spent."""
    spent = 0
    while spent < budget:
        job = opt.ask()
        for step in range(job.start, job.until):
            spent += 1
            if not opt.tell(job, step, true_curve(job, step + 1)) or spent >= budget:
                break
    return spent


def test_rungs_climb_by_the_base_and_end_at_high():
    assert rungs(parse_prior("fidelity(1, 27, base=3)")) == [1, 3, 9, 27]
    assert rungs(parse_prior("fidelity(1, 50)")) == [1, 2, 4, 8, 16, 32, 50]
    assert rungs(parse_prior("fidelity(5, 6)")) == [5, 6]


@pytest.mark.parametrize("name", MULTI)
def test_a_space_without_a_fidelity_is_refused_by_name(name):
    with pytest.raises(AlgorithmError, match="fidelity"):
        make_algorithm(name, Space.from_dict({"a": "uniform(0, 1)"}))


def test_asha_thaws_the_best_of_a_rung_then_starts_new_points():
    algo = make_algorithm("asha", Space.from_dict(SPACE))
    # nine trials frozen at rung 1 (one step): the top third may go on to rung 3
    trials = [frozen(f"t{i}", [float(i)]) for i in range(9)]
    lease = algo.lease(SearchHistory(trials, "loss"))
    assert lease is not None
    assert lease.trial_id == trials[0].id
    assert (lease.start, lease.until) == (1, 3)
    # with the top three promoted, the rung has nothing more to give: a new point, at rung 1
    trials[:3] = [frozen(f"t{i}", [float(i), 0.5, 0.4], TrialStatus.RUNNING) for i in range(3)]
    lease = algo.lease(SearchHistory(trials, "loss"))
    assert lease is not None
    assert not lease.is_thaw
    assert (lease.start, lease.until) == (0, 1)
    assert "epochs" not in lease.params


def test_asha_promotes_from_the_highest_rung_first():
    algo = make_algorithm("asha", Space.from_dict(SPACE))
    low = [frozen(f"l{i}", [float(i)]) for i in range(6)]
    high = [frozen(f"h{i}", [0.5, 0.4, 0.3 + i]) for i in range(3)]
    lease = algo.lease(SearchHistory(low + high, "loss"))
    assert lease is not None
    assert lease.trial_id == high[0].id
    assert (lease.start, lease.until) == (3, 9)


def test_hyperband_files_each_point_in_one_bracket_in_proportion():
    algo = make_algorithm("hyperband", Space.from_dict(SPACE))
    assert algo.weights == [27, 12, 6, 4]  # Hyperband's n_i for 4 rungs of base 3
    points = make_algorithm("random", Space.from_dict(SPACE)).suggest(SearchHistory([]), 600)
    counts = collections.Counter(algo.bracket(p) for p in points)
    assert counts[0] > counts[1] > counts[3] > 0
    assert algo.bracket(points[0]) == algo.bracket(dict(points[0]))
    lease = algo.lease(SearchHistory([]))
    assert lease is not None
    assert lease.until == algo.rungs[algo.bracket(lease.params)]


@pytest.mark.parametrize("name", MULTI)
def test_jobs_continue_their_curves_with_no_repeated_or_missing_step(name):
    opt = metaopt.Optimizer(SPACE, algo=name, seed=1)
    run(opt, 200)
    thawed = 0
    for trial in opt.trials:
        steps = [step for step, _ in trial.curve]
        assert steps == list(range(len(steps)))
        assert len(steps) <= 27
        thawed += len(steps) > 1 and trial.status != TrialStatus.RUNNING
    assert thawed > 0
    best = opt.best
    assert best is not None
    assert "epochs" not in best[0]


def test_a_thaw_is_the_same_trial_from_where_it_stopped():
    opt = metaopt.Optimizer(SPACE, algo="asha", seed=0)
    starts: dict[str, list[int]] = collections.defaultdict(list)
    for _ in range(40):
        job = opt.ask()
        assert job["epochs"] == job.until
        starts[job.id].append(job.start)
        for step in range(job.start, job.until):
            if not opt.tell(job, step, true_curve(job, step + 1)):
                break
    again = [s for s in starts.values() if len(s) > 1]
    assert again
    assert all(s == sorted(s) and s[0] == 0 for s in again)
    assert all(s[1] == 1 for s in again)  # rung 1 of fidelity(1, 27, base=3)


def test_tells_out_of_order_or_out_of_a_lease_are_refused():
    opt = metaopt.Optimizer(SPACE, algo="asha")
    job = opt.ask()
    assert opt.tell(job, 0, 1.0) is False  # the end of its lease: rung 1
    with pytest.raises(MetaoptError, match="not running"):
        opt.tell(job, 1, 0.5)
    job = opt.ask()
    with pytest.raises(MetaoptError, match="one step at a time"):
        opt.tell(job, 0.5)  # type: ignore[call-overload]
    with pytest.raises(MetaoptError, match="tell\\(job, step, value\\)"):
        opt.tell({"a": 0.1, "b": 0.2}, 0.5)
    big = metaopt.Optimizer({**SPACE, "epochs": "fidelity(3, 27, base=3)"}, algo="asha")
    job = big.ask()
    assert big.tell(job, 4, 1.0) is True
    with pytest.raises(MetaoptError, match="in order"):
        big.tell(job, 4, 0.9)


def test_a_failed_step_ends_the_trial_and_it_is_never_thawed():
    opt = metaopt.Optimizer(SPACE, algo="asha")
    job = opt.ask()
    assert opt.tell(job, 0, math.nan) is False
    (trial,) = opt.trials
    assert trial.status == TrialStatus.FAILED
    for _ in range(10):
        assert opt.ask().id != job.id
