"""``metaopt stop``, ``resume`` and ``delete``: through the daemon if one runs, else on the store.

With no daemon, ``stop`` and ``delete`` write their records into the store themselves (under the
data dir's lock, as a daemon would), so the daemon that starts next finds them done. ``resume``
needs something to run the trials: a daemon, or the experiment's own command again.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from metaopt import _paths
from metaopt.cli._common import add_data_dir
from metaopt.cli._common import client
from metaopt.cli._common import fail
from metaopt.errors import DaemonUnavailable
from metaopt.errors import MetaoptError

if TYPE_CHECKING:
    from metaopt._replica import LocalReplica
    from metaopt.records import Experiment
    from metaopt.records import HistoryView


def stop(argv: list[str]) -> int:
    parser = _parser(
        "stop", "Stop an experiment: its running trials are interrupted and requeued."
    )
    args = parser.parse_args(argv)
    directory, daemon = client(args.data_dir)
    try:
        result = daemon.call("stop", name=args.name)
    except DaemonUnavailable:
        try:
            result = _stop_offline(directory, args.name)
        except MetaoptError as exc:
            return fail(str(exc))
    except MetaoptError as exc:
        return fail(str(exc))
    if result["was"] != "running":
        print(f"{args.name} is already {result['was']}; nothing to stop")
        return 0
    how = (
        f"{result['interrupted']} running trial(s) interrupted and requeued"
        if result.get("interrupted") is not None
        else "no metaoptd runs here, so no trial of it was running"
    )
    print(f"{args.name}: stopped, {how}; `metaopt resume {args.name}` starts it again")
    return 0


def resume(argv: list[str]) -> int:
    parser = _parser("resume", "Start a stopped, done or broken experiment again.")
    parser.add_argument(
        "--max-trials",
        type=int,
        help="a new --max-trials (to extend it): completed trials, or with early "
        "stopping configurations started",
    )
    args = parser.parse_args(argv)
    directory, daemon = client(args.data_dir)
    body: dict[str, Any] = {"name": args.name}
    if args.max_trials is not None:
        body["max_trials"] = args.max_trials
    try:
        result = daemon.call("resume", **body)
    except DaemonUnavailable:
        try:
            _known(directory, args.name)
        except MetaoptError as exc:
            return fail(str(exc))
        return fail(
            f"no metaoptd is running on {directory}, so nothing could run {args.name}: start one "
            "with `metaoptd --detach`, or run the experiment's command again to resume it in "
            "the foreground"
        )
    except MetaoptError as exc:
        return fail(str(exc))
    state = result["state"]
    if state == "resumed":
        print(f"{args.name}: resumed; `metaopt follow {args.name}` watches it")
    elif state == "running":
        print(f"{args.name} is already running; nothing to resume")
    elif state == "done":
        print(
            f"{args.name} is done ({result['message']}): nothing is left to run; "
            f"to go on, give it more trials: `metaopt resume {args.name} --max-trials N`"
        )
        return 1
    else:
        print(f"{args.name}: {state}: {result['message']}")
        return 1
    return 0


def delete(argv: list[str]) -> int:
    parser = _parser(
        "delete",
        "Delete an experiment: its trials, their folders and their history. A tombstone record "
        "keeps it deleted: no older copy brings it back.",
    )
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    args = parser.parse_args(argv)
    directory, daemon = client(args.data_dir)
    try:
        trials = _count_trials(directory, daemon, args.name)
        if not args.yes and not _confirm(directory, args.name, trials):
            return fail("not deleted", 1)
        try:
            result = daemon.call("delete", name=args.name)
        except DaemonUnavailable:
            result = _delete_offline(directory, args.name)
    except MetaoptError as exc:
        return fail(str(exc))
    stopped = result.get("interrupted")
    extra = f", {stopped} running trial(s) stopped first" if stopped else ""
    print(f"{args.name}: deleted with its {result['trials']} trial(s) and their folders{extra}")
    return 0


def _count_trials(directory: Path, daemon: Any, name: str) -> int:
    try:
        return len(daemon.call("trials", name=name)["trials"])
    except DaemonUnavailable:
        return len(_known(directory, name).trials(name))


def _confirm(directory: Path, name: str, trials: int) -> bool:
    if not sys.stdin.isatty():
        raise MetaoptError(f"delete {name}: confirm with -y (there is no terminal to ask on)")
    folder = _paths.experiment_dir(directory, name)
    answer = input(f"delete {name}, its {trials} trial(s) and {folder}? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def _stop_offline(directory: Path, name: str) -> dict[str, Any]:
    from metaopt import _steering
    from metaopt.records import ExperimentStatus

    with _offline_experiment(directory, name) as (replica, exp):
        if exp.status != ExperimentStatus.RUNNING:
            return {"was": exp.status.label}
        _steering.set_status(replica, exp, ExperimentStatus.STOPPED, "stopped by the user")
    return {"was": "running", "interrupted": None}


def _delete_offline(directory: Path, name: str) -> dict[str, Any]:
    from metaopt import _steering

    with _offline_experiment(directory, name) as (replica, exp):
        return {"trials": _steering.delete(replica, directory, exp)}


@contextlib.contextmanager
def _offline_experiment(directory: Path, name: str) -> Iterator[tuple[LocalReplica, Experiment]]:
    """This node's replica, locked for a write with no daemon running, and the experiment."""
    from metaopt._history import detect_backend
    from metaopt._replica import offline
    from metaopt.records import HistoryView
    from metaopt.records import unknown_experiment

    kind = detect_backend(directory)
    if kind is None:
        raise MetaoptError(unknown_experiment(HistoryView(), name, directory))
    with offline(directory, kind) as replica:
        exp = replica.view.experiment(name)
        if exp is None:
            raise MetaoptError(unknown_experiment(replica.view, name, directory))
        yield replica, exp


def _known(directory: Path, name: str) -> HistoryView:
    """The store's view, if it holds ``name``; else the error that lists what it holds."""
    from metaopt._history import read_store
    from metaopt.records import unknown_experiment

    view = read_store(directory)
    if view.experiment(name) is None:
        raise MetaoptError(unknown_experiment(view, name, directory))
    return view


def _parser(name: str, description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"metaopt {name}", description=description)
    parser.add_argument("name", help="the experiment")
    add_data_dir(parser)
    return parser
