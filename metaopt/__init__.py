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

import logging
from typing import TYPE_CHECKING
from typing import Any

from metaopt._trial_api import load_checkpoint
from metaopt._trial_api import report
from metaopt._trial_api import save_checkpoint
from metaopt._trial_api import trial_dir
from metaopt.errors import MetaoptError
from metaopt.errors import SpaceError

if TYPE_CHECKING:
    from metaopt._history import History
    from metaopt._history import history
    from metaopt._optimizer import Optimizer

__version__ = "0.1.0"
logging.getLogger("metaopt").addHandler(logging.NullHandler())


def __getattr__(name: str) -> Any:
    # history pulls in the store and the native core: trial scripts that only report skip it.
    if name in ("history", "History"):
        from metaopt import _history

        return getattr(_history, name)
    if name == "Optimizer":  # the algorithms import numpy and scikit-optimize when they run
        from metaopt._optimizer import Optimizer

        return Optimizer
    raise AttributeError(f"module 'metaopt' has no attribute {name!r}")


__all__ = [
    "History",
    "MetaoptError",
    "Optimizer",
    "SpaceError",
    "history",
    "load_checkpoint",
    "report",
    "save_checkpoint",
    "trial_dir",
]
