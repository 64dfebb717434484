"""What every subcommand shares: the data directory, the daemon client, number formatting."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from metaopt import _paths
from metaopt._control import Client


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        help="the node's data directory (env METAOPT_HOME, default ~/.local/share/metaopt)",
    )


def client(data_dir: str | None) -> tuple[Path, Client]:
    directory = _paths.data_dir(data_dir)
    return directory, Client(_paths.socket_path(directory))


def fail(message: str, code: int = 1) -> int:
    print(f"metaopt: {message}", file=sys.stderr)
    return code


def fmt(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def fmt_params(params: dict[str, object] | None) -> str:
    return " ".join(f"{k}={fmt(v)}" for k, v in (params or {}).items())


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)
