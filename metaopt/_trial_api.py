"""What a trial script calls: report metrics, save and load a checkpoint.

Outside metaopt (a plain ``python train.py``) every call still works: ``report`` prints a
one-line notice once and otherwise does nothing, ``save_checkpoint`` keeps nothing and
``load_checkpoint`` returns its default, so two plain runs never resume each other.

Every trial imports this at start-up, so pathlib and pickle load only when a call needs them.
"""

from __future__ import annotations

import os
import sys

from metaopt._reports import FROZEN_EXIT
from metaopt._reports import METRICS_FILE
from metaopt._reports import STOP_FILE
from metaopt._reports import check_metrics
from metaopt._reports import encode_report
from metaopt._reports import parse_metrics_line

TYPE_CHECKING = False  # typing itself costs a trial's start-up a few ms
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

CHECKPOINT_FILE = "checkpoint.pkl"
_noticed = False
_steps: set[int] | None = None  # the steps this trial reported here, against its budget
_raise_when_stopped = False


class Frozen(SystemExit):
    """Raised by ``report`` after ``stop_by_exception()`` where it would return False.

    A SystemExit with ``metaopt.FROZEN_EXIT``: left uncaught, it ends the script with the
    code that says "paused, with a checkpoint"; ``finally`` blocks run first, so a script can
    save its checkpoint there.
    """

    def __init__(self) -> None:
        super().__init__(FROZEN_EXIT)


def stop_by_exception() -> None:
    """From now on ``report`` raises ``Frozen`` instead of returning False."""
    global _raise_when_stopped
    _raise_when_stopped = True


def trial_dir() -> Path | None:
    """The folder metaopt gave this trial, or None when the script runs on its own."""
    path = os.environ.get("METAOPT_TRIAL_DIR")
    if not path:
        return None
    from pathlib import Path

    return Path(path)


def report(step: int, **metrics: float) -> bool:
    """Record the metrics of one step (an epoch, an evaluation) of this trial.

    Returns whether to go on. False means this trial's budget is spent (it reported as many
    steps as its lease allows, ``$METAOPT_BUDGET``, counting earlier runs of it on this node)
    or early stopping pauses it: save what it needs to resume with ``save_checkpoint`` and
    exit with ``metaopt.FROZEN_EXIT``. It may be thawed later, with a larger budget, and
    ``load_checkpoint`` then gives that state back. A script that goes on regardless is
    stopped after the daemon's grace period. After ``stop_by_exception()`` it raises
    ``metaopt.Frozen`` instead of returning False.

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
        return True
    # One write of one line with O_APPEND: lines never interleave and a crash tears at most one.
    fd = os.open(os.path.join(folder, METRICS_FILE), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
    budget = os.environ.get("METAOPT_BUDGET")
    spent = bool(budget) and len(_reported(folder, int(step))) >= int(budget or 0)
    if not spent and not os.path.exists(os.path.join(folder, STOP_FILE)):
        return True
    if _raise_when_stopped:
        raise Frozen
    return False


def _reported(folder: str, step: int) -> set[int]:
    """Every step this trial reported in ``folder``: its earlier runs' from the metrics file
    (read once), this run's as they come. A step reported again after a resume counts once."""
    global _steps
    if _steps is None:
        _steps = set()
        with open(os.path.join(folder, METRICS_FILE), "rb") as f:
            for line in f:
                parsed = parse_metrics_line(line.decode(errors="replace"))
                if parsed is not None:
                    _steps.add(parsed[0])
    _steps.add(step)
    return _steps


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
