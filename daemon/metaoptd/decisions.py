"""Every decision a node takes, as one pure function of what it knows: the decentralized rules.

``decide(situation)`` returns the actions for this moment: stop a trial (a lost claim, an
experiment stopped or deleted elsewhere), requeue an orphan of our own, end an experiment, start
a trial that this node owns (a requeued one, or one of a dead member), propose a new point. The
daemon carries the actions out on real processes; the cluster simulation carries them out in
virtual time; the tests table them. Nothing here reads a clock, a socket or a file.

A requeued trial is taken up again by the node that ran it, while that node lives (its
checkpoint is there). A trial of a dead member is adopted by the peer holding the copy of its
checkpoint, else by the live member that rendezvous hashing picks: the one whose hash with the
trial id is highest. Every node computes the same taker from the same view and members, so each
trial is taken up by one node, and a split view that picks two resolves like two claims (the
merge rule: the earlier claim keeps it). A taker
with no free slot does not hold a trial up: after PATIENCE seconds any node with one takes it.
Experiments are ended by their owner, picked the same way from the experiment's name.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Set

from metaopt.records import ExperimentStatus
from metaopt.records import HistoryView
from metaopt.records import Trial
from metaopt.records import TrialStatus
from metaoptd import lifecycle
from metaoptd.scheduler import Demand
from metaoptd.scheduler import fair_share

TrialKey = tuple[str, str]  # (experiment, trial id)
PATIENCE = 3.0  # seconds a waiting trial is left to its first taker before anyone takes it
Claim = tuple[int, int, str]  # Trial.claim


@dataclasses.dataclass(frozen=True)
class Situation:
    node: str
    view: HistoryView
    alive: Set[str]  # members alive or suspected (not yet declared dead), this node included
    dead: Set[str]  # members declared dead, or gone (left)
    # A member long enough to hold the cluster's history: before, it starts and ends nothing;
    # after, a claimant it never heard of counts as dead. Always true for a node alone.
    settled: bool
    free_slots: int
    running: Mapping[TrialKey, Claim]  # this node's trial processes and the claims they run
    exhausted: Mapping[str, bool]  # per running experiment: no point left to propose
    proposing: Set[str] = frozenset()  # experiments whose algorithm is proposing right now
    now: float = 0.0  # seconds, on the host's clock
    waiting: Mapping[TrialKey, float] = dataclasses.field(default_factory=dict)  # first seen
    focus: Set[str] | None = None  # an embedded daemon's experiments; None: every one
    # per multi-fidelity experiment: frozen trials this node may thaw now, beyond new points
    thaws: Mapping[str, int] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Stop:
    key: TrialKey
    why: str  # "lost claim", "stopped", "deleted"


@dataclasses.dataclass(frozen=True)
class Requeue:
    """Our own copy says it runs here, but no process of ours runs it: it died with a daemon."""

    key: TrialKey


@dataclasses.dataclass(frozen=True)
class End:
    experiment: str
    status: ExperimentStatus
    message: str


@dataclasses.dataclass(frozen=True)
class Start:
    """Claim a new attempt of a trial that exists: requeued, or adopted from a dead member."""

    trial: Trial
    adopted_from: str | None  # the dead claimant, for an adoption


@dataclasses.dataclass(frozen=True)
class Propose:
    """Ask the experiment's algorithm for ``count`` new points (or leases), one per slot."""

    experiment: str
    count: int


Action = Stop | Requeue | End | Start | Propose


def decide(s: Situation) -> list[Action]:
    if not s.settled:  # a node just (re)started may not hold the history yet: it only tidies up
        return [*_stops(s), *_requeues(s)]
    actions: list[Action] = [*_stops(s), *_requeues(s), *_ends(s)]
    ending = {a.experiment for a in actions if isinstance(a, End)}
    taken: list[Demand] = []  # trials waiting to run again: they go before any new point
    fresh: list[Demand] = []
    owned: dict[str, list[Trial]] = {}
    here: dict[str, int] = {}
    for exp in s.view.experiments():
        if exp.status != ExperimentStatus.RUNNING or exp.name in ending:
            continue
        if s.focus is not None and exp.name not in s.focus:
            continue
        trials = s.view.trials(exp.name)
        owned[exp.name] = [t for t in _takeable(s, trials) if _may_take(s, t)]
        here[exp.name] = sum(1 for key in s.running if key[0] == exp.name)
        if owned[exp.name]:
            taken.append(Demand(exp.name, here[exp.name], len(owned[exp.name]), exp.created))
        if not s.exhausted.get(exp.name, True) and exp.name not in s.proposing:
            new = lifecycle.new_allowed(exp, trials) - len(owned[exp.name])
            new += s.thaws.get(exp.name, 0)
            if new > 0:
                fresh.append(Demand(exp.name, 0, new, exp.created))
    for name in fair_share(s.free_slots, taken):
        trial = owned[name].pop(0)
        here[name] += 1
        dead = trial.node if trial.status.is_active() and trial.node != s.node else None
        actions.append(Start(trial, dead))
    left = s.free_slots - sum(1 for a in actions if isinstance(a, Start))
    fresh = [dataclasses.replace(d, running=here[d.experiment]) for d in fresh]
    proposals: dict[str, int] = {}
    for name in fair_share(left, fresh):
        proposals[name] = proposals.get(name, 0) + 1
    actions.extend(Propose(name, count) for name, count in proposals.items())
    return actions


