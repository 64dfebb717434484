"""``metaopt [options] SCRIPT [ARGS...]``: create or resume an experiment and run it.

With a metaoptd running on this data directory the experiment is submitted to it (``--follow``
to watch). Without one, an embedded daemon runs it in the foreground and the best trial is
printed at the end; Ctrl-C interrupts the running trials, and the same command resumes.
"""

from __future__ import annotations

import argparse
import difflib
import os
import secrets
import shutil
import sys
from pathlib import Path
from typing import Any
from typing import NoReturn

from metaopt import _paths
from metaopt.algo import load_configs
from metaopt.algo import make_algorithm
from metaopt.cli import SUBCOMMANDS
from metaopt.cli import subcommands_help
from metaopt.cli._common import fail
from metaopt.cli._embedded import EmbeddedDaemon
from metaopt.cli._follow import exit_code
from metaopt.cli._follow import final_report
from metaopt.cli._follow import follow
from metaopt.errors import MetaoptError
from metaopt.space import parse_command
from metaopt.storage import BACKENDS

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="metaopt",
        usage="metaopt [options] SCRIPT [ARGS...]\n       metaopt [--data-dir DIR] SUBCOMMAND ...",
        description="Search hyperparameters of SCRIPT. Mark a searched flag with ~ and a prior: "
        "--lr~'loguniform(1e-5, 1e-1)'. Other arguments are passed through unchanged.",
        epilog=subcommands_help() + "\n\n`metaopt --version` prints the version.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("-n", "--name", help="experiment name (default: the script's name)")
    p.add_argument(
        "--max-trials",
        type=int,
        default=20,
        help="completed trials to reach (default 20); with early stopping "
        "(asha, hyperband, freezethaw), configurations to start",
    )
    p.add_argument(
        "--algo",
        default="bayes",
        help="bayes, evolution, random, grid, list; asha, hyperband or freezethaw to stop "
        "trials early and resume the promising ones (default bayes)",
    )
    p.add_argument(
        "--algo-option",
        action="append",
        default=[],
        metavar="KEY=NUMBER",
        help="an option of the algorithm, e.g. n_initial=20 for bayes (repeatable)",
    )
    p.add_argument(
        "--configs", help="with --algo list: a JSON, JSON-lines or CSV file of configurations"
    )
    p.add_argument("--objective", help="the metric to optimize (default: the first one reported)")
    p.add_argument(
        "--maximize", action="store_true", help="maximize the objective instead of minimizing"
    )
    p.add_argument(
        "--seed", type=int, help="seed of the search (default: drawn once, then stored)"
    )
    p.add_argument(
        "--max-broken", type=int, default=3, help="consecutive failures that stop it (default 3)"
    )
    p.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME[=VALUE]",
        help="environment variable the trials get (repeatable); NAME alone copies yours",
    )
    p.add_argument("--parallel", type=int, help="CPU slots of the embedded daemon (default 1)")
    p.add_argument(
        "--trials-per-gpu", type=int, help="trials packed on each GPU by the embedded daemon"
    )
    p.add_argument(
        "--storage", choices=BACKENDS, help="backend of the embedded daemon (default leveldb)"
    )
    p.add_argument(
        "--follow", action="store_true", help="with a daemon running: watch until it ends"
    )
    p.add_argument("--data-dir", help="the node's data directory (env METAOPT_HOME)")
    p.add_argument(
        "command", nargs=argparse.REMAINDER, help="the script or program, then its arguments"
    )
    return p


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_usage(sys.stderr)
        return fail(
            "give a script to run, e.g. `metaopt train.py --lr~'loguniform(1e-5, 1e-1)'`",
            EXIT_USAGE,
        )
    try:
        experiment = build_experiment(args)
    except MetaoptError as exc:
        return fail(str(exc), EXIT_USAGE)
    directory = _paths.data_dir(args.data_dir)
    try:
        return _submit_or_run(args, directory, experiment)
    except MetaoptError as exc:
        return fail(str(exc))


# the embedded daemon's options and watching: meaningless for a definition sent from elsewhere
_LOCAL_ONLY = ("parallel", "trials_per_gpu", "storage", "follow", "data_dir")


def experiment_from_args(argv: list[str], cwd: str) -> dict[str, Any]:
    """What ``metaopt ARGV`` run in ``cwd`` would submit, by the CLI's own parsing and checks,
    for callers that are no shell (the dashboard's form): the same errors, as MetaoptError."""

    def refuse(message: str) -> NoReturn:
        raise MetaoptError(message)

    def no_exit(status: int = 0, message: str | None = None) -> NoReturn:
        # argparse's -h prints and exits: in the daemon, that would end the daemon
        raise MetaoptError(message or "-h/--help: `metaopt --help` in a shell lists the options")

    parser = build_parser()
    parser.error = refuse  # type: ignore[method-assign]
    parser.exit = no_exit  # type: ignore[method-assign]
    parser.print_help = lambda file=None: None  # type: ignore[method-assign]
    if not os.path.isabs(cwd) or not os.path.isdir(cwd):
        raise MetaoptError(f"working directory {cwd!r}: not an absolute path to a folder")
    args = parser.parse_args(argv)
    if not args.command:
        raise MetaoptError("give a script to run, e.g. train.py --lr~'loguniform(1e-5, 1e-1)'")
    for name in _LOCAL_ONLY:
        if getattr(args, name) not in (None, False):
            flag = "--" + name.replace("_", "-")
            raise MetaoptError(f"{flag}: an option of `metaopt` run from a shell, not here")
    return build_experiment(args, cwd)


