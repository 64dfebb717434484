"""Trials and experiments: encoding, the merge rule across origins, summaries."""

from __future__ import annotations

import dataclasses
import math

from metaopt._core import Record
from metaopt.records import Experiment
from metaopt.records import ExperimentStatus
from metaopt.records import HistoryView
from metaopt.records import Trial
from metaopt.records import TrialStatus
from metaopt.records import experiment_key
from metaopt.records import summarize
from metaopt.records import trial_key

EXP = Experiment("e", ("python", "/t.py", "--x~uniform(0, 1)"), "/", {"x": "uniform(0, 1)"})


def test_trial_round_trips_through_json():
    trial = Trial(
        "t1",
        "e",
        {"x": 0.5, "opt": "adam"},
        TrialStatus.FAILED,
        node="n",
        attempt=2,
        curve=((0, {"loss": 1.0}), (1, {"loss": float("nan")})),
        exit_code=3,
        stderr_tail="boom",
    )
    back = Trial.from_json(trial.to_json())
    assert back.params == trial.params
    assert back.status == TrialStatus.FAILED
    assert back.curve[0] == (0, {"loss": 1.0})
    assert math.isnan(back.curve[1][1]["loss"])
    assert (back.exit_code, back.stderr_tail, back.attempt) == (3, "boom", 2)


def test_experiment_round_trips_and_ignores_unknown_fields():
    data = EXP.to_json().replace(b"{", b'{"from_a_newer_version":1,', 1)
    assert Experiment.from_json(data) == EXP


def test_a_copy_for_the_store_leaves_the_curve_out():
    trial = Trial("t", "e", {"x": 1}, curve=((0, {"loss": 1.0}),), claim_hlc=7, node="a")
    stored = Trial.from_record(trial.to_record())
    assert stored.curve == ()
    assert stored == dataclasses.replace(trial, curve=())
    assert b"curve" not in trial.to_record()


def test_view_keeps_newest_version_per_origin_and_skips_garbage():
    view = HistoryView()
    t1 = Trial("t", "e", {"x": 1}, TrialStatus.RUNNING, node="a", created=1)
    t2 = Trial("t", "e", {"x": 1}, TrialStatus.COMPLETED, node="a", created=1)
    assert view.apply(Record("a", experiment_key("e"), 1, 1, EXP.to_json()))
    assert view.apply(Record("a", trial_key("e", "t"), 3, 3, t2.to_record()))
    assert not view.apply(Record("a", trial_key("e", "t"), 2, 2, t1.to_record()))  # older
    assert not view.apply(Record("b", trial_key("e", "u"), 1, 4, b"not json"))
    assert [t.status for t in view.trials("e")] == [TrialStatus.COMPLETED]
    assert view.experiment("e") == EXP


def test_summary_counts_and_best():
    trials = [
        Trial("1", "e", {"x": 1}, TrialStatus.COMPLETED, curve=((0, {"loss": 0.5}),)),
        Trial("2", "e", {"x": 2}, TrialStatus.COMPLETED, curve=((0, {"loss": 0.2}),)),
        Trial("3", "e", {"x": 3}, TrialStatus.FAILED, curve=((0, {"loss": 0.1}),)),
        Trial("4", "e", {"x": 4}, TrialStatus.RUNNING),
    ]
    s = summarize(EXP, trials)
    assert s.counts == {"completed": 2, "failed": 1, "running": 1}
    assert (s.best_trial, s.best_value, s.objective) == ("2", 0.2, "loss")
    assert summarize(dataclasses.replace(EXP, maximize=True), trials).best_trial == "1"


def test_differences_name_what_changed():
    other = dataclasses.replace(
        EXP, command=("python", "/t.py", "--x~uniform(0,1)", "--y=2"), space={"x": "uniform(0, 2)"}
    )
    diffs = EXP.differences(other)
    assert any(d.startswith("command:") for d in diffs)
    assert "parameter x: stored uniform(0, 1), given uniform(0, 2)" in diffs
    same_priors_respelled = dataclasses.replace(
        EXP, command=("python", "/t.py", "--x~uniform(0.0, 1)")
    )
    assert EXP.differences(same_priors_respelled) == []
    assert (
        EXP.differences(dataclasses.replace(EXP, status=ExperimentStatus.DONE, max_trials=99))
        == []
    )
