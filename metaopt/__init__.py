"""metaopt: decentralized hyperparameter optimization for small labs.

Inside a trial script::

    import metaopt
    metaopt.report(epoch, val_loss=loss)
    metaopt.save_checkpoint(state); state = metaopt.load_checkpoint()

From Python, with or without a daemon running::

    metaopt.history("train").best()

In-process, ask and tell, with no daemon at all::

    opt = metaopt.Optimizer({"lr": "loguniform(1e-5, 1e-1)"})
    params = opt.ask(); opt.tell(params, loss)
"""

from __future__ import annotations

import importlib.machinery
import os
import sys


def _installed_copy(here: str) -> str | None:
    """Another ``metaopt`` on sys.path that has the compiled core, if this one has none.

    Python run from a checkout after ``pip install .`` imports the checkout's sources, which
    have no compiled core: the installed copy, further down sys.path, is the one to use.
    """

    def has_core(folder: str) -> bool:
        suffixes = importlib.machinery.EXTENSION_SUFFIXES
        return any(os.path.exists(os.path.join(folder, "_core" + s)) for s in suffixes)

    if has_core(here):
        return None
    for entry in sys.path:
        folder = os.path.join(entry or os.getcwd(), "metaopt")
        if os.path.realpath(folder) != os.path.realpath(here) and has_core(folder):
            return folder
    return None


_installed = _installed_copy(os.path.dirname(os.path.abspath(__file__)))
if _installed is not None:  # every submodule from there, so that they match its core
    __path__[:] = [_installed]

from metaopt._reports import FROZEN_EXIT  # noqa: E402
from metaopt._trial_api import Frozen  # noqa: E402
from metaopt._trial_api import load_checkpoint  # noqa: E402
from metaopt._trial_api import report  # noqa: E402
from metaopt._trial_api import save_checkpoint  # noqa: E402
from metaopt._trial_api import stop_by_exception  # noqa: E402
from metaopt._trial_api import trial_dir  # noqa: E402
from metaopt.errors import MetaoptError  # noqa: E402
from metaopt.errors import SpaceError  # noqa: E402

# Trial scripts import this package at start-up: typing and logging wait for the modules that
# use them (metaopt._log installs the library's silent handler).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from metaopt._history import History
    from metaopt._history import history
    from metaopt._optimizer import Job
    from metaopt._optimizer import Optimizer

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # history pulls in the store and the native core: trial scripts that only report skip it.
    if name in ("history", "History"):
        from metaopt import _history

        return getattr(_history, name)
    if name in ("Optimizer", "Job"):  # the algorithms import numpy and scikit-optimize
        from metaopt import _optimizer

        return getattr(_optimizer, name)
    raise AttributeError(f"module 'metaopt' has no attribute {name!r}")


__all__ = [
    "FROZEN_EXIT",
    "Frozen",
    "History",
    "Job",
    "MetaoptError",
    "Optimizer",
    "SpaceError",
    "history",
    "load_checkpoint",
    "report",
    "save_checkpoint",
    "stop_by_exception",
    "trial_dir",
]
