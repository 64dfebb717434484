"""Record keys. The store is ordered by key, so every trial of an experiment is one prefix scan.

Tombstones sort before experiments and experiments before trials, so a scan of a whole store
applies each deletion and each definition before the trials they govern.
"""

from __future__ import annotations

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
