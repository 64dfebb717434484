"""The merge rule, case by case; curves as increments; records of other format versions."""

from __future__ import annotations

import itertools
import json
import logging
import random

import pytest

from metaopt._core import Record
from metaopt._core import encode_record
from metaopt.records import CurveIncrement
from metaopt.records import Experiment
from metaopt.records import HistoryView
from metaopt.records import Trial
from metaopt.records import TrialStatus
from metaopt.records import curve_key
from metaopt.records import experiment_key
from metaopt.records import merge_trial
from metaopt.records import trial_key

S = TrialStatus
EXP = Experiment("e", ("p", "--x~uniform(0, 1)"), "/", {"x": "uniform(0, 1)"}, uid="u")


def copy(node: str, status: TrialStatus, attempt: int, claim: int) -> Trial:
    return Trial("t", "e", {"x": 0.5}, status, node=node, attempt=attempt, claim_hlc=claim)


# (copies as (node, status, attempt, claim HLC), the winner's node, why)
CASES = [
    ([("a", S.RUNNING, 1, 10), ("b", S.RUNNING, 1, 20)], "a", "earlier claim of one attempt"),
    ([("a", S.RUNNING, 1, 20), ("b", S.RUNNING, 1, 10)], "b", "the stamp, not the node, decides"),
    ([("a", S.RUNNING, 1, 10), ("b", S.INTERRUPTED, 1, 20)], "a", "a loser's last words"),
    ([("a", S.INTERRUPTED, 1, 10), ("b", S.RUNNING, 1, 20)], "a", "a lost claim stays lost"),
    ([("a", S.INTERRUPTED, 1, 10), ("b", S.RUNNING, 2, 30)], "b", "a rerun is a new attempt"),
    ([("a", S.RUNNING, 1, 10), ("b", S.RUNNING, 2, 30)], "b", "an adoption supersedes"),
    ([("a", S.COMPLETED, 1, 10), ("b", S.RUNNING, 2, 30)], "a", "a result is never lost"),
    ([("a", S.RUNNING, 1, 10), ("b", S.COMPLETED, 1, 20)], "b", "a lost claim that finished"),
    ([("a", S.FAILED, 1, 10), ("b", S.COMPLETED, 1, 20)], "b", "completed beats failed"),
    ([("a", S.COMPLETED, 1, 10), ("b", S.COMPLETED, 2, 30)], "b", "two results: latest attempt"),
    ([("a", S.COMPLETED, 1, 10), ("b", S.COMPLETED, 1, 20)], "a", "two results: earlier claim"),
    ([("b", S.RUNNING, 1, 10), ("a", S.RUNNING, 1, 10)], "a", "one stamp: smaller node id"),
    ([("a", S.FAILED, 2, 30), ("b", S.INTERRUPTED, 1, 10)], "a", "failed, later attempt"),
]


@pytest.mark.parametrize(("copies", "winner", "why"), CASES, ids=[c[2] for c in CASES])
def test_merge_rule(copies, winner, why):
    trials = [copy(*c) for c in copies]
    for order in itertools.permutations(trials):
        assert merge_trial(order).node == winner, why


def test_reports_and_status_changes_never_move_the_winner():
    """The bug of merging on write time: each report flipped the winner between two nodes."""
    a = copy("a", S.RUNNING, 1, 10)
    b = copy("b", S.RUNNING, 1, 20)
    view = HistoryView([Record("x", experiment_key("e"), 1, 1, _exp("")), *_writes(a, b)])
    assert view.trial("e", "t").node == "a"


def _exp(uid: str) -> bytes:
    return Experiment("e", ("p",), "/", {}, uid=uid).to_json()


def _writes(a: Trial, b: Trial) -> list[Record]:
    """Both nodes write their copy many times, b's always with the later clock."""
    records = []
    for version in range(1, 20):
        records.append(Record("a", trial_key("e", "t"), version, 100 + 2 * version, a.to_record()))
        records.append(Record("b", trial_key("e", "t"), version, 101 + 2 * version, b.to_record()))
    return records


def increment(node: str, attempt: int, claim: int, seq: int, steps: dict[int, float]) -> Record:
    inc = CurveIncrement(
        "e", "t", "u", attempt, claim, node, seq, tuple((s, {"loss": v}) for s, v in steps.items())
    )
    return Record(node, curve_key("e", "t", attempt, seq), seq + 1, seq + 1, inc.to_json())


def curve_view(records: list[Record]) -> list[tuple[int, float]]:
    view = HistoryView(records)
    trial = view.trial("e", "t")
    assert trial is not None
    return [(step, metrics["loss"]) for step, metrics in trial.curve]


