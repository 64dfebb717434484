"""What a trial script calls: report metrics, save and load a checkpoint.

Outside metaopt (a plain ``python train.py``) every call still works: ``report`` prints a
one-line notice once and otherwise does nothing, ``save_checkpoint`` keeps nothing and
``load_checkpoint`` returns its default, so two plain runs never resume each other.

Every trial imports this at start-up, so pathlib and pickle load only when a call needs them.
"""

from __future__ import annotations

import os
import sys

from metaopt._reports import METRICS_FILE
from metaopt._reports import check_metrics
from metaopt._reports import encode_report

TYPE_CHECKING = False  # typing itself costs a trial's start-up a few ms
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

CHECKPOINT_FILE = "checkpoint.pkl"
_noticed = False


def trial_dir() -> Path | None:
    """The folder metaopt gave this trial, or None when the script runs on its own."""
    path = os.environ.get("METAOPT_TRIAL_DIR")
    if not path:
        return None
    from pathlib import Path

    return Path(path)


def report(step: int, **metrics: float) -> None:
    """Record the metrics of one step (an epoch, an evaluation) of this trial.

    Args:
        step: the step number, usually the epoch; reporting a step again overwrites it.
        **metrics: numbers, e.g. ``val_loss=0.31, accuracy=0.9``. The experiment's objective is
            one of them (``--objective``, by default the first one reported).

    Raises:
        TypeError: a metric is not a number.
    """
    line = encode_report(int(step), check_metrics(metrics))
    folder = os.environ.get("METAOPT_TRIAL_DIR")
    if not folder:
        _notice()
        return
    # One write of one line with O_APPEND: lines never interleave and a crash tears at most one.
    fd = os.open(os.path.join(folder, METRICS_FILE), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def save_checkpoint(state: Any) -> Path | None:
    """Pickle ``state`` atomically into the trial's folder; returns the file written.

    A trial that is interrupted (or its node lost) and started again gets this state back from
    ``load_checkpoint``. Outside metaopt nothing is saved and None is returned.
    """
    folder = trial_dir()
    if folder is None:
        return None
    import pickle

    path = folder / CHECKPOINT_FILE
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        pickle.dump(state, f, protocol=pickle.HIGHEST_PROTOCOL)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def load_checkpoint(default: Any = None) -> Any:
    """The state last saved by ``save_checkpoint`` for this trial, or ``default``."""
    folder = trial_dir()
    if folder is None:
        return default
    import pickle

    path = folder / CHECKPOINT_FILE
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except FileNotFoundError:
        return default


def _notice() -> None:
    global _noticed
    if not _noticed:
        _noticed = True
        print("metaopt: not running under metaopt, metrics are not recorded", file=sys.stderr)
