"""Multi-fidelity search: trials that run in leases of steps and pause in between.

A space with a ``fidelity(low, high, base)`` prior names the budget, in steps (epochs). A
multi-fidelity algorithm answers two questions from the shared history:

* ``lease``: what an idle slot runs next, a new point or the thaw of a frozen trial, from which
  step to which (``Lease``);
* ``go_on``: at each report of a running trial, whether it keeps its slot. A trial told to stop
  is frozen: it keeps its checkpoint and may be thawed later, here or on another node.

A trial's identity is its point without the fidelity: the budget belongs to the lease, so a thaw
with a larger budget continues the same trial, curve and checkpoint. Time on a curve is its
number of reported steps, so the model and the rungs count what was trained, whatever the script
numbers its steps.
"""

from __future__ import annotations

import abc
import dataclasses
import math

from metaopt.algo._base import BaseAlgorithm
from metaopt.algo._base import Params
from metaopt.algo._base import SearchHistory
from metaopt.algo._random import draw_unseen
from metaopt.errors import AlgorithmError
from metaopt.records import Trial
from metaopt.space import FidelityPrior
from metaopt.space import Space


@dataclasses.dataclass(frozen=True)
class Lease:
    """Run ``params`` (trial ``trial_id``, when a thaw) from step ``start`` up to ``until``."""

    params: Params
    start: int  # steps already trained: 0 for a new point
    until: int  # the budget of this lease, in steps
    trial_id: str | None = None  # the frozen trial to thaw; None for a new point

    @property
    def is_thaw(self) -> bool:
        return self.trial_id is not None


def rungs(prior: FidelityPrior) -> list[int]:
    """The budgets at which trials are compared: low, low*base, low*base^2... and high."""
    out = [prior.low]
    while out[-1] * prior.base < prior.high:
        out.append(max(out[-1] + 1, math.floor(out[-1] * prior.base)))
    if out[-1] != prior.high:
        out.append(prior.high)
    return out


def steps_done(trial: Trial) -> int:
    return len(trial.curve)


def running_best(trial: Trial, history: SearchHistory) -> list[float]:
    """The trial's objective at each reported step, to minimize, as its best so far.

    A step without the objective repeats the last value; a NaN or infinite value ends the curve
    there (the trial diverged: what came before is all it is worth).
    """
    name = history.objective or trial.first_metric()
    sign = -1.0 if history.maximize else 1.0
    out: list[float] = []
    for _, metrics in trial.curve:
        value = metrics.get(name) if name is not None else None
        if value is None:
            if out:
                out.append(out[-1])
            continue
        if not math.isfinite(value):
            break
        out.append(min(sign * value, out[-1]) if out else sign * value)
    return out


def is_frozen(trial: Trial) -> bool:
    return trial.status.is_frozen()


class MultiFidelityAlgorithm(BaseAlgorithm):
    """A BaseAlgorithm over a space with a fidelity; points it proposes leave the fidelity out."""

    # go_on answers in microseconds; False: it may fit a model, so a daemon asks off its loop
    judges_quickly = True
    _lease_of: tuple[SearchHistory, Lease | None] | None = None  # the last lease_for

    def configure(self) -> None:
        name = self.space.fidelity
        if name is None:
            raise AlgorithmError(
                f"{self.name} needs a budget to allocate: give the space a fidelity prior, "
                "such as --epochs~'fidelity(1, 50)'"
            )
        prior = self.space[name]
        assert isinstance(prior, FidelityPrior)
        self.fidelity_name = name
        self.fidelity = prior
        self.rungs = rungs(prior)
        self.searched = Space((n, p) for n, p in self.space.items() if n != name)
        self.configure_search()

    def configure_search(self) -> None:
        """Options of the subclass; ``self.searched`` is the space without the fidelity."""
        return None

    @abc.abstractmethod
    def lease(self, history: SearchHistory) -> Lease | None:
        """What one idle slot runs next; None when there is nothing left worth running."""

    def lease_for(self, history: SearchHistory) -> Lease | None:
        """``lease`` of this history, computed again only when the history changed: a daemon
        asks at every decision, and a lease is a function of the history. Trials are records
        the view replaces when they change, so the same objects mean the same trials."""
        if self._lease_of is not None:
            seen, lease = self._lease_of
            same = (seen.objective, seen.maximize, seen.share) == (
                history.objective,
                history.maximize,
                history.share,
            ) and len(seen.trials) == len(history.trials)
            if same and all(a is b for a, b in zip(seen.trials, history.trials, strict=True)):
                return lease
        lease = self.lease(history)
        self._lease_of = (history, lease)
        return lease

    def go_on(self, history: SearchHistory, trial: Trial, until: int) -> bool:
        """Whether a running trial keeps its slot after its latest report. By default it runs
        to the end of its lease, ``until`` steps."""
        return steps_done(trial) < until

    def suggest(self, history: SearchHistory, n: int = 1) -> list[Params]:
        """New points only (thaws come from ``lease``), each without the fidelity."""
        return self.new_points(history, n)

    def new_points(self, history: SearchHistory, n: int) -> list[Params]:
        """Random points of the searched space not proposed yet; subclasses may model them."""
        rng = self.rng(history)
        if not self.searched.is_finite:  # a repeat is all but impossible: no keys to compare
            return [self.searched.sample(rng) for _ in range(n)]
        return draw_unseen(self.searched, rng, history.seen(), n, history.share)

    def is_exhausted(self, history: SearchHistory) -> bool:
        size = self.searched.cardinality()
        return (
            size is not None
            and len(history.seen()) >= size
            and not any(
                is_frozen(t) and steps_done(t) < self.fidelity.high for t in history.trials
            )
        )
