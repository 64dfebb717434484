"""Multi-fidelity experiments in the daemon: leases of steps instead of whole trials.

An algorithm such as ``asha`` answers an idle slot with a ``Lease``: a new point, or the thaw of
a frozen trial, with a budget of steps that the command receives as its fidelity flag. A thaw is
a new attempt of the same trial (a claim, so two nodes that thaw at once resolve like any two
claims) and is taken by the node that holds the checkpoint. While a trial runs, the algorithm
judges each report (``go_on``); one it pauses is asked to stop (see ``freezing``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Set

from metaopt.algo import Lease
from metaopt.algo import MultiFidelityAlgorithm
from metaopt.algo import SearchHistory
from metaopt.records import Experiment
from metaopt.records import Trial
from metaopt.records import TrialStatus
from metaopt.space import trial_id
from metaoptd import lifecycle


@dataclasses.dataclass(frozen=True)
class Outlook:
    """What an experiment can lease now: ``exhausted`` when nothing is left for anyone."""

    exhausted: bool
    thaws: int  # 1 when the next lease is a thaw this node may take, else 0


def outlook(
    algo: MultiFidelityAlgorithm,
    exp: Experiment,
    history: SearchHistory,
    node: str,
    alive: Set[str],
) -> Outlook:
    """A thaw is this node's to take when it holds the checkpoint; one held by another live
    node keeps the experiment going (that node takes it); one held by a gone node waits for
    it, and does not hold the experiment open."""
    lease = algo.lease(history)
    if lease is None:
        return Outlook(True, 0)
    no_new = lifecycle.new_allowed(exp, history.trials) == 0
    if lease.is_thaw:
        holder = next((t.node for t in history.trials if t.id == lease.trial_id), None)
        if holder == node:
            return Outlook(False, 1)
        return Outlook(no_new and holder not in alive, 0)
    return Outlook(no_new, 0)


def take(
    algo: MultiFidelityAlgorithm, history: SearchHistory, count: int, node: str
) -> list[Lease]:
    """Up to ``count`` leases for this node, each counted as running before the next is
    decided; a thaw of a checkpoint held elsewhere is left to its holder."""
    trials = list(history.trials)
    out: list[Lease] = []
    for _ in range(count + len(trials)):
        if len(out) == count:
            break
        lease = algo.lease(dataclasses.replace(history, trials=trials))
        if lease is None:
            break
        held = next((t for t in trials if t.id == lease.trial_id), None)
        if held is None or held.node == node:
            out.append(lease)
        trials = [_running(t) if t.id == lease.trial_id else t for t in trials]
        if not lease.is_thaw:
            trials.append(Trial(trial_id("", lease.params), "", lease.params, TrialStatus.RUNNING))
    return out


def command_params(algo: MultiFidelityAlgorithm, trial: Trial) -> dict[str, object]:
    """The trial's parameters with its fidelity flag set to its budget."""
    return {**trial.params, algo.fidelity_name: trial.budget or algo.fidelity.high}


def steps(trial: Trial) -> int:
    return len(trial.curve)


def _running(trial: Trial) -> Trial:
    return dataclasses.replace(trial, status=TrialStatus.RUNNING)
