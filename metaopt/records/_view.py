"""HistoryView: every origin's records folded into one view of experiments and trials."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable

from metaopt._core import Record
from metaopt._log import logger as _log
from metaopt.records._curve import CurveIncrement
from metaopt.records._curve import compose
from metaopt.records._experiment import Experiment
from metaopt.records._format import Unreadable
from metaopt.records._keys import CURVE_PREFIX
from metaopt.records._keys import EXPERIMENT_PREFIX
from metaopt.records._keys import TOMBSTONE_PREFIX
from metaopt.records._keys import TRIAL_PREFIX
from metaopt.records._keys import experiment_key
from metaopt.records._keys import trial_key
from metaopt.records._merge import latest
from metaopt.records._merge import merge_trial
from metaopt.records._tombstone import Tombstone
from metaopt.records._trial import Trial

Decoded = Trial | Experiment | Tombstone | CurveIncrement
TrialRef = tuple[str, str]  # (experiment name, trial id)


class HistoryView:
    """The merged state of a store. Not thread-safe; owned by one thread or event loop.

    ``apply`` is idempotent and order-insensitive: a record only replaces an older version of
    the same (origin, key), and the merge rule decides between origins. A deleted experiment
    (a tombstone for its uid, from any origin) is hidden with all its trials, whatever the
    clocks of the copies that still name it; a trial shows only under the experiment uid it
    was created for, so a new experiment of a deleted one's name starts empty. A record this
    version cannot read is left out (the store still keeps it and passes it on).
    """

    def __init__(self, records: Iterable[Record] = ()) -> None:
        self._copies: dict[str, dict[str, tuple[Record, Decoded]]] = {}
        self._experiments: dict[str, Experiment] = {}
        self._trials: dict[str, dict[str, Trial]] = {}
        self._trial_ids: dict[str, set[str]] = {}  # experiment name -> ids with a copy
        self._curve_keys: dict[TrialRef, set[str]] = {}
        self._dead: dict[str, set[str]] = {}  # experiment name -> deleted uids
        self._warned: set[str] = set()  # why records were left out, each said once in the log
        self._changes = 0  # records folded in so far: what the digest cache keys on
        self._digest: tuple[int, str] = (-1, "")
        for record in records:
            self.apply(record)

    def apply(self, record: Record) -> bool:
        """Fold one record in; returns False for a stale or unreadable record."""
        copies = self._copies.setdefault(record.key, {})
        held = copies.get(record.origin)
        if held is not None and held[0].version >= record.version:
            return False
        decoded = self._decode(record)
        if decoded is None:
            return False
        copies[record.origin] = (record, decoded)
        if isinstance(decoded, Tombstone):
            self._dead.setdefault(decoded.experiment, set()).add(decoded.uid)
            self._remerge_experiment(decoded.experiment)
        elif isinstance(decoded, Experiment):
            self._remerge_experiment(decoded.name)
        elif isinstance(decoded, CurveIncrement):
            ref = (decoded.experiment, decoded.trial)
            self._curve_keys.setdefault(ref, set()).add(record.key)
            self._remerge_trial(*ref)
        else:
            self._trial_ids.setdefault(decoded.experiment, set()).add(decoded.id)
            self._remerge_trial(decoded.experiment, decoded.id)
        self._changes += 1
        return True

    def experiments(self) -> list[Experiment]:
        return sorted(self._experiments.values(), key=lambda e: e.created)

    def experiment(self, name: str) -> Experiment | None:
        return self._experiments.get(name)

    def set_aside(self, name: str) -> list[tuple[str, Experiment]]:
        """Other live definitions under ``name`` (origin, experiment): two nodes submitted it
        at once, differently. The merge keeps one (the later write); these are shown, not run."""
        shown = self._experiments.get(name)
        dead = self._dead.get(name, set())
        return [
            (record.origin, exp)
            for record, exp in self._copies.get(experiment_key(name), {}).values()
            if isinstance(exp, Experiment)
            and shown is not None
            and exp.uid not in dead
            and exp.uid != shown.uid
        ]

    def was_deleted(self, name: str) -> bool:
        """True when ``name`` has no live experiment and at least one deleted incarnation."""
        return name not in self._experiments and bool(self._dead.get(name))

    def trials(self, experiment: str) -> list[Trial]:
        """Merged trials, curves included, in creation order."""
        return sorted(self._trials.get(experiment, {}).values(), key=lambda t: (t.created, t.id))

    def trial(self, experiment: str, trial_id: str) -> Trial | None:
        return self._trials.get(experiment, {}).get(trial_id)

    def active(self) -> list[Trial]:
        """The trials holding a slot somewhere, of every current experiment, in no order."""
        return [
            t
            for name, trials in self._trials.items()
            if name in self._experiments
            for t in trials.values()
            if t.status.is_active()
        ]

    def copy(self, experiment: str, trial_id: str, origin: str) -> Trial | None:
        """``origin``'s own copy of a trial of the current experiment (no curve), if it has one."""
        held = self._copies.get(trial_key(experiment, trial_id), {}).get(origin)
        exp = self._experiments.get(experiment)
        if held is None or exp is None or not isinstance(held[1], Trial):
            return None
        trial = held[1]
        return trial if trial.experiment_uid == exp.uid else None

    def copies(self, experiment: str, trial_id: str) -> list[Trial]:
        """Every origin's copy of a trial of the current experiment, before the merge."""
        exp = self._experiments.get(experiment)
        held = self._copies.get(trial_key(experiment, trial_id), {}).values()
        return [
            t
            for _, t in held
            if exp is not None and isinstance(t, Trial) and t.experiment_uid == exp.uid
        ]

    def increments(self, experiment: str, trial_id: str) -> list[CurveIncrement]:
        """Every increment held for a trial, from every claim."""
        found = []
        for key in self._curve_keys.get((experiment, trial_id), ()):
            for _, decoded in self._copies[key].values():
                assert isinstance(decoded, CurveIncrement)
                found.append(decoded)
        return found

    def digest(self) -> str:
        """A short hash of what this view shows: nodes that show the same history, with the
        same statuses, claims and curves, have the same digest, whatever they hold besides."""
        if self._digest[0] == self._changes:
            return self._digest[1]
        h = hashlib.sha256()
        for exp in sorted(self._experiments.values(), key=lambda e: e.name):
            h.update(repr((exp.name, exp.uid, int(exp.status), exp.max_trials)).encode())
            for t in sorted(self._trials.get(exp.name, {}).values(), key=lambda t: t.id):
                h.update(repr((t.id, int(t.status), t.claim, t.exit_code, t.curve)).encode())
        self._digest = (self._changes, h.hexdigest()[:16])
        return self._digest[1]

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
            for trial_id in self._trial_ids.get(name, ()):
                self._remerge_trial(name, trial_id)

    def _remerge_trial(self, name: str, trial_id: str) -> None:
        exp = self._experiments.get(name)
        copies = self._copies.get(trial_key(name, trial_id), {}).values()
        mine = [
            t
            for _, t in copies
            if exp is not None and isinstance(t, Trial) and t.experiment_uid == exp.uid
        ]
        trials = self._trials.setdefault(name, {})
        if not mine:
            trials.pop(trial_id, None)
            return
        winner = merge_trial(mine)
        increments = self.increments(name, trial_id) + [_legacy_curve(t) for t in mine if t.curve]
        trials[trial_id] = dataclasses.replace(winner, curve=compose(winner, increments))

    def _decode(self, record: Record) -> Decoded | None:
        try:
            if record.key.startswith(TRIAL_PREFIX):
                return Trial.from_record(record.value)
            if record.key.startswith(CURVE_PREFIX):
                return CurveIncrement.from_json(record.value)
            if record.key.startswith(EXPERIMENT_PREFIX):
                return Experiment.from_json(record.value)
            if record.key.startswith(TOMBSTONE_PREFIX):
                return Tombstone.from_json(record.value)
        except Unreadable as exc:
            self._warn_once(
                str(exc),
                f"keeping records this version cannot read ({exc}; first: {record.key} from "
                f"{record.origin}): they are stored and passed on, not shown; upgrade this node",
            )
            return None
        except (ValueError, KeyError, TypeError) as exc:
            self._warn_once(
                f"malformed {record.key.split('/', 1)[0]}",
                f"skipping a malformed record {record.key} from {record.origin}: {exc!r}",
            )
            return None
        kind = record.key.split("/", 1)[0]
        self._warn_once(kind, f"keeping records of a kind this version does not know: {kind}/")
        return None

    def _warn_once(self, reason: str, message: str) -> None:
        if reason not in self._warned:
            self._warned.add(reason)
            _log.warning(message)


def _legacy_curve(trial: Trial) -> CurveIncrement:
    """A copy stored before curves were increments carries its whole curve: one increment."""
    return CurveIncrement.of(trial, -1, trial.curve)


def unknown_experiment(view: HistoryView, name: str, where: object = "") -> str:
    """The error for a name the view does not hold, with the names it does hold."""
    place = f" in {where}" if where else ""
    if view.was_deleted(name):
        return f"experiment {name!r} was deleted{place}"
    known = ", ".join(e.name for e in view.experiments()) or "none yet"
    return f"no experiment named {name!r}{place} (experiments: {known})"


def _uid(experiment: Experiment | None) -> str | None:
    return None if experiment is None else experiment.uid
