"""``metaoptd``: run the node service in the foreground, detached, or install its cron line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from metaopt import _paths
from metaopt.errors import MetaoptError
from metaopt.storage import BACKENDS
from metaopt.storage import open_storage
from metaopt.storage._lock import FileLock
from metaoptd import cron
from metaoptd import detach
from metaoptd import settings as settings_mod
from metaoptd import slots as slots_mod
from metaoptd.node import LocalNode
from metaoptd.service import Daemon

EXIT_ALREADY_RUNNING = 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="metaoptd",
        description="The metaopt node service: runs trials on this machine's GPUs (or CPU slots).",
    )
    parser.add_argument(
        "--data-dir", help="store, key, trial folders and socket (env METAOPT_HOME)"
    )
    parser.add_argument("--storage", choices=BACKENDS, help="history backend (default leveldb)")
    parser.add_argument("--slots", type=int, help="CPU slots when no GPU is found (default 1)")
    parser.add_argument("--trials-per-gpu", type=int, help="trials packed on each GPU (default 1)")
    parser.add_argument(
        "--grace-period", type=float, help="seconds from SIGTERM to SIGKILL for trials"
    )
    parser.add_argument(
        "--report-interval", type=float, help="seconds between reads of trial reports"
    )
    parser.add_argument(
        "--detach", action="store_true", help="run in the background (pidfile in the data dir)"
    )
    parser.add_argument("--embedded", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--log-level", choices=("debug", "info", "warning", "error"))
    sub = parser.add_subparsers(dest="command")
    install = sub.add_parser("install-cron", help="start metaoptd at every boot (crontab @reboot)")
    install.add_argument("--print", action="store_true", help="only show the crontab line")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    directory = _paths.data_dir(args.data_dir)
    if args.command == "install-cron":
        return cron.install(directory, only_print=args.print)
    try:
        settings = settings_mod.load(directory, _overrides(args))
    except MetaoptError as exc:
        print(f"metaoptd: {exc}", file=sys.stderr)
        return 2
    if args.detach:
        detach.daemonize(directory)
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s metaoptd[%(process)d] %(levelname)s %(message)s",
    )
    return run(settings)


def run(settings: settings_mod.Settings) -> int:
    directory = settings.data_dir
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    directory.chmod(0o700)  # it holds the cluster key and the socket that runs commands
    try:
        lock = FileLock(directory / "metaoptd.lock")
    except MetaoptError:
        print(f"metaoptd: another metaoptd is running with data dir {directory}", file=sys.stderr)
        return EXIT_ALREADY_RUNNING
    try:
        slots = slots_mod.inventory(settings.trials_per_gpu, settings.slots)
        with open_storage(directory, settings.storage) as storage:
            asyncio.run(Daemon(settings, LocalNode(storage), slots).run())
    except (MetaoptError, ValueError) as exc:
        print(f"metaoptd: {exc}", file=sys.stderr)
        return 1
    finally:
        lock.release()
    return 0


def _overrides(args: argparse.Namespace) -> dict[str, object]:
    return {
        "storage": args.storage,
        "slots": args.slots,
        "trials_per_gpu": args.trials_per_gpu,
        "grace_period": args.grace_period,
        "report_interval": args.report_interval,
        "embedded": True if args.embedded else None,
        "log_level": args.log_level,
    }


if __name__ == "__main__":
    sys.exit(main())
