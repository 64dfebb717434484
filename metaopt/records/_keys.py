"""Record keys. The store is ordered by key, so every trial of an experiment is one prefix scan."""

from __future__ import annotations

EXPERIMENT_PREFIX = "exp/"
TRIAL_PREFIX = "trial/"


def experiment_key(name: str) -> str:
    return f"{EXPERIMENT_PREFIX}{name}"


def trial_key(experiment: str, trial_id: str) -> str:
    return f"{TRIAL_PREFIX}{experiment}/{trial_id}"


def trials_prefix(experiment: str) -> str:
    return f"{TRIAL_PREFIX}{experiment}/"
