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