def owner(name: str, members: Iterable[str]) -> str | None:
    """The member that rendezvous hashing picks for ``name``; None when there is none."""
    return max(members, key=lambda m: _score(name, m), default=None)


def _score(name: str, member: str) -> bytes:
    return hashlib.blake2b(f"{name}\0{member}".encode(), digest_size=8).digest()


def _stops(s: Situation) -> Iterable[Stop]:
    for key, claim in s.running.items():
        exp = s.view.experiment(key[0])
        if exp is None:
            yield Stop(key, "deleted")
            continue
        if exp.status == ExperimentStatus.STOPPED:
            yield Stop(key, "stopped")
            continue
        merged = s.view.trial(*key)
        if merged is None:  # its experiment was submitted elsewhere at once, and that one won
            yield Stop(key, "set aside")
        elif merged.claim != claim:
            yield Stop(key, "lost claim")


def _requeues(s: Situation) -> Iterable[Requeue]:
    for exp in s.view.experiments():
        for merged in s.view.trials(exp.name):
            key = (exp.name, merged.id)
            if merged.node != s.node:  # a copy of ours that lost can never win: let it be
                continue
            mine = s.view.copy(exp.name, merged.id, s.node)
            if mine is not None and mine.status.is_active() and key not in s.running:
                yield Requeue(key)


def _ends(s: Situation) -> Iterable[End]:
    """Ends are written by one node at a time: the experiment's owner among live members."""
    for exp in s.view.experiments():
        if exp.status != ExperimentStatus.RUNNING or owner(exp.name, s.alive) != s.node:
            continue
        if s.focus is not None and exp.name not in s.focus:
            continue
        trials = [_as_seen(s, t) for t in s.view.trials(exp.name)]
        ended = lifecycle.end_state(exp, trials, s.exhausted.get(exp.name, False))
        if ended is not None:
            yield End(exp.name, *ended)


def _takeable(s: Situation, trials: list[Trial]) -> list[Trial]:
    """Trials waiting for a node: requeued ones, and those whose claimant is gone."""
    out = []
    for trial in trials:
        if (trial.experiment, trial.id) in s.running:
            continue
        # An active trial runs nowhere if its claimant is gone, or if it is ours (we would
        # run it): an orphan of our own, being requeued, is taken up in the same decision.
        if trial.status.is_runnable() or (
            trial.status.is_active() and (_gone(s, trial.node) or trial.node == s.node)
        ):
            out.append(trial)
    return out


def waiting(s: Situation) -> list[TrialKey]:
    """The trials waiting for a node now: the host notes when it first saw each (``waiting``)."""
    out = []
    for exp in s.view.experiments():
        if exp.status == ExperimentStatus.RUNNING:
            out += [(t.experiment, t.id) for t in _takeable(s, s.view.trials(exp.name))]
    return out


def _may_take(s: Situation, trial: Trial) -> bool:
    """Its first taker at once; the others in turn, once it has waited for them here.

    The first taker is its last claimant while that node lives (its checkpoint is there), else
    the peer holding a copy of its checkpoint, else the live member rendezvous hashing picks.
    That node may have no free slot for a while: the next ones in rendezvous order may take it
    after PATIENCE seconds each, and every live node after three times that. Two that take it
    at once resolve like any two claims.
    """
    places = (trial.node, trial.copy_node)  # where its checkpoint is: it resumes from there
    first = next((n for n in places if n in s.alive and not _gone(s, n)), None)
    order = sorted(s.alive, key=lambda m: _score(trial.id, m), reverse=True)
    if first is not None:
        order.remove(first)
        order.insert(0, first)
    rank = order.index(s.node) if s.node in order else len(order)
    if rank == 0:
        return True
    since = s.waiting.get((trial.experiment, trial.id))
    return since is not None and s.now - since >= PATIENCE * min(rank, 3)


def _as_seen(s: Situation, trial: Trial) -> Trial:
    """A trial of a dead claimant is not running any more, whatever its last copy says."""
    if trial.status.is_active() and _gone(s, trial.node):
        return dataclasses.replace(trial, status=TrialStatus.INTERRUPTED)
    return trial


def _gone(s: Situation, node: str) -> bool:
    if node == s.node:
        return False  # our own: re-adopted or requeued by this node itself
    if node in s.dead:
        return True
    return s.settled and node not in s.alive
