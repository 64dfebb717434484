"""``metaopt stop`` and ``metaopt resume``: they need the daemon that runs the experiment."""

from __future__ import annotations

import argparse

from metaopt.cli._common import add_data_dir
from metaopt.cli._common import client
from metaopt.cli._common import fail
from metaopt.errors import DaemonUnavailable
from metaopt.errors import MetaoptError


def stop(argv: list[str]) -> int:
    args = _parse(
        "stop", "Stop an experiment: its running trials are interrupted and requeued.", argv
    )
    try:
        result = client(args.data_dir)[1].call("stop", name=args.name)
    except DaemonUnavailable:
        return fail("no metaoptd is running here, so nothing of this experiment runs")
    except MetaoptError as exc:
        return fail(str(exc))
    print(
        f"{args.name}: stopped, {result['interrupted']} running trial(s) interrupted and requeued"
    )
    return 0


def resume(argv: list[str]) -> int:
    args = _parse("resume", "Resume a stopped, done or broken experiment.", argv)
    try:
        result = client(args.data_dir)[1].call("resume", name=args.name)
    except DaemonUnavailable:
        return fail(
            "no metaoptd is running: start one with `metaoptd --detach`, "
            "or run the experiment's command again to resume it in the foreground"
        )
    except MetaoptError as exc:
        return fail(str(exc))
    print(f"{args.name}: {result['state']}")
    return 0


def _parse(name: str, description: str, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"metaopt {name}", description=description)
    parser.add_argument("name", help="the experiment")
    add_data_dir(parser)
    return parser.parse_args(argv)
