"""Multi-fidelity experiments in the daemon: leases of steps instead of whole trials.

An algorithm such as ``asha`` answers an idle slot with a ``Lease``: a new point, or the thaw of
a frozen trial, with a budget of steps that the command receives as its fidelity flag. A thaw is
a new attempt of the same trial (a claim, so two nodes that thaw at once resolve like any two
claims), taken where its checkpoint is (``thawer``): on the node that froze it, else on the peer
holding its copy, else, while both are busy, on a free node that fetches it. While a trial runs,
the algorithm judges each report (``go_on``); one it pauses is asked to stop (see ``freezing``).
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
from metaoptd.checkpoints import SHARED_DIR
from metaoptd.decisions import owner


@dataclasses.dataclass(frozen=True)
class Outlook:
    """What an experiment can lease now: ``exhausted`` when nothing is left for anyone."""

    exhausted: bool
    thaws: int  # 1 when the next lease is a thaw this node may take, else 0


def thawer(trial: Trial, alive: Set[str], busy: Set[str] = frozenset()) -> str | None:
    """The node that thaws this frozen trial now; None while no live node has its checkpoint.

    Its holder, else the live peer holding its copy; when those are ``busy`` (no free slot),
    or the copy is in the shared folder, the free node that rendezvous hashing picks, which
    fetches the checkpoint (or reads the shared copy). Every node computes the same from the
    same view and cards; two that differ resolve like two claims.
    """
    places = [n for n in (trial.node, trial.copy_node) if n and n in alive]
    shared = trial.copy_node == SHARED_DIR
    if not places and not shared:
        return None
    free = [n for n in places if n not in busy]
    if free:
        return free[0]
    return owner(trial.id, alive - busy) or (places[0] if places else owner(trial.id, alive))


def outlook(
    algo: MultiFidelityAlgorithm,
    exp: Experiment,
    history: SearchHistory,
    node: str,
    alive: Set[str],
    busy: Set[str] = frozenset(),
) -> Outlook:
    """A thaw is this node's to take when ``thawer`` picks it; one another node takes keeps
    the experiment going; one whose checkpoint no live node has waits, and does not hold the
    experiment open."""
    lease = algo.lease_for(history)
    if lease is None:
        return Outlook(True, 0)
    no_new = lifecycle.new_allowed(exp, history.trials) == 0
    if lease.is_thaw:
        frozen = next((t for t in history.trials if t.id == lease.trial_id), None)
        taker = thawer(frozen, alive, busy) if frozen is not None else None
        if taker == node:
            return Outlook(False, 1)
        return Outlook(no_new and taker is None, 0)
    return Outlook(no_new, 0)


def take(
    algo: MultiFidelityAlgorithm,
    history: SearchHistory,
    count: int,
    node: str,
    alive: Set[str],
    busy: Set[str] = frozenset(),
) -> list[Lease]:
    """Up to ``count`` leases for this node, each counted as running before the next is
    decided; a thaw that ``thawer`` gives another node is left to it."""
    trials = list(history.trials)
    out: list[Lease] = []
    for _ in range(count + len(trials)):
        if len(out) == count:
            break
        lease = algo.lease(dataclasses.replace(history, trials=trials))
        if lease is None:
            break
        held = next((t for t in trials if t.id == lease.trial_id), None)
        if held is None or thawer(held, alive, busy) == node:
            out.append(lease)
        trials = [_running(t) if t.id == lease.trial_id else t for t in trials]
        if not lease.is_thaw:
            trials.append(Trial(trial_id("", lease.params), "", lease.params, TrialStatus.RUNNING))
    return out


def command_params(algo: MultiFidelityAlgorithm, trial: Trial) -> dict[str, object]:
    """The trial's parameters with its fidelity flag set to its budget."""
    return {**trial.params, algo.fidelity_name: trial.budget or algo.fidelity.high}


def _running(trial: Trial) -> Trial:
    return dataclasses.replace(trial, status=TrialStatus.RUNNING)
