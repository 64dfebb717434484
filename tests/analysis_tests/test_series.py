"""The numbers behind the plots, on histories whose answer is plain."""

from __future__ import annotations

import random

from metaopt._history import History
from metaopt.analysis import curves
from metaopt.analysis import failure_signature
from metaopt.analysis import importance
from metaopt.analysis import same_script
from metaopt.analysis import script_of
from metaopt.analysis._importance import MAX_ROWS
from metaopt.records import Experiment
from metaopt.records import Trial
from metaopt.records import TrialStatus

EXP = Experiment("e", ("train.py",), "/", {"x": "uniform(0, 1)"}, objective="loss")


def trial(name: str, values: list[float], status: TrialStatus) -> Trial:
    curve = tuple((i, {"loss": v}) for i, v in enumerate(values))
    return Trial(name, "e", {"x": 0.5}, status=status, curve=curve)


def test_curves_show_the_best_and_every_trial_early_stopping_acted_on():
    best = [
        trial(f"b{i}", [1.0, 0.5 - i * 0.1, 0.1 - i * 0.01], TrialStatus.COMPLETED)
        for i in range(3)
    ]
    frozen = trial("frozen", [2.0], TrialStatus.FROZEN)
    short = trial("short", [3.0, 2.9], TrialStatus.COMPLETED)  # stopped before the full budget
    worse = trial("worse", [4.0, 3.9, 3.8], TrialStatus.COMPLETED)
    shown = curves(History(EXP, [worse, short, frozen, *best]), top=3)
    assert [c.trial_id for c in shown] == ["b2", "b1", "b0", "frozen", "short"]
    assert shown[3].status == "frozen"
    assert (shown[0].steps, shown[0].values) == ((0, 1, 2), (1.0, 0.3, 0.08))


def test_failures_that_differ_in_numbers_and_paths_read_alike():
    one = 'File "/home/a/train.py", line 12\nValueError: lr=0.31 diverged at step 7\n'
    two = 'File "/srv/b/train.py", line 99\nValueError: lr=1e-05 diverged at step 120\n\n'
    assert (
        failure_signature(one) == failure_signature(two) == "ValueError: lr=# diverged at step #"
    )
    assert failure_signature("Killed at 0x7f3a2c\n") == "Killed at 0x…"
    assert failure_signature("OSError: [Errno 28] No space left: '/data/ckpt'") == (
        "OSError: [Errno #] No space left: '/…'"
    )
    assert failure_signature("") == "(no stderr)"


def test_importance_past_its_row_limit_fits_a_sample_and_still_finds_the_parameter():
    space = {"x": "uniform(0, 1)", "noise": "uniform(0, 1)"}
    exp = Experiment("big", ("train.py",), "/", space, objective="loss")
    rng = random.Random(0)
    trials = []
    for i in range(MAX_ROWS + 500):
        params = {"x": rng.random(), "noise": rng.random()}
        loss = (params["x"] - 0.3) ** 2 + rng.gauss(0, 0.001)
        curve = ((0, {"loss": loss}),)
        trials.append(
            Trial(f"t{i:05d}", "big", params, status=TrialStatus.COMPLETED, ended=i, curve=curve)
        )
    shares = importance(History(exp, trials))
    assert list(shares) == ["x", "noise"]
    assert shares["x"] > 0.9
    assert importance(History(exp, trials[::-1])) == shares  # the same trials, the same answer


def test_the_leaderboard_groups_experiments_by_script_not_by_interpreter():
    def named(name: str, *command: str) -> History:
        return History(Experiment(name, command, "/", {"x": "uniform(0, 1)"}), [])

    own = named("a", "/usr/bin/python3", "/p/train.py", "--x~uniform(0, 1)")
    again = named("b", "/usr/bin/python3", "/p/train.py", "--x~uniform(0, 2)")
    other = named("c", "/usr/bin/python3", "/p/eval.py", "--x~uniform(0, 1)")
    binary = named("d", "/p/train.sh", "--x~uniform(0, 1)")
    grouped = same_script(own, [own, again, other, binary])
    assert [h.name for h in grouped] == ["a", "b"]
    assert script_of(("/p/train.sh", "--x~uniform(0, 1)")) == "/p/train.sh"
