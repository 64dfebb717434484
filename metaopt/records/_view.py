"""HistoryView: every origin's records folded into one view of experiments and trials."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from metaopt._core import Record
from metaopt.records._experiment import Experiment
from metaopt.records._keys import EXPERIMENT_PREFIX
from metaopt.records._keys import TOMBSTONE_PREFIX
from metaopt.records._keys import TRIAL_PREFIX
from metaopt.records._keys import experiment_key
from metaopt.records._merge import latest
from metaopt.records._merge import merge_trial
from metaopt.records._tombstone import Tombstone
from metaopt.records._trial import Trial

_log = logging.getLogger("metaopt")

Decoded = Trial | Experiment | Tombstone


class HistoryView:
    """The merged state of a store. Not thread-safe; owned by one thread or event loop.

    ``apply`` is idempotent and order-insensitive: a record only replaces an older version of
    the same (origin, key), and the merge rule decides between origins. A deleted experiment
    (a tombstone for its uid, from any origin) is hidden with all its trials, whatever the
    clocks of the copies that still name it; a trial shows only under the experiment uid it
    was created for, so a new experiment of a deleted one's name starts empty.
    """

    def __init__(self, records: Iterable[Record] = ()) -> None:
        self._copies: dict[str, dict[str, tuple[Record, Decoded]]] = {}
        self._experiments: dict[str, Experiment] = {}
        self._trials: dict[str, dict[str, Trial]] = {}
        self._trial_keys: dict[str, set[str]] = {}  # experiment name -> keys of its trials
        self._dead: dict[str, set[str]] = {}  # experiment name -> deleted uids
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
        if isinstance(decoded, Tombstone):
            self._dead.setdefault(decoded.experiment, set()).add(decoded.uid)
            self._remerge_experiment(decoded.experiment)
        elif isinstance(decoded, Experiment):
            self._remerge_experiment(decoded.name)
        else:
            self._trial_keys.setdefault(decoded.experiment, set()).add(record.key)
            self._remerge_trial(decoded.experiment, decoded.id, copies)
        return True

    def experiments(self) -> list[Experiment]:
        return sorted(self._experiments.values(), key=lambda e: e.created)

    def experiment(self, name: str) -> Experiment | None:
        return self._experiments.get(name)

    def was_deleted(self, name: str) -> bool:
        """True when ``name`` has no live experiment and at least one deleted incarnation."""
        return name not in self._experiments and bool(self._dead.get(name))

    def trials(self, experiment: str) -> list[Trial]:
        """Trials in creation order."""
        return sorted(self._trials.get(experiment, {}).values(), key=lambda t: (t.created, t.id))

    def trial(self, experiment: str, trial_id: str) -> Trial | None:
        return self._trials.get(experiment, {}).get(trial_id)

    def record(self, key: str, origin: str) -> Record | None:
        held = self._copies.get(key, {}).get(origin)
        return None if held is None else held[0]

    def _remerge_experiment(self, name: str) -> None:
        dead = self._dead.get(name, set())
        live = [
            record
            for record, exp in self._copies.get(experiment_key(name), {}).values()
            if isinstance(exp, Experiment) and exp.uid not in dead
        ]
        before = _uid(self._experiments.get(name))
        if live:
            winner = self._copies[experiment_key(name)][latest(live).origin][1]
            assert isinstance(winner, Experiment)
            self._experiments[name] = winner
        else:
            self._experiments.pop(name, None)
        if _uid(self._experiments.get(name)) != before:  # another incarnation shows now, or none
            self._trials.pop(name, None)
            for key in self._trial_keys.get(name, ()):
                _, _, trial_id = key.rpartition("/")
                self._remerge_trial(name, trial_id, self._copies[key])

    def _remerge_trial(
        self, name: str, trial_id: str, copies: dict[str, tuple[Record, Decoded]]
    ) -> None:
        exp = self._experiments.get(name)
        mine = [
            (r, t)
            for r, t in copies.values()
            if exp is not None and isinstance(t, Trial) and t.experiment_uid == exp.uid
        ]
        trials = self._trials.setdefault(name, {})
        if mine:
            trials[trial_id] = merge_trial(mine)
        else:
            trials.pop(trial_id, None)


def unknown_experiment(view: HistoryView, name: str, where: object = "") -> str:
    """The error for a name the view does not hold, with the names it does hold."""
    place = f" in {where}" if where else ""
    if view.was_deleted(name):
        return f"experiment {name!r} was deleted{place}"
    known = ", ".join(e.name for e in view.experiments()) or "none yet"
    return f"no experiment named {name!r}{place} (experiments: {known})"


def _uid(experiment: Experiment | None) -> str | None:
    return None if experiment is None else experiment.uid


def _decode(record: Record) -> Decoded | None:
    try:
        if record.key.startswith(TRIAL_PREFIX):
            return Trial.from_json(record.value)
        if record.key.startswith(EXPERIMENT_PREFIX):
            return Experiment.from_json(record.value)
        if record.key.startswith(TOMBSTONE_PREFIX):
            return Tombstone.from_json(record.value)
    except (ValueError, KeyError, TypeError) as exc:
        _log.warning("skipping unreadable record %s from %s: %s", record.key, record.origin, exc)
        return None
    return None
