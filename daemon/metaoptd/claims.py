"""The records a node writes about the trials it runs, built the same way by metaoptd and by its
cluster simulation: a claim, a requeue, an ending, the increments of a curve.

Each starts from this node's own copy (a claim from the trial as the view shows it, since a
claim is a new copy of our own) and returns the (key, value) items to write.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from metaopt.records import CurveIncrement
from metaopt.records import Experiment
from metaopt.records import Metrics
from metaopt.records import Trial
from metaopt.records import TrialStatus
from metaopt.records import curve_key
from metaopt.records import trial_key
from metaopt.space import trial_id

Item = tuple[str, bytes]


def fresh(exp: Experiment, params: dict[str, object], now: float) -> Trial:
    """A point the algorithm proposed, before anyone claimed it."""
    return Trial(trial_id(exp.name, params), exp.name, params, created=now, experiment_uid=exp.uid)


def claim(
    trial: Trial,
    node: str,
    hlc: int,
    now: float,
    slot: str | None,
    gpu: str | None,
    budget: int | None = None,
) -> Trial:
    """Our copy for the next attempt of ``trial``: the claim stamp is fixed here, for good.

    ``budget`` is a thaw's new lease; a rerun or an adoption keeps the attempt's budget.
    """
    return Trial(
        trial.id,
        trial.experiment,
        trial.params,
        TrialStatus.RESERVED,
        node=node,
        attempt=trial.attempt + 1,
        claim_hlc=hlc,
        created=trial.created,
        started=now,
        slot=slot,
        gpu=gpu,
        experiment_uid=trial.experiment_uid,
        budget=budget if budget is not None else trial.budget,
    )


def requeued(own: Trial, now: float) -> Trial:
    """Our copy of a trial whose process is gone without an outcome (it died with a daemon)."""
    return dataclasses.replace(own, status=TrialStatus.INTERRUPTED, ended=now, pid=None)


def ended(
    own: Trial,
    status: TrialStatus,
    now: float,
    exit_code: int | None = None,
    signal: int | None = None,
    stderr_tail: str = "",
) -> Trial:
    return dataclasses.replace(
        own, status=status, ended=now, exit_code=exit_code, signal=signal, stderr_tail=stderr_tail
    )


def copy_item(own: Trial) -> Item:
    return (trial_key(own.experiment, own.id), own.to_record())


def increment_item(own: Trial, seq: int, steps: Iterable[tuple[int, Metrics]]) -> Item:
    """The ``seq``-th increment of our claim's curve."""
    increment = CurveIncrement.of(own, seq, steps)
    return (curve_key(own.experiment, own.id, own.attempt, seq), increment.to_json())


def next_seq(increments: Iterable[CurveIncrement], own: Trial) -> int:
    """After a restart: how many increments of our claim are written already."""
    return sum(1 for i in increments if i.claim == own.claim)
