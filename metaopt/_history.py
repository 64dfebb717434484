"""``metaopt.history(name)``: an experiment's trials, from the daemon or from the store files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from metaopt import _paths
from metaopt._control import Client
from metaopt.errors import DaemonUnavailable
from metaopt.errors import MetaoptError
from metaopt.records import Experiment
from metaopt.records import HistoryView
from metaopt.records import Trial
from metaopt.records import objective_name
from metaopt.records import ranked_trials
from metaopt.records import unknown_experiment
from metaopt.storage import BACKENDS
from metaopt.storage import open_storage
from metaopt.storage import store_path

if TYPE_CHECKING:
    import pandas


class History:
    """The trials of one experiment: a snapshot, not a live view."""

    def __init__(self, experiment: Experiment, trials: list[Trial]) -> None:
        self.experiment = experiment
        self.trials = trials

    @property
    def name(self) -> str:
        return self.experiment.name

    @property
    def objective(self) -> str | None:
        """The metric trials are ranked on (the first one reported when none was named)."""
        return objective_name(self.experiment, self.trials)

    def best(self, k: int | None = None) -> Trial | list[Trial] | None:
        """The best completed trial (or the ``k`` best, best first); None when none completed."""
        ranked = [t for t, _ in ranked_trials(self.experiment, self.trials)]
        if k is not None:
            return ranked[:k]
        return ranked[0] if ranked else None

    def to_dataframe(self) -> pandas.DataFrame:
        """One row per trial: id, status, node, times, objective, ``param.*`` and last metrics.

        Raises:
            ImportError: pandas is not installed (``pip install 'metaopt[pandas]'``).
        """
        try:
            import pandas
        except ImportError as exc:
            raise ImportError(
                "History.to_dataframe needs pandas: pip install 'metaopt[pandas]'"
            ) from exc

        objective = self.objective
        rows = []
        for t in self.trials:
            row: dict[str, Any] = {
                "id": t.id,
                "status": t.status.label,
                "node": t.node,
                "attempt": t.attempt,
                "created": t.created,
                "started": t.started,
                "ended": t.ended,
                "objective": t.objective(objective),
                "steps": len(t.curve),
            }
            row.update({f"param.{k}": v for k, v in t.params.items()})
            if t.curve:
                row.update({f"metric.{k}": v for k, v in t.curve[-1][1].items()})
            rows.append(row)
        return pandas.DataFrame(rows)

    def __len__(self) -> int:
        return len(self.trials)

    def __iter__(self) -> Iterator[Trial]:
        return iter(self.trials)

    def __repr__(self) -> str:
        return f"History({self.name!r}, {len(self.trials)} trials)"


def history(name: str, data_dir: str | os.PathLike[str] | None = None) -> History:
    """The trials of experiment ``name`` on this node.

    Asks the running metaoptd when there is one (it holds the store open); otherwise reads the
    store files directly.

    Raises:
        MetaoptError: no such experiment, or the store cannot be read.
    """
    directory = _paths.data_dir(data_dir)
    client = Client(_paths.socket_path(directory))
    try:
        reply = client.call("trials", name=name)
    except DaemonUnavailable:
        view = read_store(directory)
        experiment = view.experiment(name)
        if experiment is None:
            raise MetaoptError(unknown_experiment(view, name, directory)) from None
        return History(experiment, view.trials(name))
    return History(
        Experiment.from_json(reply["experiment"]), [Trial.from_json(t) for t in reply["trials"]]
    )


def read_store(directory: Path) -> HistoryView:
    """The merged view of a data directory's store, read without a daemon."""
    _paths.check_readable(directory)
    kind = detect_backend(directory)
    if kind is None:
        return HistoryView()
    with open_storage(directory, kind) as storage:
        return HistoryView(storage.scan())


def detect_backend(directory: Path) -> str | None:
    """The backend whose store exists in ``directory``: the daemon's setting, else the files."""
    config = directory / "metaoptd.toml"
    if config.exists():
        import tomllib

        try:
            kind = tomllib.loads(config.read_text()).get("storage")
        except (tomllib.TOMLDecodeError, OSError) as exc:
            raise MetaoptError(f"{config}: {exc}") from None
        if kind in BACKENDS:
            return str(kind)
    for kind in BACKENDS:
        if store_path(directory, kind).exists():
            return kind
    return None


def histories(data_dir: str | os.PathLike[str] | None = None) -> list[History]:
    """Every experiment on this node, each with its trials (from the daemon, else the files)."""
    directory = _paths.data_dir(data_dir)
    client = Client(_paths.socket_path(directory))
    try:
        names = [s["name"] for s in client.call("status")]
    except DaemonUnavailable:
        view = read_store(directory)
        return [History(e, view.trials(e.name)) for e in view.experiments()]
    return [history(name, directory) for name in names]
