"""HistoryView: every origin's records folded into one view of experiments and trials."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from metaopt._core import Record
from metaopt.records._experiment import Experiment
from metaopt.records._keys import EXPERIMENT_PREFIX
from metaopt.records._keys import TRIAL_PREFIX
from metaopt.records._merge import latest
from metaopt.records._merge import merge_trial
from metaopt.records._trial import Trial

_log = logging.getLogger("metaopt")


class HistoryView:
    """The merged state of a store. Not thread-safe; owned by one thread or event loop.

    ``apply`` is idempotent and order-insensitive: a record only replaces an older version of
    the same (origin, key), and the merge rule decides between origins.
    """

    def __init__(self, records: Iterable[Record] = ()) -> None:
        self._copies: dict[str, dict[str, tuple[Record, Trial | Experiment]]] = {}
        self._experiments: dict[str, Experiment] = {}
        self._trials: dict[str, dict[str, Trial]] = {}
        for record in records:
            self.apply(record)

    def apply(self, record: Record) -> bool:
        """Fold one record in; returns False for a stale or unreadable record."""
        copies = self._copies.setdefault(record.key, {})
        held = copies.get(record.origin)
        if held is not None and held[0].version >= record.version:
            return False
        decoded = _decode(record)
        if decoded is None:
            return False
        copies[record.origin] = (record, decoded)
        self._remerge(record.key, copies)
        return True

    def experiments(self) -> list[Experiment]:
        return sorted(self._experiments.values(), key=lambda e: e.created)

    def experiment(self, name: str) -> Experiment | None:
        return self._experiments.get(name)

    def trials(self, experiment: str) -> list[Trial]:
        """Trials in creation order."""
        return sorted(self._trials.get(experiment, {}).values(), key=lambda t: (t.created, t.id))

    def trial(self, experiment: str, trial_id: str) -> Trial | None:
        return self._trials.get(experiment, {}).get(trial_id)

    def record(self, key: str, origin: str) -> Record | None:
        held = self._copies.get(key, {}).get(origin)
        return None if held is None else held[0]

    def _remerge(self, key: str, copies: dict[str, tuple[Record, Trial | Experiment]]) -> None:
        if key.startswith(EXPERIMENT_PREFIX):
            winner = latest(record for record, _ in copies.values())
            experiment = copies[winner.origin][1]
            assert isinstance(experiment, Experiment)
            self._experiments[experiment.name] = experiment
        else:
            trial = merge_trial((r, t) for r, t in copies.values() if isinstance(t, Trial))
            self._trials.setdefault(trial.experiment, {})[trial.id] = trial


def _decode(record: Record) -> Trial | Experiment | None:
    try:
        if record.key.startswith(TRIAL_PREFIX):
            return Trial.from_json(record.value)
        if record.key.startswith(EXPERIMENT_PREFIX):
            return Experiment.from_json(record.value)
    except (ValueError, KeyError, TypeError) as exc:
        _log.warning("skipping unreadable record %s from %s: %s", record.key, record.origin, exc)
        return None
    return None
