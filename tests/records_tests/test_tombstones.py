"""Deletion is a tombstone record: it hides an experiment and its trials, whatever comes later."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from metaopt._core import Record
from metaopt.records import Experiment
from metaopt.records import ExperimentStatus
from metaopt.records import HistoryView
from metaopt.records import Tombstone
from metaopt.records import Trial
from metaopt.records import TrialStatus
from metaopt.records import experiment_key
from metaopt.records import summarize_in
from metaopt.records import tombstone_key
from metaopt.records import trial_key
from metaopt.records import unknown_experiment

OLD = Experiment("e", ("p", "--x~uniform(0, 1)"), "/", {"x": "uniform(0, 1)"}, uid="u1")
NEW = dataclasses.replace(OLD, uid="u2", created=5.0)


def exp_record(origin: str, version: int, hlc: int, exp: Experiment) -> Record:
    return Record(origin, experiment_key(exp.name), version, hlc, exp.to_json())


def trial_record(origin: str, version: int, hlc: int, uid: str, tid: str = "t") -> Record:
    trial = Trial(tid, "e", {"x": 0.5}, TrialStatus.COMPLETED, node=origin, experiment_uid=uid)
    return Record(origin, trial_key("e", tid), version, hlc, trial.to_json())


def tomb_record(origin: str, version: int, hlc: int, uid: str) -> Record:
    return Record(origin, tombstone_key("e", uid), version, hlc, Tombstone("e", uid).to_json())


def test_a_tombstone_hides_the_experiment_and_its_trials():
    view = HistoryView([exp_record("a", 1, 1, OLD), trial_record("a", 2, 2, "u1")])
    assert [t.id for t in view.trials("e")] == ["t"]
    view.apply(tomb_record("a", 3, 3, "u1"))
    assert view.experiment("e") is None
    assert view.trials("e") == []
    assert view.was_deleted("e")
    assert unknown_experiment(view, "e") == "experiment 'e' was deleted"


def test_a_peers_later_copy_of_the_deleted_experiment_does_not_bring_it_back():
    """Node b, partitioned away, kept writing the old incarnation with later clocks."""
    view = HistoryView([exp_record("a", 1, 1, OLD), tomb_record("a", 2, 2, "u1")])
    stopped = dataclasses.replace(OLD, status=ExperimentStatus.DONE)
    view.apply(exp_record("b", 7, 90, stopped))
    view.apply(trial_record("b", 8, 91, "u1", "t2"))
    assert view.experiment("e") is None
    assert view.trials("e") == []


def test_a_new_experiment_of_the_same_name_starts_empty():
    records = [
        exp_record("a", 1, 1, OLD),
        trial_record("a", 2, 2, "u1"),
        trial_record("b", 1, 3, "u1", "t2"),  # a peer's trial of the old incarnation
        tomb_record("a", 3, 4, "u1"),
        exp_record("a", 4, 5, NEW),
    ]
    view = HistoryView(records)
    assert view.experiment("e") == NEW
    assert view.trials("e") == []
    view.apply(trial_record("a", 5, 6, "u2"))  # the same point, proposed again, is a new trial
    assert [(t.id, t.experiment_uid) for t in view.trials("e")] == [("t", "u2")]
    assert not view.was_deleted("e")


@pytest.mark.parametrize("order", list(itertools.permutations(range(5))))
def test_the_view_is_the_same_in_any_order_of_arrival(order):
    records = [
        exp_record("a", 1, 1, OLD),
        trial_record("b", 1, 2, "u1"),
        tomb_record("a", 2, 3, "u1"),
        exp_record("a", 3, 4, NEW),
        trial_record("c", 1, 5, "u2", "t3"),
    ]
    view = HistoryView(records[i] for i in order)
    assert view.experiment("e") == NEW
    assert [t.id for t in view.trials("e")] == ["t3"]


def test_trials_that_arrive_before_their_experiment_show_when_it_does():
    view = HistoryView([trial_record("b", 1, 2, "u1")])
    assert view.trials("e") == []
    view.apply(exp_record("a", 1, 1, OLD))
    assert [t.id for t in view.trials("e")] == ["t"]


def test_experiments_stored_before_uids_existed_still_show_their_trials():
    legacy = dataclasses.replace(OLD, uid="")
    view = HistoryView([exp_record("a", 1, 1, legacy), trial_record("a", 2, 2, "")])
    assert [t.id for t in view.trials("e")] == ["t"]
    assert (
        Trial.from_json(b'{"id":"t","experiment":"e","params":{},"status":4}').experiment_uid == ""
    )


def test_two_definitions_submitted_at_once_one_runs_and_the_other_is_shown_set_aside():
    other = dataclasses.replace(OLD, uid="u9", space={"x": "uniform(0, 5)"}, created=2.0)
    view = HistoryView(
        [
            exp_record("a", 1, 10, OLD),
            exp_record("b", 1, 11, other),  # b wrote later: b's definition is the one shown
            trial_record("a", 2, 12, "u1"),
            trial_record("b", 2, 13, "u9", "t2"),
        ]
    )
    assert view.experiment("e") == other
    assert [t.id for t in view.trials("e")] == ["t2"]  # never a mix of the two
    assert view.set_aside("e") == [("a", OLD)]
    message = summarize_in(view, view.experiment("e")).message
    assert "also submitted on a at the same time with another definition" in message
