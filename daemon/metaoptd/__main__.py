"""``metaoptd``: run the node service (in the foreground or detached), stop it, ask how it is."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from metaopt import __version__
from metaopt import _paths
from metaopt._replica import LocalReplica
from metaopt.errors import MetaoptError
from metaopt.storage import BACKENDS
from metaopt.storage import open_storage
from metaopt.storage._lock import FileLock
from metaoptd import cron
from metaoptd import detach
from metaoptd import keys
from metaoptd import manage
from metaoptd import settings as settings_mod
from metaoptd import slots as slots_mod
from metaoptd.node import ClusterNode
from metaoptd.service import Daemon
from metaoptd.settings import DEFAULT_PORT

EXIT_ALREADY_RUNNING = 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="metaoptd",
        description="The metaopt node service: runs trials on this machine's GPUs (or CPU slots).",
    )
    parser.add_argument("--version", action="version", version=f"metaoptd {__version__}")
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
        "--frozen-limit-mb",
        type=float,
        help="MB of frozen trials' checkpoints kept on this node; beyond it the least "
        "promising frozen trial is stopped for good (default 20000)",
    )
    parser.add_argument(
        "--copy-interval",
        type=float,
        help="seconds between copies of a running trial's changed checkpoint to a peer, so "
        "that its adopter resumes from it if this node dies (default 30; 0: never)",
    )
    parser.add_argument(
        "--shared-dir",
        metavar="PATH",
        help="a folder every node mounts (NFS...): checkpoint copies go there, and any node "
        "thaws or adopts a trial from it",
    )
    parser.add_argument(
        "--http",
        metavar="[ADDR:]PORT",
        help="serve the dashboard's API there (off by default; ADDR 127.0.0.1 unless given); "
        "writes, and beyond loopback every request, need the token in DATA_DIR/http.token",
    )
    parser.add_argument(
        "--detach", action="store_true", help="run in the background (pidfile in the data dir)"
    )
    parser.add_argument("--embedded", action="store_true", help=argparse.SUPPRESS)
    cluster = parser.add_argument_group("cluster")
    cluster.add_argument("--bind", metavar="ADDR", help="address to listen on (default: all)")
    cluster.add_argument(
        "--port", type=int, help=f"UDP and TCP port of the cluster (default {DEFAULT_PORT})"
    )
    cluster.add_argument(
        "--transfer-port",
        type=int,
        help="TCP port for checkpoints between nodes (default: the cluster port + 1)",
    )
    cluster.add_argument("--advertise", metavar="HOST", help="address others reach this node at")
    cluster.add_argument(
        "--join",
        action="append",
        metavar="HOST[:PORT]",
        help="a node of the cluster to join (repeatable; where there is no multicast)",
    )
    cluster.add_argument(
        "--key-file", help="the cluster key (default DATA_DIR/cluster.key, made at first start)"
    )
    cluster.add_argument(
        "--no-zeroconf", action="store_true", help="do not look for nodes on the LAN"
    )
    cluster.add_argument("--settle", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--log-level", choices=("debug", "info", "warning", "error"))
    sub = parser.add_subparsers(dest="command", metavar="{stop,status,install-cron}")
    stop = sub.add_parser("stop", help="stop the daemon of this data dir, interrupting its trials")
    stop.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="seconds to wait for it to exit (default 120)",
    )
    sub.add_parser("status", help="whether a daemon runs on this data dir, and what it has")
    install = sub.add_parser("install-cron", help="start metaoptd at every boot (crontab @reboot)")
    install.add_argument("--print", action="store_true", help="only show the crontab line")
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl-C before the signal handlers are in place
        return 130


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    directory = _paths.data_dir(args.data_dir)
    if args.command == "install-cron":
        return cron.install(directory, only_print=args.print)
    if args.command == "stop":
        return manage.stop(directory, args.timeout)
    if args.command == "status":
        return manage.status(directory)
    try:
        settings = settings_mod.load(directory, _overrides(args))
        _paths.ensure_data_dir(directory)
    except MetaoptError as exc:
        print(f"metaoptd: {exc}", file=sys.stderr)
        return 2
    directory.chmod(0o700)  # it holds the cluster key and the socket that runs commands
    try:
        # Taken before detaching (the lock is inherited), so a second `--detach` says so here,
        # in the terminal, and leaves the running daemon's pidfile alone.
        lock = FileLock(_paths.lock_path(directory))
    except MetaoptError:
        print(f"metaoptd: {manage.already_running(directory)}", file=sys.stderr)
        return EXIT_ALREADY_RUNNING
    if args.detach:
        detach.daemonize(directory)
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s metaoptd[%(process)d] %(levelname)s %(message)s",
    )
    try:
        return run(settings)
    finally:
        if args.detach:
            detach.remove_pidfile(directory)
        lock.release()


def run(settings: settings_mod.Settings) -> int:
    """Serve until stopped; the caller holds the data dir's lock."""
    try:
        slots = slots_mod.inventory(settings.trials_per_gpu, settings.slots)
        with open_storage(settings.data_dir, settings.storage) as storage:
            replica = LocalReplica(storage)
            cluster = None
            if settings.cluster:
                key = keys.load_or_create(
                    settings.cluster_key_path, create=settings.key_file is None
                )
                cluster = ClusterNode(replica, settings, key)
            asyncio.run(Daemon(settings, replica, slots, cluster).run())
    except (MetaoptError, ValueError) as exc:
        print(f"metaoptd: {exc}", file=sys.stderr)
        return 1
    return 0


def _overrides(args: argparse.Namespace) -> dict[str, object]:
    return {
        "storage": args.storage,
        "slots": args.slots,
        "trials_per_gpu": args.trials_per_gpu,
        "grace_period": args.grace_period,
        "report_interval": args.report_interval,
        "frozen_limit_mb": args.frozen_limit_mb,
        "copy_interval": args.copy_interval,
        "shared_dir": args.shared_dir,
        "transfer_port": args.transfer_port,
        "http": args.http,
        "embedded": True if args.embedded else None,
        "log_level": args.log_level,
        "bind": args.bind,
        "port": args.port,
        "advertise": args.advertise,
        "join": args.join,
        "key_file": args.key_file,
        "zeroconf": False if args.no_zeroconf else None,
        "settle": args.settle,
    }


if __name__ == "__main__":
    sys.exit(main())
