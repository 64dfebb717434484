"""``metaopt plot NAME``: an experiment's analysis plots, as PNG (or SVG, PDF, HTML) files."""

from __future__ import annotations

import argparse
from pathlib import Path

from metaopt.cli._common import add_data_dir
from metaopt.cli._common import fail
from metaopt.errors import MetaoptError


def plot(argv: list[str]) -> int:
    from metaopt import analysis
    from metaopt._history import histories
    from metaopt._history import history

    parser = argparse.ArgumentParser(
        prog="metaopt plot",
        description="Plot an experiment: " + ", ".join(analysis.KINDS) + ".",
    )
    parser.add_argument("name", help="the experiment")
    parser.add_argument(
        "--kind",
        default="history",
        choices=[*analysis.KINDS, "all"],
        help="which plot (default history; all: every plot there is data for)",
    )
    parser.add_argument(
        "-o",
        "--output",
        help="the file (its suffix sets the format: .png .svg .pdf .html; default "
        "NAME-KIND.png here); with --kind all, a folder",
    )
    parser.add_argument("--top", type=int, default=10, help="trials in curves, leaderboard")
    add_data_dir(parser)
    args = parser.parse_args(argv)
    if args.top < 1:
        parser.error("--top must be at least 1")
    kinds = analysis.KINDS if args.kind == "all" else (args.kind,)
    try:
        own = history(args.name, args.data_dir)
        # the other experiments are read only for the leaderboard
        every = histories(args.data_dir) if "leaderboard" in kinds else [own]
    except MetaoptError as exc:
        return fail(str(exc))
    written = 0
    for kind in kinds:
        path = _target(args.output, args.name, kind, every_kind=args.kind == "all")
        group = analysis.same_script(own, every) if kind == "leaderboard" else [own]
        try:
            analysis.draw(kind, group, path, top=args.top)
        except MetaoptError as exc:
            if args.kind != "all":
                return fail(str(exc))
            print(f"{kind}: skipped: {exc}")
            continue
        print(path)
        written += 1
    return 0 if written else 1


def _target(output: str | None, name: str, kind: str, every_kind: bool) -> Path:
    if every_kind:
        return Path(output or ".") / f"{name}-{kind}.png"
    return Path(output) if output else Path(f"{name}-{kind}.png")