def test_the_curve_is_composed_from_increments_in_any_order_of_arrival():
    base = [
        Record("a", experiment_key("e"), 1, 1, EXP.to_json()),
        Record("a", trial_key("e", "t"), 9, 9, _uid(copy("a", S.RUNNING, 1, 10))),
    ]
    incs = [
        increment("a", 1, 10, 0, {0: 3.0, 1: 2.0}),
        increment("a", 1, 10, 1, {1: 1.5, 2: 1.0}),  # step 1 reported again: its last value
        increment("a", 1, 10, 2, {3: 0.5}),
    ]
    expected = [(0, 3.0), (1, 1.5), (2, 1.0), (3, 0.5)]
    for order in itertools.permutations(base + incs):
        assert curve_view(list(order)) == expected


def test_a_lost_claims_reports_are_left_out_and_a_later_attempt_goes_on_from_a_checkpoint():
    records = [
        Record("a", experiment_key("e"), 1, 1, EXP.to_json()),
        Record("a", trial_key("e", "t"), 5, 5, _uid(copy("a", S.INTERRUPTED, 1, 10))),
        Record("b", trial_key("e", "t"), 5, 5, _uid(copy("b", S.RUNNING, 2, 40))),
        Record("c", trial_key("e", "t"), 5, 5, _uid(copy("c", S.INTERRUPTED, 1, 20))),
        increment("a", 1, 10, 0, {0: 3.0, 1: 2.0, 2: 1.8}),
        increment("c", 1, 20, 0, {0: 99.0, 5: 99.0}),  # c lost attempt 1 to a: not shown
        increment("b", 2, 40, 0, {2: 1.5, 3: 1.2}),  # b resumed from a's checkpoint at step 2
    ]
    assert curve_view(records) == [(0, 3.0), (1, 2.0), (2, 1.5), (3, 1.2)]


def _uid(trial: Trial) -> bytes:
    body = json.loads(trial.to_record())
    body["experiment_uid"] = "u"
    return json.dumps(body).encode()


def test_an_increment_costs_the_same_whatever_the_length_of_the_curve():
    rng = random.Random(1)
    sizes = {}
    for steps_before in (10, 1_000):
        steps = {steps_before: rng.random()}  # one new step, after steps_before earlier ones
        record = increment("node-a", 1, 123456789, steps_before, steps)
        sizes[steps_before] = len(encode_record(record))
    assert sizes[1_000] - sizes[10] <= 8  # more digits in step, seq and version; nothing more
    whole = Trial("t", "e", {}, curve=tuple((s, {"loss": 0.5}) for s in range(1_000)))
    assert len(whole.to_json()) > 50 * sizes[1_000]  # what each report cost when it was whole


def test_records_of_a_newer_format_or_status_are_kept_out_and_said_once(caplog):
    newer = json.loads(_uid(copy("b", S.RUNNING, 2, 40)))
    newer["v"] = 99
    odd_status = json.loads(_uid(copy("c", S.RUNNING, 3, 50)))
    odd_status["status"] = 42
    records = [
        Record("a", experiment_key("e"), 1, 1, EXP.to_json()),
        Record("a", trial_key("e", "t"), 5, 5, _uid(copy("a", S.RUNNING, 1, 10))),
        Record("b", trial_key("e", "t"), 5, 5, json.dumps(newer).encode()),
        Record("b", trial_key("e", "u"), 6, 6, json.dumps(newer).encode()),
        Record("c", trial_key("e", "t"), 5, 5, json.dumps(odd_status).encode()),
    ]
    with caplog.at_level(logging.WARNING, logger="metaopt"):
        view = HistoryView(records)
    trial = view.trial("e", "t")
    assert trial is not None
    assert trial.node == "a"  # what this node can read still merges as ever
    messages = [r.getMessage() for r in caplog.records]
    assert sum("record format 99" in m for m in messages) == 1  # once, not per record
    assert sum("trial status 42" in m for m in messages) == 1
    assert all("upgrade this node" in m for m in messages)


def test_a_copy_stored_before_formats_had_versions_is_read_with_its_curve():
    legacy = {
        "id": "t",
        "experiment": "e",
        "params": {"x": 0.5},
        "status": 4,
        "node": "a",
        "attempt": 1,
        "curve": [[0, {"loss": 2.0}], [1, {"loss": 1.0}]],
        "experiment_uid": "u",
    }
    records = [
        Record("a", experiment_key("e"), 1, 1, EXP.to_json()),
        Record("a", trial_key("e", "t"), 2, 2, json.dumps(legacy).encode()),
    ]
    assert curve_view(records) == [(0, 2.0), (1, 1.0)]
