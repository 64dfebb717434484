"""Where this node keeps checkpoints, and which it may delete.

A trial's own checkpoint is ``checkpoint.pkl`` in its folder on the node that ran its attempt
(``Trial.node``, ``checkpoint_bytes``). A peer may hold a copy, pushed in the background while the
trial runs or once it is frozen (``Trial.copy_node``), under ``DATA_DIR/checkpoint-copies``; a
node that thaws or adopts the trial elsewhere fetches one of the two, or takes its own copy.
Files no record points to any more are swept: a checkpoint whose trial has a newer attempt on
another node, a copy that is no longer the trial's copy, either one of a finished trial.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from collections.abc import Set
from pathlib import Path
from typing import Any

from metaopt._reports import METRICS_FILE
from metaopt._reports import encode_report
from metaopt._trial_api import CHECKPOINT_FILE
from metaopt.records import HistoryView
from metaopt.records import Trial
from metaoptd.transfer import TransferError

COPIES = "checkpoint-copies"
SHARED_DIR = "(shared dir)"  # Trial.copy_node of a copy in --shared-dir: no node id reads so
_META = "copy.json"
_YOUNG_S = 60.0  # a copy just received is kept until its trial's record has caught up


def _score(trial_id: str, member: str) -> bytes:
    return hashlib.blake2b(f"copy\0{trial_id}\0{member}".encode(), digest_size=8).digest()


def copy_peer(trial_id: str, alive: Set[str], node: str) -> str | None:
    """The peer that holds copies of this trial's checkpoints: one pick per trial, so the
    copies of many trials spread over the cluster; None for a node alone."""
    return max(alive - {node}, key=lambda m: _score(trial_id, m), default=None)


def _safe(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and "\0" not in name


class Checkpoints:
    def __init__(
        self,
        data_dir: Path,
        node: str,
        view: HistoryView,
        limit_bytes: float,
        shared: Path | None = None,
    ) -> None:
        self.trials = data_dir / "trials"
        self.copies = data_dir / COPIES
        self.shared = shared
        self.node = node
        self.view = view
        self.limit_bytes = limit_bytes

    def own_file(self, trial: Trial) -> Path:
        return self.trials / trial.experiment / trial.id / CHECKPOINT_FILE

    def copy_file(self, experiment: str, trial_id: str) -> Path:
        return self.copies / experiment / trial_id / CHECKPOINT_FILE

    def shared_file(self, trial: Trial) -> Path | None:
        """Its copy in the shared folder, when this node has one and that copy is there."""
        if self.shared is None:
            return None
        path = self.shared / trial.experiment / trial.id / CHECKPOINT_FILE
        return path if path.is_file() else None

    def copy_to_shared(self, trial: Trial, source: Path) -> int:
        """Copy ``source`` into the shared folder as this trial's copy; returns its size."""
        assert self.shared is not None
        dest = self.shared / trial.experiment / trial.id / CHECKPOINT_FILE
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f"{CHECKPOINT_FILE}.{self.node}.tmp")  # nodes never share a tmp
        shutil.copyfile(source, tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dest)
        return dest.stat().st_size

    def drop_shared(self, trial: Trial) -> None:
        if self.shared is not None:
            shutil.rmtree(self.shared / trial.experiment / trial.id, ignore_errors=True)

    def _known(self, experiment: str, trial_id: str) -> Trial | None:
        """The trial, when both names are ones this node's history holds (never a path)."""
        if not (_safe(experiment) and _safe(trial_id)):
            return None
        return self.view.trial(experiment, trial_id)

    # ---- what peers ask (transfer.Files) ---------------------------------------------------

    def source(self, experiment: str, trial_id: str) -> Path | None:
        trial = self._known(experiment, trial_id)
        if trial is None:
            return None
        own = self.view.copy(experiment, trial_id, self.node)
        for path in (
            self.own_file(own) if own is not None else None,
            self.copy_file(experiment, trial_id),
        ):
            if path is not None and path.is_file():
                return path
        return None

    def target(self, experiment: str, trial_id: str, size: int) -> Path:
        if self._known(experiment, trial_id) is None:
            raise TransferError(f"no trial {experiment}/{trial_id} in this node's history")
        replaced = self.copy_file(experiment, trial_id)  # a newer copy takes the old one's room
        held = sum(path.stat().st_size for path in self._copy_files() if path != replaced)
        if size < 0 or held + size > self.limit_bytes:
            raise TransferError(
                f"no room: {held + max(size, 0)} bytes of copies beyond --frozen-limit-mb"
            )
        return self.copy_file(experiment, trial_id)

    def accepted(self, experiment: str, trial_id: str, sender: str, meta: dict[str, Any]) -> None:
        body = {"from": sender, "attempt": meta.get("attempt"), "step": meta.get("step")}
        path = self.copy_file(experiment, trial_id).with_name(_META)
        path.write_text(json.dumps(body))

    # ---- this node's own use ---------------------------------------------------------------

    def install(self, trial: Trial, source: Path) -> None:
        """Make ``source`` (a copy held here, or one just fetched) the checkpoint in the trial's
        folder here, beside the steps it reported so far (``report`` counts them against the
        next budget), as if its earlier attempts had run on this node."""
        folder = self.trials / trial.experiment / trial.id
        folder.mkdir(parents=True, exist_ok=True)
        reports = "".join(encode_report(step, metrics) for step, metrics in trial.curve)
        _write_atomically(folder / METRICS_FILE, reports.encode())
        if source != folder / CHECKPOINT_FILE:
            tmp = folder / (CHECKPOINT_FILE + ".tmp")
            shutil.copyfile(source, tmp)
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(tmp, folder / CHECKPOINT_FILE)

    def sweep(self, alive: Set[str]) -> int:
        """Delete the files no record points to; returns how many."""
        gone = 0
        for path in self._copy_files():
            experiment, trial_id = path.parent.parent.name, path.parent.name
            trial = self.view.trial(experiment, trial_id)
            young = time.time() - path.stat().st_mtime < _YOUNG_S
            wanted = trial is not None and _may_resume(trial) and trial.copy_node == self.node
            if trial is not None and (young or wanted):
                continue
            shutil.rmtree(path.parent, ignore_errors=True)
            gone += 1
        for path in self.trials.glob(f"*/*/{CHECKPOINT_FILE}"):
            trial = self.view.trial(path.parent.parent.name, path.parent.name)
            if trial is None or trial.node == self.node:
                continue  # ours: its attempt's end decides (the daemon's _finish)
            if trial.node in alive or not _may_resume(trial):
                path.unlink(missing_ok=True)  # a newer attempt elsewhere has its own
                gone += 1
        return gone

    def _copy_files(self) -> Iterator[Path]:
        with contextlib.suppress(FileNotFoundError):
            yield from self.copies.glob(f"*/*/{CHECKPOINT_FILE}")


def _may_resume(trial: Trial) -> bool:
    """A trial whose checkpoint may still be resumed: running, waiting, or frozen."""
    return trial.status.is_active() or trial.status.is_runnable() or trial.status.is_frozen()


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
