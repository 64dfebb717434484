"""What the plots show, computed from an experiment's trials with no plotting library.

Each function takes a ``History`` (or several) and returns plain numbers, so that the figures,
an HTML page and the dashboard's JSON all show the same thing.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
import re
from collections.abc import Iterator
from collections.abc import Sequence

from metaopt._history import History
from metaopt.records import Trial
from metaopt.records import TrialStatus
from metaopt.space import parse_prior

_FAILED = (TrialStatus.FAILED, TrialStatus.BROKEN)


@dataclasses.dataclass(frozen=True)
class Point:
    """One completed trial in the order trials ended: its value and the best up to it."""

    number: int  # 1 for the first trial to end
    trial_id: str
    value: float
    best: float


def by_end(history: History) -> list[tuple[Trial, float]]:
    """Completed trials with a finite objective value (a diverged one that reported inf has
    no place on an axis), in the order they ended: the order of ``best_so_far`` and
    ``samples``; pass it to both to sort once."""
    scored = list(_completed(history))
    scored.sort(key=lambda tv: (tv[0].ended or math.inf, tv[0].id))
    return scored


def best_so_far(history: History, scored: list[tuple[Trial, float]] | None = None) -> list[Point]:
    """Completed trials by the time they ended, each with the best value seen so far."""
    scored = by_end(history) if scored is None else scored
    bests = running_best([v for _, v in scored], history.experiment.maximize)
    return [
        Point(number, trial.id, value, best)
        for number, ((trial, value), best) in enumerate(zip(scored, bests, strict=True), 1)
    ]


def running_best(values: list[float], maximize: bool) -> list[float]:
    """The best of ``values[: i + 1]`` for each i."""
    pick = max if maximize else min
    out: list[float] = []
    best = values[0] if values else 0.0
    for value in values:
        best = pick(best, value)
        out.append(best)
    return out


@dataclasses.dataclass(frozen=True)
class Curve:
    trial_id: str
    status: str
    steps: tuple[int, ...]
    values: tuple[float, ...]


def curves(history: History, top: int = 10) -> list[Curve]:
    """The learning curves (objective per reported step) of the ``top`` trials by their best
    step, with every frozen trial's and every one that completed short of the longest curve:
    what early stopping acted on."""
    metric = history.objective
    if metric is None:
        return []
    sign = -1.0 if history.experiment.maximize else 1.0
    reported: list[tuple[float, str, Trial]] = []  # (best step, id, trial): one pass each
    longest = 0
    for trial in history.trials:
        best = _best_step(trial, metric, sign)
        if best is not None:
            reported.append((best, trial.id, trial))
            longest = max(longest, len(trial.curve))
    reported.sort(key=lambda r: (r[0], r[1]))
    ranked = [trial for _, _, trial in reported]

    def paused_or_stopped(trial: Trial) -> bool:
        short = trial.status == TrialStatus.COMPLETED and len(trial.curve) < longest
        return trial.status == TrialStatus.FROZEN or short

    chosen = ranked[:top] + [t for t in ranked[top:] if paused_or_stopped(t)]
    out = []
    for trial in chosen:
        pairs = [(s, m[metric]) for s, m in trial.curve if _finite(m.get(metric))]
        steps, points = zip(*pairs, strict=True) if pairs else ((), ())
        out.append(Curve(trial.id, trial.status.label, tuple(steps), tuple(points)))
    return out


@dataclasses.dataclass(frozen=True)
class Sample:
    """A parameter's value (a number, or the index of a choice) beside a trial's objective."""

    param: str
    values: tuple[float, ...]
    objective: tuple[float, ...]
    trial_ids: tuple[str, ...]
    labels: tuple[str, ...] = ()  # a choice's names, indexed by its values; empty for numbers


def samples(history: History, scored: list[tuple[Trial, float]] | None = None) -> list[Sample]:
    """Per parameter, its value in each completed trial beside that trial's objective, in
    the order the trials ended."""
    scored = by_end(history) if scored is None else scored
    out = []
    for name in history.experiment.space:
        raw = [t.params.get(name) for t, _ in scored]
        objective = tuple(v for _, v in scored)
        ids = tuple(t.id for t, _ in scored)
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw):
            numbers = tuple(float(v) for v in raw)  # type: ignore[arg-type]
            out.append(Sample(name, numbers, objective, ids))
        else:
            labels = tuple(sorted({str(v) for v in raw}))
            index = {label: i for i, label in enumerate(labels)}
            indices = tuple(float(index[str(v)]) for v in raw)
            out.append(Sample(name, indices, objective, ids, labels))
    return out


def log_scaled(history: History, param: str) -> bool:
    """Whether ``param``'s prior spreads its values on a log scale (loguniform...)."""
    text = history.experiment.space.get(param)
    return text is not None and parse_prior(text, param).log


