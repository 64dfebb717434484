"""The ``metaopt`` command: run an experiment, or inspect and steer the ones a node holds.

metaopt [--data-dir DIR] [options] SCRIPT [ARGS...]   run (or resume) an experiment
metaopt [--data-dir DIR] SUBCOMMAND ...               status, follow, top, history, stop,
                                                      resume, delete, peers, plot,
                                                      dashboard

Options before the subcommand work as with git or docker: ``metaopt --data-dir D status``.
"""

from __future__ import annotations

import importlib
import os
import sys

from metaopt import __version__

# subcommand -> (module, function, one line of help); modules load on use so that
# `metaopt status` stays quick
SUBCOMMANDS = {
    "status": ("_inspect", "status", "experiments and their progress (--follow to watch one)"),
    "follow": ("_inspect", "follow", "watch an experiment until it ends"),
    "top": ("_inspect", "top", "the best trials of an experiment"),
    "history": ("_inspect", "history", "every trial of an experiment (--csv, --json)"),
    "stop": ("_manage", "stop", "stop an experiment: its running trials are requeued"),
    "resume": ("_manage", "resume", "start a stopped or broken one again, or extend a done one"),
    "delete": ("_manage", "delete", "remove an experiment, its trials and their folders"),
    "peers": ("_inspect", "peers", "the cluster's members: state, address, trials running"),
    "plot": ("_plot", "plot", "plot an experiment: history, curves, slice, importance..."),
    "dashboard": ("_dashboard", "dashboard", "open the web page: experiments, plots, cluster"),
}
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for `... | head`


def main(argv: list[str] | None = None) -> int:
    try:
        code = _dispatch(sys.argv[1:] if argv is None else argv)
        sys.stdout.flush()  # here, where a reader gone away is caught, not at exit
        return code
    except BrokenPipeError:
        # The reader went away (`metaopt history NAME | head`): stop quietly, as `cat` would.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _dispatch(args: list[str]) -> int:
    leading, rest = split_global_options(args)
    if rest[:1] in (["--version"], ["-V"]):
        print(f"metaopt {__version__}")
        return 0
    if rest and rest[0] in SUBCOMMANDS:
        module, function, _ = SUBCOMMANDS[rest[0]]
        command = getattr(importlib.import_module(f"metaopt.cli.{module}"), function)
        return int(command([*leading, *rest[1:]]))
    from metaopt.cli import _run

    return _run.main(args)


def split_global_options(args: list[str]) -> tuple[list[str], list[str]]:
    """The ``--data-dir`` options given before anything else, and what follows them."""
    leading: list[str] = []
    i = 0
    while i < len(args):
        if args[i] == "--data-dir" and i + 1 < len(args):
            leading += args[i : i + 2]
            i += 2
        elif args[i].startswith("--data-dir="):
            leading.append(args[i])
            i += 1
        else:
            break
    return leading, args[i:]


def subcommands_help() -> str:
    """The list under ``metaopt --help``."""
    width = max(len(name) for name in SUBCOMMANDS)
    lines = [f"  {name.ljust(width)}  {text}" for name, (_, _, text) in SUBCOMMANDS.items()]
    return "\n".join(["subcommands (`metaopt SUBCOMMAND --help` for each):", *lines])
