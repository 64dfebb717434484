"""Record keys. The store is ordered by key, so every trial of an experiment is one prefix scan.

Curves sort first, then tombstones, experiments and trials, so a scan of a whole store applies
each deletion and each definition before the trials they govern, and a trial's increments are
all there when its copies come to be merged.
"""

from __future__ import annotations

CURVE_PREFIX = "curve/"
TOMBSTONE_PREFIX = "deleted/"
EXPERIMENT_PREFIX = "exp/"
TRIAL_PREFIX = "trial/"


def experiment_key(name: str) -> str:
    return f"{EXPERIMENT_PREFIX}{name}"


def trial_key(experiment: str, trial_id: str) -> str:
    return f"{TRIAL_PREFIX}{experiment}/{trial_id}"


def trials_prefix(experiment: str) -> str:
    return f"{TRIAL_PREFIX}{experiment}/"


def tombstone_key(experiment: str, uid: str) -> str:
    """One key per deleted incarnation: a later experiment of the same name never overwrites it."""
    return f"{TOMBSTONE_PREFIX}{experiment}/{uid}"


def curve_key(experiment: str, trial_id: str, attempt: int, seq: int) -> str:
    """One increment of one claim's learning curve (the claim is the writer's own)."""
    return f"{CURVE_PREFIX}{experiment}/{trial_id}/{attempt:04d}/{seq:08d}"
