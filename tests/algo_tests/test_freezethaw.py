"""The freeze-thaw algorithm's decision rule, on histories where the answer is plain."""

from __future__ import annotations

from metaopt.algo import SearchHistory
from metaopt.algo._freezethaw import FreezeThawAlgorithm
from metaopt.records import TrialStatus
from metaopt.space import Space
from tests.algo_tests.test_fidelity import SPACE
from tests.algo_tests.test_fidelity import frozen


def test_a_hopeless_running_trial_is_frozen_and_the_best_one_goes_on():
    algo = FreezeThawAlgorithm(Space.from_dict(SPACE))
    good = [frozen(f"g{i}", [1.0 - 0.1 * s - 0.01 * i for s in range(3)]) for i in range(4)]
    bad = frozen("bad", [5.0, 4.9, 4.85, 4.84], TrialStatus.RUNNING)
    assert algo.go_on(SearchHistory([*good, bad], "loss"), bad, 27) is False
    best = frozen("best", [0.2, 0.1, 0.05, 0.03], TrialStatus.RUNNING)
    assert algo.go_on(SearchHistory([*good, best], "loss"), best, 27) is True


def test_the_first_points_are_new_and_a_lease_of_asha_runs_out():
    algo = FreezeThawAlgorithm(Space.from_dict(SPACE))
    lease = algo.lease(SearchHistory([]))
    assert lease is not None
    assert (lease.start, lease.until, lease.trial_id) == (0, 27, None)
    worst = frozen("worst", [9.0, 8.0], TrialStatus.RUNNING)
    others = [frozen(f"o{i}", [0.5, 0.4, 0.3 - 0.01 * i]) for i in range(4)]
    # a lease short of the full budget came from ASHA's rule: it runs to its end
    assert algo.go_on(SearchHistory([*others, worst], "loss"), worst, 3) is True
    assert algo.go_on(SearchHistory([*others, worst], "loss"), worst, 2) is False


def crossing(i: int, length: int, cross_at: int) -> list[float]:
    """Trial i's losses: early on the larger i look better, after ``cross_at`` the smaller."""
    early = [1.0 - 0.02 * i - 0.01 * t for t in range(cross_at - 1)]
    late = [0.6 + 0.02 * i - 0.01 * t for t in range(length - cross_at + 1)]
    return early + late


def test_freezing_starts_at_the_first_rung_that_ranks_trials_right():
    algo = FreezeThawAlgorithm(Space.from_dict(SPACE))
    assert algo.trusted_rung(SearchHistory([])) == 1  # nothing judged yet: trusted
    # four trials past rung 3 that rank the other way at rung 1: too few to judge
    few = [frozen(f"f{i}", crossing(i, 9, 3)) for i in range(4)]
    assert algo.trusted_rung(SearchHistory(few, "loss")) == 1
    # the curves cross between rungs 1 and 3: rung 1 misleads, rung 3 ranks right
    trained = [frozen(f"t{i}", crossing(i, 9, 3)) for i in range(6)]
    history = SearchHistory(trained, "loss")
    assert algo.trusted_rung(history) == 3
    # a trial that looks hopeless at rung 1 is not frozen on it; at rung 3 it may be
    bad = frozen("bad", [5.0], TrialStatus.RUNNING)
    assert algo.go_on(SearchHistory([*trained, bad], "loss"), bad, 27) is True
    bad = frozen("bad", [5.0, 4.9, 4.8], TrialStatus.RUNNING)
    assert algo.go_on(SearchHistory([*trained, bad], "loss"), bad, 27) is False


def test_when_no_rung_ranks_right_every_trial_trains_to_the_end():
    algo = FreezeThawAlgorithm(Space.from_dict(SPACE))
    trained = [frozen(f"t{i}", crossing(i, 27, 10), TrialStatus.COMPLETED) for i in range(6)]
    history = SearchHistory(trained, "loss")
    assert algo.trusted_rung(history) == 27
    bad = frozen("bad", [5.0 - 0.01 * t for t in range(9)], TrialStatus.RUNNING)
    assert algo.go_on(SearchHistory([*trained, bad], "loss"), bad, 27) is True
    # until five trials reach a later rung, the first one is not judged
    assert algo.trusted_rung(SearchHistory(trained[:4], "loss")) == 1
