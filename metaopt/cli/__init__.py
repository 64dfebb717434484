"""The ``metaopt`` command: run an experiment, or inspect and steer the ones a node holds.

metaopt [options] SCRIPT [ARGS...]     run (or resume) an experiment
metaopt status [NAME]                  experiments and their progress
metaopt top NAME [-k K]                the best trials
metaopt history NAME [--csv|--json]    every trial
metaopt stop NAME / metaopt resume NAME
"""

from __future__ import annotations

import sys

from metaopt.cli import _inspect
from metaopt.cli import _manage
from metaopt.cli import _run

SUBCOMMANDS = {
    "status": _inspect.status,
    "top": _inspect.top,
    "history": _inspect.history,
    "stop": _manage.stop,
    "resume": _manage.resume,
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in SUBCOMMANDS:
        return SUBCOMMANDS[args[0]](args[1:])
    return _run.main(args)
