"""The plots, drawn with matplotlib (imported here only: ``import metaopt`` never loads it).

Every figure is ``SIZE`` inches at ``DPI``, so a PNG is always ``WIDTH`` x ``HEIGHT`` pixels.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

from metaopt._history import History
from metaopt.analysis import _series
from metaopt.analysis._importance import importance
from metaopt.errors import MetaoptError

SIZE = (9.0, 5.5)
DPI = 100
WIDTH, HEIGHT = int(SIZE[0] * DPI), int(SIZE[1] * DPI)


def pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise MetaoptError(
            "plots need matplotlib: pip install 'metaopt[plot]' (or pip install matplotlib)"
        ) from None
    matplotlib.use("Agg")  # files only: no display, no GUI toolkit
    import matplotlib.pyplot as plt

    return plt


def figure(kind: str, histories: Sequence[History], top: int) -> Any:
    """The figure of ``kind`` for ``histories[0]`` (the leaderboard uses them all)."""
    plt = pyplot()
    fig = plt.figure(figsize=SIZE, dpi=DPI)
    try:
        DRAW[kind](fig, histories, top)
    except Exception:
        plt.close(fig)
        raise
    return fig


def _history(fig: Any, histories: Sequence[History], top: int) -> None:
    h = histories[0]
    points = _series.best_so_far(h)
    _need(points, h, "completed trial")
    ax = fig.add_subplot()
    ax.scatter([p.number for p in points], [p.value for p in points], s=14, label="trial")
    ax.step([p.number for p in points], [p.best for p in points], where="post", label="best")
    ax.set_xlabel("completed trials, in the order they ended")
    ax.set_ylabel(_objective_label(h))
    ax.set_title(f"{h.name}: optimization history")
    ax.legend()
    _log_if_wide(ax, [p.value for p in points])


def _curves(fig: Any, histories: Sequence[History], top: int) -> None:
    h = histories[0]
    lines = _series.curves(h, top)
    _need(lines, h, "reported step")
    ax = fig.add_subplot()
    for line in lines:
        style = {"frozen": "--", "running": "-"}.get(line.status, "-")
        alpha = 0.5 if line.status == "frozen" else 0.9
        label = f"{line.trial_id} {line.status}"
        ax.plot(line.steps, line.values, style, alpha=alpha, label=label)
    ax.set_xlabel("step")
    ax.set_ylabel(_objective_label(h))
    ax.set_title(f"{h.name}: learning curves of the best {top} trials and the frozen ones")
    ax.legend(fontsize=7, ncol=2)
    _log_if_wide(ax, [v for line in lines for v in line.values])


def _slice(fig: Any, histories: Sequence[History], top: int) -> None:
    h = histories[0]
    columns = _series.samples(h)
    _need(columns and columns[0].objective, h, "completed trial")
    cols = math.ceil(math.sqrt(len(columns)))
    rows = math.ceil(len(columns) / cols)
    for i, sample in enumerate(columns):
        ax = fig.add_subplot(rows, cols, i + 1)
        order = range(len(sample.values))
        ax.scatter(sample.values, sample.objective, c=list(order), cmap="viridis", s=12)
        ax.set_xlabel(sample.param)
        if sample.labels:
            ax.set_xticks(range(len(sample.labels)), sample.labels, rotation=30, fontsize=7)
        elif _series.log_scaled(h, sample.param) and min(sample.values) > 0:
            ax.set_xscale("log")
        if i % cols == 0:
            ax.set_ylabel(_objective_label(h))
    fig.suptitle(f"{h.name}: objective by each parameter (darker: earlier)")
    fig.tight_layout()


def _parallel(fig: Any, histories: Sequence[History], top: int) -> None:
    h = histories[0]
    columns = _series.samples(h)
    _need(columns and columns[0].objective, h, "completed trial")
    objective = list(columns[0].objective)
    axes = [*(_scaled(h, s) for s in columns), _unit(objective)]
    names = [*(s.param for s in columns), _objective_label(h)]
    ax = fig.add_subplot()
    cmap = pyplot().get_cmap("viridis_r" if not h.experiment.maximize else "viridis")
    low, high = min(objective), max(objective)
    for i in sorted(range(len(objective)), key=lambda i: -objective[i] * _sign(h)):
        shade = (objective[i] - low) / (high - low) if high > low else 0.5
        ax.plot(range(len(axes)), [a[i] for a in axes], color=cmap(shade), alpha=0.7, lw=1)
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks([0, 1], ["low", "high"])
    for x in range(len(names)):
        ax.axvline(x, color="grey", lw=0.5)
    ax.set_title(f"{h.name}: parallel coordinates (the best drawn last, on top)")


def _importance(fig: Any, histories: Sequence[History], top: int) -> None:
    h = histories[0]
    shares = importance(h)
    ax = fig.add_subplot()
    names = list(shares)[::-1]
    ax.barh(names, [shares[n] for n in names])
    ax.set_xlabel("share of the objective's variation (forest permutation importance)")
    ax.set_title(f"{h.name}: parameter importance")
    fig.tight_layout()


def _failures(fig: Any, histories: Sequence[History], top: int) -> None:
    h = histories[0]
    groups = _series.failures(h)[:top]
    ax = fig.add_subplot()
    if not groups:
        ax.text(0.5, 0.5, "no failed trial", ha="center", va="center", fontsize=14)
        ax.set_axis_off()
    else:
        labels = [textwrap.shorten(g.signature, 70) for g in groups][::-1]
        ax.barh(labels, [len(g.trial_ids) for g in groups][::-1])
        ax.set_xlabel("failed trials")
        ax.tick_params(axis="y", labelsize=7)
    ax.set_title(f"{h.name}: failures grouped by the last line of their stderr")
    fig.tight_layout()


def _leaderboard(fig: Any, histories: Sequence[History], top: int) -> None:
    h = histories[0]
    entries = _series.leaderboard(histories, top)
    _need(entries, h, "completed trial")
    table_ax = fig.add_subplot(1, 2, 1)
    table_ax.set_axis_off()
    rows = [
        [e.experiment, e.trial_id, f"{e.value:.4g}", textwrap.shorten(_params(e.params), 40)]
        for e in entries
    ]
    table = table_ax.table(
        rows, colLabels=["experiment", "trial", "value", "parameters"], loc="center"
    )
    table.auto_set_font_size(False)
    table.set_fontsize(7)
    table.auto_set_column_width(range(4))
    table_ax.set_title(f"top {len(entries)} over {len(histories)} experiment(s)")
    trend = _series.trend(histories)
    ax = fig.add_subplot(1, 2, 2)
    ax.plot(range(1, len(trend) + 1), [v for _, v in trend], "o-")
    ax.set_xticks(range(1, len(trend) + 1), [n for n, _ in trend], rotation=30, fontsize=7)
    ax.set_ylabel(f"best {_objective_label(h)}")
    ax.set_title("best value of each experiment, oldest first")
    fig.tight_layout()


DRAW: dict[str, Callable[[Any, Sequence[History], int], None]] = {
    "history": _history,
    "curves": _curves,
    "slice": _slice,
    "parallel": _parallel,
    "importance": _importance,
    "failures": _failures,
    "leaderboard": _leaderboard,
}


def _need(data: Any, h: History, what: str) -> None:
    if not data:
        raise MetaoptError(f"{h.name}: no {what} to plot yet")


def _objective_label(h: History) -> str:
    goal = "max" if h.experiment.maximize else "min"
    return f"{h.objective or 'objective'} ({goal})"


def _sign(h: History) -> float:
    return -1.0 if h.experiment.maximize else 1.0


def _scaled(h: History, sample: _series.Sample) -> list[float]:
    values = list(sample.values)
    if not sample.labels and _series.log_scaled(h, sample.param):
        values = [math.log(v) if v > 0 else 0.0 for v in values]
    return _unit(values)


def _unit(values: list[float]) -> list[float]:
    low, high = min(values), max(values)
    return [(v - low) / (high - low) if high > low else 0.5 for v in values]


def _log_if_wide(ax: Any, values: list[float]) -> None:
    """A log scale when positive values span more than two decades."""
    positive = [v for v in values if v > 0]
    if len(positive) == len(values) and positive and max(positive) > 100 * min(positive):
        ax.set_yscale("log")


def _params(params: dict[str, object]) -> str:
    shown = (f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())
    return ", ".join(shown)
