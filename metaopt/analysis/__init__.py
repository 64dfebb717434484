"""Analysis of an experiment: the numbers behind each plot, and the plots themselves.

    metaopt.analysis.plot("exp", "history")            # exp-history.png, in this folder
    metaopt.analysis.plot("exp", "slice", "slice.html")  # an HTML page, every asset inline
    metaopt.analysis.importance(metaopt.history("exp"))  # {param: share}, largest first

Kinds (``KINDS``): ``history`` (every completed trial's value, and the best so far), ``curves``
(learning curves of the best trials and of the frozen ones), ``slice`` (objective by each
parameter), ``parallel`` (parallel coordinates), ``importance`` (forest permutation
importance), ``failures`` (failed trials grouped by the last line of their stderr) and
``leaderboard`` (the top trials over every experiment of the same script, and the best value
of each experiment, oldest first). Figures are PNG by default, SVG, PDF or HTML by the file's
suffix; matplotlib loads only when a figure is drawn.
"""

from __future__ import annotations

import html
import io
import os
from collections.abc import Sequence
from pathlib import Path

from metaopt._history import History
from metaopt._history import histories
from metaopt._history import history
from metaopt.analysis._importance import importance
from metaopt.analysis._series import best_so_far
from metaopt.analysis._series import curves
from metaopt.analysis._series import failure_signature
from metaopt.analysis._series import failures
from metaopt.analysis._series import leaderboard
from metaopt.analysis._series import samples
from metaopt.analysis._series import trend
from metaopt.errors import MetaoptError

KINDS = ("history", "curves", "slice", "parallel", "importance", "failures", "leaderboard")
FORMATS = ("png", "svg", "pdf", "html")

__all__ = [
    "FORMATS",
    "KINDS",
    "best_so_far",
    "curves",
    "draw",
    "failure_signature",
    "failures",
    "importance",
    "leaderboard",
    "plot",
    "same_script",
    "samples",
    "script_of",
    "trend",
]


def plot(
    name: str,
    kind: str = "history",
    path: str | os.PathLike[str] | None = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    top: int = 10,
) -> Path:
    """Write the ``kind`` plot of experiment ``name`` to ``path`` (``NAME-KIND.png`` here by
    default); the format follows the suffix. Returns the file written.

    Raises:
        MetaoptError: an unknown kind or format, no such experiment, nothing to plot yet, or
            matplotlib is not installed.
    """
    target = Path(path) if path is not None else Path(f"{name}-{kind}.png")
    own = history(name, data_dir)
    group = same_script(own, histories(data_dir)) if kind == "leaderboard" else [own]
    return draw(kind, group, target, top=top)


def draw(kind: str, group: list[History], path: Path, top: int = 10) -> Path:
    """Write the ``kind`` figure of ``group[0]`` (the leaderboard: of the whole group)."""
    if kind not in KINDS:
        raise MetaoptError(f"unknown plot kind {kind!r}: one of {', '.join(KINDS)}")
    suffix = path.suffix.lower().lstrip(".") or "png"
    if suffix not in FORMATS:
        raise MetaoptError(f"{path}: unknown format {suffix!r}: one of {', '.join(FORMATS)}")
    from metaopt.analysis._figures import figure
    from metaopt.analysis._figures import pyplot

    fig = figure(kind, group, top)
    try:
        if suffix == "html":
            svg = io.StringIO()
            fig.savefig(svg, format="svg", metadata={"Date": None})
            _write(path, _page(f"{group[0].name}: {kind}", svg.getvalue()).encode())
        else:
            data = io.BytesIO()
            fig.savefig(data, format=suffix)
            _write(path, data.getvalue())
    finally:
        pyplot().close(fig)
    return path


def same_script(own: History, every: list[History]) -> list[History]:
    """``own`` first, then the other experiments that run the same script."""
    script = script_of(own.experiment.command)
    others = (h for h in every if h.name != own.name and script_of(h.experiment.command) == script)
    return [own, *others]


def script_of(command: Sequence[str]) -> str:
    """The script an experiment runs: past the interpreter, for ``python train.py ...``."""
    if len(command) > 1 and Path(command[0]).name.startswith("python"):
        return command[1]
    return command[0] if command else ""


def _page(title: str, svg: str) -> str:
    body = svg[svg.find("<svg") :]  # the figure, without its XML prologue
    return (
        "<!doctype html>\n<html lang=en><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title>\n<h1>{html.escape(title)}</h1>\n{body}\n</html>\n"
    )


def _write(path: Path, data: bytes) -> None:
    """Atomically: a reader never sees half a figure."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
