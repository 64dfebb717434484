"""The decentralized rules, tabled: what `decide` does with a view, members and slots."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from metaopt._core import Record
from metaopt.records import CurveIncrement
from metaopt.records import Experiment
from metaopt.records import ExperimentStatus
from metaopt.records import HistoryView
from metaopt.records import Tombstone
from metaopt.records import Trial
from metaopt.records import TrialStatus
from metaopt.records import curve_key
from metaopt.records import experiment_key
from metaopt.records import tombstone_key
from metaopt.records import trial_key
from metaoptd.decisions import End
from metaoptd.decisions import Propose
from metaoptd.decisions import Requeue
from metaoptd.decisions import Situation
from metaoptd.decisions import Start
from metaoptd.decisions import Stop
from metaoptd.decisions import decide
from metaoptd.decisions import owner

S = TrialStatus
EXP = Experiment("e", ("p",), "/", {"x": "uniform(0, 1)"}, max_trials=4, uid="u", created=1.0)
_versions = itertools.count(1)


def view_of(*items: Experiment | Trial | Tombstone) -> HistoryView:
    view = HistoryView()
    for item in items:
        v = next(_versions)
        if isinstance(item, Experiment):
            view.apply(Record("writer", experiment_key(item.name), v, v, item.to_json()))
        elif isinstance(item, Tombstone):
            view.apply(
                Record("writer", tombstone_key(item.experiment, item.uid), v, v, item.to_json())
            )
        else:
            record = Record(item.node, trial_key(item.experiment, item.id), v, v, item.to_record())
            view.apply(record)
            if item.curve:
                inc = CurveIncrement.of(item, 0, item.curve)
                key = curve_key(item.experiment, item.id, item.attempt, 0)
                view.apply(Record(item.node, key, v, v, inc.to_json()))
    return view


def trial(tid: str, node: str, status: TrialStatus, attempt: int = 1, claim: int = 10) -> Trial:
    curve = ((0, {"loss": 1.0}),) if status == S.COMPLETED else ()
    return Trial(
        tid, "e", {"x": 0.5}, status, node=node, attempt=attempt, claim_hlc=claim,
        experiment_uid="u", curve=curve, ended=1.0 if status.is_finished() else None,
    )  # fmt: skip


def situation(view: HistoryView, node: str = "a", **kw: object) -> Situation:
    base: dict[str, object] = {
        "node": node,
        "view": view,
        "alive": {"a", "b", "c"},
        "dead": set(),
        "settled": True,
        "free_slots": 1,
        "running": {},
        "exhausted": {"e": False},
    }
    return Situation(**{**base, **kw})  # type: ignore[arg-type]


def test_a_lost_claim_is_stopped():
    view = view_of(EXP, trial("t", "a", S.RUNNING, claim=20), trial("t", "b", S.RUNNING, claim=10))
    running = {("e", "t"): (1, 20, "a")}
    assert Stop(("e", "t"), "lost claim") in decide(situation(view, running=running))
    winner = situation(view, node="b", running={("e", "t"): (1, 10, "b")})
    assert not [a for a in decide(winner) if isinstance(a, Stop)]


def test_a_stop_or_a_deletion_from_any_node_stops_the_trials_here():
    running = {("e", "t"): (1, 10, "a")}
    mine = trial("t", "a", S.RUNNING)
    stopped = view_of(dataclasses.replace(EXP, status=ExperimentStatus.STOPPED), mine)
    assert decide(situation(stopped, running=running)) == [Stop(("e", "t"), "stopped")]
    deleted = view_of(EXP, mine, Tombstone("e", "u"))
    assert decide(situation(deleted, running=running)) == [Stop(("e", "t"), "deleted")]


def test_a_trial_of_a_definition_set_aside_is_stopped():
    """Its experiment was submitted elsewhere at once, differently, and that one won."""
    mine = dataclasses.replace(trial("t", "a", S.RUNNING), experiment_uid="lost")
    view = view_of(EXP, mine)
    actions = decide(situation(view, free_slots=0, running={("e", "t"): (1, 10, "a")}))
    assert actions == [Stop(("e", "t"), "set aside")]


def test_an_own_copy_with_no_process_is_requeued():
    view = view_of(EXP, trial("t", "a", S.RUNNING))
    assert Requeue(("e", "t")) in decide(situation(view, free_slots=0))
    others = situation(view, node="b", free_slots=0)
    assert not [a for a in decide(others) if isinstance(a, Requeue)]


def test_a_requeued_trial_goes_back_to_the_node_that_ran_it_while_it_lives():
    view = view_of(EXP, trial("t", "b", S.INTERRUPTED))
    starts = {
        n: [a for a in decide(situation(view, node=n)) if isinstance(a, Start)] for n in "abc"
    }
    assert [a.trial.id for a in starts["b"]] == ["t"]
    assert starts["a"] == starts["c"] == []


@pytest.mark.parametrize("tid", [f"t{i}" for i in range(12)])
def test_a_dead_members_trial_is_adopted_by_exactly_one_live_node(tid):
    view = view_of(EXP, trial(tid, "c", S.RUNNING))
    takers = []
    for node in "ab":
        s = situation(view, node=node, alive={"a", "b"}, dead={"c"})
        starts = [a for a in decide(s) if isinstance(a, Start)]
        if starts:
            assert starts == [Start(view.trial("e", tid), "c")]
            takers.append(node)
    assert takers == [owner(tid, {"a", "b"})]


def test_a_claimant_never_heard_of_is_dead_only_once_this_node_has_settled():
    view = view_of(EXP, trial("t", "z", S.RUNNING))
    taker = owner("t", {"a", "b", "c"})
    early = decide(situation(view, node=taker, settled=False))
    assert not [a for a in early if isinstance(a, Start)]
    assert [a for a in decide(situation(view, node=taker)) if isinstance(a, Start)]


def test_new_points_respect_max_trials_the_slots_and_a_proposal_in_flight():
    view = view_of(EXP, trial("t1", "b", S.COMPLETED), trial("t2", "c", S.RUNNING))
    assert decide(situation(view, free_slots=4)) == [Propose("e", 2)]  # 4 - completed - running
    assert decide(situation(view, free_slots=1)) == [Propose("e", 1)]
    assert decide(situation(view, free_slots=4, proposing={"e"})) == []
    assert decide(situation(view, free_slots=4, exhausted={"e": True})) == []
    assert decide(situation(view, free_slots=4, focus={"other"})) == []


def test_the_experiment_is_ended_by_its_owner_alone():
    done = [trial(f"t{i}", "b", S.COMPLETED) for i in range(4)]
    view = view_of(EXP, *done)
    ends = {n: [a for a in decide(situation(view, node=n)) if isinstance(a, End)] for n in "abc"}
    steward = owner("e", {"a", "b", "c"})
    assert [a.status for a in ends[steward]] == [ExperimentStatus.DONE]
    assert all(ends[n] == [] for n in "abc" if n != steward)


def test_a_dead_members_trial_does_not_hold_the_end_of_an_exhausted_search():
    view = view_of(EXP, trial("t1", "b", S.COMPLETED), trial("t2", "c", S.RUNNING))
    steward = owner("e", {"a", "b"})
    s = situation(view, node=steward, alive={"a", "b"}, dead={"c"}, exhausted={"e": True})
    actions = decide(s)
    assert not [a for a in actions if isinstance(a, End)]  # t2 is requeued: it runs again first
    assert [a.trial.id for a in actions if isinstance(a, Start)] in ([], ["t2"])
