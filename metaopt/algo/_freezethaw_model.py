"""The freeze-thaw GP as freezethaw decides with it: a fit of every curve so far and the
MFPI-random scores it gives frozen trials and new points (see ``_freezethaw``)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING
from typing import Any

import numpy as np
from scipy.special import ndtr

from metaopt.algo._base import Params
from metaopt.algo._base import SearchHistory
from metaopt.algo._ftgp import FreezeThawGP
from metaopt.records import Trial
from metaopt.space import params_key

if TYPE_CHECKING:
    from metaopt.algo._freezethaw import FreezeThawAlgorithm


def rank_correlation(pairs: list[tuple[float, float]]) -> float:
    """Spearman's rho of the pairs' two values (ties broken by order); NaN when constant."""
    early, late = np.array(pairs).T
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.corrcoef(_ranks(early), _ranks(late))[0, 1])


class Scorer:
    """The model of one decision and the MFPI-random scores it gives."""

    def __init__(
        self,
        algo: FreezeThawAlgorithm,
        history: SearchHistory,
        trials: list[Trial],
        curves: dict[str, list[float]],
        rng: Any,
    ) -> None:
        self.algo, self.history, self.rng = algo, history, rng
        self.transform = _Transform(curves)
        rows: list[list[float]] = []
        data: list[tuple[np.ndarray, np.ndarray]] = []
        self.index: dict[str, int] = {}
        for trial in trials:
            if curves[trial.id]:
                self.index[trial.id] = len(rows)
                rows.append(algo.encoding.encode(trial.params))
                z = self.transform(curves[trial.id])
                data.append((np.arange(1.0, len(z) + 1), z))
        x = np.array(rows)
        hyper = algo.hyper(x, data)
        model = FreezeThawGP(hyper, x, data)
        fantasies = [t for t in trials if not curves[t.id] and t.status.is_active()]
        if fantasies:  # running, nothing reported yet: believed at their first step's mean
            fx = np.array([algo.encoding.encode(t.params) for t in fantasies])
            mean, _ = model.predict_new_curve(fx, 1.0)
            x = np.vstack([x, fx])
            data += [(np.array([1.0]), np.array([m])) for m in mean]
            model = FreezeThawGP(hyper, x, data)
        self.model = model
        self.lengths = np.array([len(t) for t, _ in data], dtype=float)
        observed = np.concatenate([z for _, z in data])
        self.best = float(observed.min())
        finals = np.array([z[-1] for _, z in data])
        spread = float(np.percentile(finals, 90) - np.percentile(finals, 10)) or 1.0
        self.threshold = self.best - 10 ** rng.uniform(-4, -1) * spread

    def frozen_scores(self, horizon: int) -> dict[str, float]:
        """Each modelled trial's score: its curve ``horizon`` steps on, below the threshold."""
        targets = np.minimum(self.lengths + horizon, float(self.algo.fidelity.high))
        mean, var = self.model.predict_at(targets)
        pi = ndtr((self.threshold - mean) / np.sqrt(var))
        return {tid: float(pi[i]) for tid, i in self.index.items()}

    def hopeless(self) -> set[str]:
        """Trials whose chance to beat the best at the full budget is under ``kill``."""
        targets = np.full(len(self.lengths), float(self.algo.fidelity.high))
        mean, var = self.model.predict_at(targets)
        chance = ndtr((self.best - mean) / np.sqrt(var))
        kill = self.algo.settings["kill"]
        return {tid for tid, i in self.index.items() if chance[i] < kill}

    def new_scores(self, horizon: int) -> list[tuple[Params, float]]:
        """The basket of new points and their scores: the best by expected improvement of the
        asymptote among random rows of the cube, decoded, less those proposed already."""
        algo = self.algo
        rows = self.rng.random((int(algo.settings["candidates"]), algo.encoding.width))
        mean, var = self.model.predict_asymptote(rows)
        sd = np.sqrt(var)
        u = (self.best - mean) / sd
        ei = sd * (u * ndtr(u) + np.exp(-0.5 * u**2) / math.sqrt(2 * math.pi))
        seen = self.history.seen()
        points: list[Params] = []
        for i in np.argsort(-ei):
            params = algo.encoding.decode(rows[i])
            if (key := params_key(params)) not in seen:
                seen.add(key)
                points.append(params)
            if len(points) == int(algo.settings["basket"]):
                break
        if not points:
            return []
        x = np.array([algo.encoding.encode(p) for p in points])
        t = float(min(horizon, algo.fidelity.high))
        mean_t, var_t = self.model.predict_new_curve(x, t)
        pi = ndtr((self.threshold - mean_t) / np.sqrt(var_t))
        return [(params, float(p)) for params, p in zip(points, pi, strict=True)]


class _Transform:
    """Running-best values to the model's scale: logs when all are positive, then standardized
    by the median and the interquartile range of every value seen."""

    def __init__(self, curves: dict[str, list[float]]) -> None:
        values = [v for c in curves.values() for v in c]
        self.log = bool(values) and min(values) > 0
        base = np.log(values) if self.log else np.asarray(values, float)
        self.centre = float(np.median(base)) if len(base) else 0.0
        q75, q25 = np.percentile(base, [75, 25]) if len(base) else (1.0, 0.0)
        self.scale = float(q75 - q25) or float(np.std(base)) or 1.0

    def __call__(self, values: list[float]) -> np.ndarray:
        v = np.log(values) if self.log else np.asarray(values, float)
        return (v - self.centre) / self.scale


def _ranks(values: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(values, kind="stable"), kind="stable").astype(float)
