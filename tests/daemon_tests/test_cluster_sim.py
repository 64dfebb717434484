"""The decentralized rules, proved on simulated clusters: 500 seeds of 3 to 20 daemons.

A failing seed names the command that replays it, told step by step:
``python -m metaoptd.cluster_sim --seed S --nodes N``.
"""

from __future__ import annotations

import pytest

import metaopt.records._view as records_view
from metaoptd import decisions
from metaoptd.cluster_sim import nodes_for
from metaoptd.cluster_sim import simulate


@pytest.mark.parametrize("seed", range(500))
def test_every_invariant_holds(seed):
    cluster, problems = simulate(seed, nodes_for(seed))
    assert not problems, "\n".join([*problems, f"replay: {cluster.scenario.command()}"])


def test_a_seed_replays_exactly():
    first, _ = simulate(11, 6)
    second, _ = simulate(11, 6)
    assert first.sim.trace_hash() == second.sim.trace_hash()
    assert [d.replica.view.digest() for d in first.daemons] == [
        d.replica.view.digest() for d in second.daemons
    ]
    assert [(r.node, r.key, r.start_ms, r.outcome) for r in first.runs] == [
        (r.node, r.key, r.start_ms, r.outcome) for r in second.runs
    ]


def test_the_runs_exercise_the_rules():
    """Crashes, partitions, lost claims and adoptions all happen: the invariants have work."""
    kinds = set()
    for seed in range(40):
        cluster, _ = simulate(seed, nodes_for(seed))
        kinds.update(cluster.counts)
        kinds.update(f.kind for f in cluster.scenario.faults)
    assert {"crash", "partition", "loss", "adopt", "stop (lost claim)", "requeue"} <= kinds


def test_trials_are_frozen_and_thawed_across_the_runs():
    """The early-stopping experiment freezes trials at rungs and thaws them: claims of thaws,
    under crashes and partitions, are checked like every other claim."""
    frozen = thawed = 0
    for seed in range(10):
        cluster, _ = simulate(seed, nodes_for(seed))
        runs = [r for r in cluster.runs if r.key[0] == "asha"]
        frozen += sum(1 for r in runs if r.outcome == "frozen")
        thawed += sum(1 for r in runs if r.attempt > 1 and r.outcome in ("frozen", "completed"))
    assert frozen > 50
    assert thawed > 20


def _failing(seeds: range) -> list[int]:
    return [seed for seed in seeds if simulate(seed, nodes_for(seed))[1]]


def test_a_lost_claim_that_goes_on_running_is_caught(monkeypatch):
    """Break one rule on purpose, and the same checks fail: they are not vacuous."""
    stops = decisions._stops
    monkeypatch.setattr(
        decisions, "_stops", lambda s: [x for x in stops(s) if x.why != "lost claim"]
    )
    assert _failing(range(30))


def test_a_result_that_a_later_attempt_hides_is_caught(monkeypatch):
    """The merge rule without "completed first": a node shows a result it holds as running."""
    monkeypatch.setattr(
        records_view,
        "merge_trial",
        lambda copies: min(copies, key=lambda t: (-t.attempt, t.claim_hlc, t.node)),
    )
    assert _failing(range(10))