@dataclasses.dataclass(frozen=True)
class FailureGroup:
    """Failed trials whose stderr ends alike: the last line, numbers and paths blanked."""

    signature: str
    trial_ids: tuple[str, ...]
    example: str  # one of them's stderr tail, as it was


def failures(history: History) -> list[FailureGroup]:
    """Failed and broken trials grouped by the last line of their stderr, largest group first."""
    groups: dict[str, list[Trial]] = {}
    for trial in history.trials:
        if trial.status in _FAILED:
            groups.setdefault(failure_signature(trial.stderr_tail), []).append(trial)
    out = [
        FailureGroup(sig, tuple(t.id for t in trials), trials[0].stderr_tail)
        for sig, trials in groups.items()
    ]
    return sorted(out, key=lambda g: (-len(g.trial_ids), g.signature))


def failure_signature(stderr_tail: str) -> str:
    """The last non-blank line of a stderr tail, with numbers, addresses and paths blanked so
    that the same error from different trials reads the same."""
    lines = [line.strip() for line in stderr_tail.splitlines() if line.strip()]
    if not lines:
        return "(no stderr)"
    line = lines[-1]
    line = re.sub(r"0x[0-9a-fA-F]+", "0x…", line)
    line = re.sub(r"(?:/[\w.+-]+)+", "/…", line)
    return re.sub(r"\b\d+(?:\.\d+)?(?:e[-+]?\d+)?\b", "#", line)  # not conv2d, not 0x…


@dataclasses.dataclass(frozen=True)
class Entry:
    """A trial on the leaderboard of a script's experiments."""

    experiment: str
    trial_id: str
    value: float
    params: dict[str, object]


def leaderboard(histories: Sequence[History], top: int = 10) -> list[Entry]:
    """The ``top`` trials over several experiments of one script, best first (the experiments
    must agree on the objective's direction; the first one's counts)."""
    if not histories:
        return []
    sign = -1.0 if histories[0].experiment.maximize else 1.0
    scored = ((sign * v, h.name, t.id, v, t) for h in histories for t, v in _completed(h))
    best = heapq.nsmallest(top, scored, key=lambda row: row[:3])
    return [Entry(name, trial_id, v, dict(t.params)) for _, name, trial_id, v, t in best]


def trend(histories: Sequence[History]) -> list[tuple[str, float]]:
    """Each experiment's best value, oldest experiment first: is the search getting better?"""
    out = []
    for h in sorted(histories, key=lambda h: (h.experiment.created, h.name)):
        values = [v for _, v in _completed(h)]
        if values:
            out.append((h.name, max(values) if h.experiment.maximize else min(values)))
    return out


def _completed(history: History) -> Iterator[tuple[Trial, float]]:
    """Completed trials with a finite objective value, in no particular order."""
    metric = history.objective
    for trial in history.trials:
        if trial.status == TrialStatus.COMPLETED:
            value = trial.objective(metric)
            if value is not None and math.isfinite(value):
                yield trial, value


def _best_step(trial: Trial, metric: str, sign: float) -> float | None:
    """The best (least ``sign * value``) finite value of ``metric`` on the trial's curve; one
    plain loop, as every point of every trial goes through it."""
    best = None
    for _, metrics in trial.curve:
        value = metrics.get(metric)
        if isinstance(value, (int, float)) and math.isfinite(value):
            signed = sign * value
            if best is None or signed < best:
                best = signed
    return best


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)