def _algo_options(pairs: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        try:
            value = float(text)
        except ValueError:
            value = None
        if not sep or not key or value is None:
            raise MetaoptError(f"--algo-option {pair!r}: expected KEY=NUMBER, e.g. n_initial=20")
        options[key] = int(value) if value.is_integer() and "." not in text else value
    return options


def build_experiment(args: argparse.Namespace, cwd: str | None = None) -> dict[str, Any]:
    """The definition sent to the daemon; every user error is caught here, before anything runs.

    ``cwd``: where the command is run from (this process's working directory by default).
    """
    cwd = cwd or os.getcwd()
    command = resolve_command(args.command, cwd)
    _, space = parse_command(command)
    if not space and args.algo != "list":
        raise MetaoptError(
            f"nothing to search in `{' '.join(args.command)}`: mark at least one flag with ~ "
            "and a prior, e.g. --lr~'loguniform(1e-5, 1e-1)'; every trial runs this command"
        )
    options: dict[str, Any] = _algo_options(args.algo_option)
    if args.configs:
        options["configs"] = load_configs(args.configs)
    if args.max_trials < 1 or args.max_broken < 1:
        raise MetaoptError("--max-trials and --max-broken must be at least 1")
    make_algorithm(args.algo, space, options=options)  # an unsearchable space fails now
    return {
        "name": args.name or Path(args.command[0]).stem,
        "command": command,
        "cwd": cwd,
        "env": _env(args.env),
        "algo": args.algo,
        "algo_options": options,
        "max_trials": args.max_trials,
        "objective": args.objective,
        "maximize": args.maximize,
        "seed": args.seed if args.seed is not None else secrets.randbelow(2**31),
        "max_broken": args.max_broken,
    }


def resolve_command(command: list[str], cwd: str | None = None) -> list[str]:
    """Absolute paths, so a daemon started elsewhere (by cron) runs exactly this."""
    cwd = cwd or os.getcwd()
    program, rest = command[0], command[1:]
    if program.endswith(".py"):
        script = Path(cwd, program)
        if not script.is_file():
            raise MetaoptError(f"script not found: {program} (in {cwd})")
        return [sys.executable, str(script.resolve()), *rest]
    if os.sep in program:
        path = Path(cwd, program)
        if not path.is_file() or not os.access(path, os.X_OK):
            raise MetaoptError(f"not an executable file: {program}")
        return [str(path.resolve()), *rest]
    found = shutil.which(program)
    if found is None:
        raise MetaoptError(f"command not found: {program}{_did_you_mean(program)}")
    return [found, *rest]


def _did_you_mean(word: str) -> str:
    """A hint for a mistyped subcommand (or one given after options of a run)."""
    close = difflib.get_close_matches(word, SUBCOMMANDS, n=1, cutoff=0.6)
    if not close:
        return ""
    if close[0] == word:
        return f"; `{word}` is a subcommand: it goes first, `metaopt {word} ...`"
    return f"; did you mean `metaopt {close[0]}`?"


def _env(names: list[str]) -> dict[str, str]:
    env = {}
    for item in names:
        name, sep, value = item.partition("=")
        if not sep:
            if name not in os.environ:
                raise MetaoptError(f"--env {name}: not set in your environment")
            value = os.environ[name]
        env[name] = value
    return env


def _submit_or_run(args: argparse.Namespace, directory: Path, experiment: dict[str, Any]) -> int:
    from metaopt._control import Client

    client = Client(_paths.socket_path(directory))
    if client.is_alive():
        return _submit(client, args, experiment)
    daemon = EmbeddedDaemon(directory, _daemon_flags(args))
    if not daemon.wait_ready():  # another daemon took the directory meanwhile
        return _submit(client, args, experiment)
    try:
        result = client.call("submit", experiment=experiment)
        _print_state(result, experiment["name"])
        summary = follow(client, experiment["name"])
    except KeyboardInterrupt:
        print("\ninterrupting running trials...", file=sys.stderr, flush=True)
        daemon.interrupt()  # it records the experiment as stopped, its trials as requeued
        print(
            f"interrupted; run the same command again to resume {experiment['name']}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except MetaoptError:
        daemon.interrupt()
        raise
    daemon.finish()
    print(final_report(summary))
    return exit_code(summary)


def _submit(client: Any, args: argparse.Namespace, experiment: dict[str, Any]) -> int:
    result = client.call("submit", experiment=experiment)
    _print_state(result, experiment["name"])
    if not args.follow:
        print(f"submitted; watch it with `metaopt follow {experiment['name']}`")
        return 0
    try:
        summary = follow(client, experiment["name"])
    except KeyboardInterrupt:
        print("\nstopped watching; the experiment goes on in metaoptd", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(final_report(summary))
    return exit_code(summary)


def _print_state(result: dict[str, Any], name: str) -> None:
    words = {"created": "created", "resumed": "resumed", "running": "already running; following"}
    print(f"{name}: {words.get(result['state'], result['state'])}", flush=True)


def _daemon_flags(args: argparse.Namespace) -> list[str]:
    flags = []
    if args.parallel is not None:
        flags += ["--slots", str(args.parallel)]
    if args.trials_per_gpu is not None:
        flags += ["--trials-per-gpu", str(args.trials_per_gpu)]
    if args.storage is not None:
        flags += ["--storage", args.storage]
    return flags
