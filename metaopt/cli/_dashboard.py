"""``metaopt dashboard``: open the running daemon's web page, or serve the store's read-only."""

from __future__ import annotations

import argparse
import os
import sys
import webbrowser
from pathlib import Path

from metaopt.cli._common import add_data_dir
from metaopt.cli._common import client
from metaopt.cli._common import fail
from metaopt.errors import DaemonUnavailable
from metaopt.errors import MetaoptError
from metaoptd.web.token import TOKEN_NAME


def dashboard(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="metaopt dashboard",
        description="Open this node's dashboard in a browser: the running metaoptd's (started "
        "with --http), or, when none runs, a read-only page of the store served from here "
        "until Ctrl-C.",
    )
    parser.add_argument(
        "--url",
        action="store_true",
        help="print the page's address, with its token, and exit (to open elsewhere)",
    )
    parser.add_argument("--no-browser", action="store_true", help="print the address only")
    parser.add_argument(
        "--http",
        default="127.0.0.1:0",
        metavar="[ADDR:]PORT",
        help="where to serve the read-only page when no daemon runs (default: a free port "
        "on loopback)",
    )
    add_data_dir(parser)
    args = parser.parse_args(argv)
    directory, daemon = client(args.data_dir)
    try:
        info = daemon.call("ping")
    except DaemonUnavailable:
        return _serve_store(directory, args)
    except MetaoptError as exc:
        return fail(str(exc))
    if not info.get("http"):
        return fail(
            f"the metaoptd on {directory} serves no dashboard: restart it with --http PORT "
            '(e.g. `metaoptd --detach --http 8080`, or http = "8080" in metaoptd.toml)'
        )
    host, _, port = str(info["http"]).rpartition(":")
    if host in ("0.0.0.0", "::"):  # bound everywhere: this machine reaches it on loopback
        host = "127.0.0.1"
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    try:
        url += "?token=" + (Path(info["data_dir"]) / TOKEN_NAME).read_text().strip()
    except OSError as exc:
        print(f"metaopt: the page opens read-only: cannot read its token ({exc})", file=sys.stderr)
    _show(url, args)
    return 0


def _serve_store(directory: Path, args: argparse.Namespace) -> int:
    from metaoptd.web.offline import serve_store

    host, _, port = str(args.http).rpartition(":")
    if not port.isdigit() or int(port) > 65535:
        return fail(f"--http {args.http!r}: expected [ADDR:]PORT, e.g. 8080 or 127.0.0.1:0")
    if args.url:
        return fail(f"no metaoptd is running on {directory}: there is no page to point to")

    def ready(url: str, token: str) -> None:
        print(f"no metaoptd runs on {directory}: serving its store read-only; Ctrl-C ends it")
        _show(f"{url}?token={token}", args)
        sys.stdout.flush()

    try:
        serve_store(directory, host.strip("[]") or "127.0.0.1", int(port), ready)
    except MetaoptError as exc:
        return fail(str(exc))
    return 0


def _show(url: str, args: argparse.Namespace) -> None:
    print(url)
    # With no display, webbrowser would start a text browser in this terminal: print only.
    graphical = (
        sys.platform == "darwin" or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
    if graphical and not (args.url or args.no_browser):
        webbrowser.open(url)
