"""The ``metaopt`` command: run an experiment, or inspect and steer the ones a node holds.

metaopt [options] SCRIPT [ARGS...]     run (or resume) an experiment
metaopt status [NAME]                  experiments and their progress
metaopt top NAME [-k K]                the best trials
metaopt history NAME [--csv|--json]    every trial
metaopt stop NAME / metaopt resume NAME
"""

from __future__ import annotations

import importlib
import sys

# subcommand -> (module, function); modules load on use so `metaopt status` stays quick
SUBCOMMANDS = {
    "status": ("_inspect", "status"),
    "top": ("_inspect", "top"),
    "history": ("_inspect", "history"),
    "stop": ("_manage", "stop"),
    "resume": ("_manage", "resume"),
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    module, function = SUBCOMMANDS.get(args[0], ("_run", "main")) if args else ("_run", "main")
    command = getattr(importlib.import_module(f"metaopt.cli.{module}"), function)
    return int(command(args[1:] if module != "_run" else args))
