"""Stopping and deleting an experiment: the records that metaoptd writes, and that the CLI
writes itself when no daemon runs, so both paths leave the same history behind."""

from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path

from metaopt import _paths
from metaopt._replica import LocalReplica
from metaopt.errors import MetaoptError
from metaopt.records import Experiment
from metaopt.records import ExperimentStatus
from metaopt.records import Tombstone
from metaopt.records import experiment_key
from metaopt.records import tombstone_key


def set_status(
    replica: LocalReplica, exp: Experiment, status: ExperimentStatus, message: str
) -> Experiment:
    updated = dataclasses.replace(exp, status=status, message=message)
    replica.write(experiment_key(exp.name), updated.to_json())
    return updated


def delete(replica: LocalReplica, directory: Path, exp: Experiment) -> int:
    """Tombstone ``exp`` (durably, first), then remove its trial folders; returns its trial count.

    Its trials must no longer run. The tombstone hides the experiment and every trial of it on
    every node that receives it; a new experiment of the same name starts empty.
    """
    trials = len(replica.view.trials(exp.name))
    tombstone = Tombstone(exp.name, exp.uid, time.time(), replica.id)
    replica.write(tombstone_key(exp.name, exp.uid), tombstone.to_json())
    folder = _paths.experiment_dir(directory, exp.name)
    try:
        shutil.rmtree(folder)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise MetaoptError(
            f"{exp.name} is deleted, but its trial folders could not all be removed: {exc}"
        ) from exc
    return trials
