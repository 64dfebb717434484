"""freezethaw: the freeze-thaw GP scoring frozen trials and new points, one lease at a time.

Each decision (an idle slot, or a report of a running trial) fits the learning-curve model of
``_ftgp`` to every curve so far and draws a random horizon h (steps) and a random threshold
below the best value seen (MFPI-random, from ifBO). Each frozen trial scores the probability
that its curve, h steps on, falls below the threshold; each of a few new points (the best of
2,000 random ones by expected improvement of the asymptote) scores the same for a new curve at
h. The best score wins. With probability ``p_sh`` the ASHA promotion rule decides instead,
which bounds the damage of a wrong model.

A running trial is re-judged at each report as if it were frozen (lazy freezing): it keeps its
slot while it wins or scores within ``hysteresis`` of the winner, so a winning trial is never
checkpointed for nothing. A frozen trial whose chance to beat the best at the full budget falls
under ``kill`` is never thawed again. Running trials enter the model as the data they reported,
and those with no report yet at the mean the model expects of their first step (a believer
fantasy), so that new points keep away from them.

Not among the names ``make_algorithm`` offers: in bench/freezethaw.py it ends best where early
values rank configurations right (synthetic curves without crossing, the digits pool) and reaches
random search's final regret at 19-27 % of the budget, but where the best configurations learn
slowest (crossing) it ends worse than random search, stuck with the early leaders (see
docs/benchmarks.md): with few long curves the fit puts little variance on the asymptotes, so
trials frozen early are not thawed.

Values are modelled as their running best, in logs when all are positive, standardized by the
median and the interquartile range of all of them. Hyperparameters are refitted on a schedule
(every ``refit_every`` new steps, then every 25 % more) and held in between; a decision itself
costs milliseconds.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import ndtr

from metaopt._log import logger
from metaopt.algo._asha import promotion
from metaopt.algo._base import Params
from metaopt.algo._base import SearchHistory
from metaopt.algo._encoding import UnitEncoding
from metaopt.algo._fidelity import Lease
from metaopt.algo._fidelity import MultiFidelityAlgorithm
from metaopt.algo._fidelity import is_frozen
from metaopt.algo._fidelity import running_best
from metaopt.algo._fidelity import steps_done
from metaopt.algo._ftgp import FreezeThawGP
from metaopt.algo._ftgp import Hyper
from metaopt.algo._ftgp import fit
from metaopt.records import Trial
from metaopt.space import params_key

_log = logger.getChild("algo")

_DEFAULTS: dict[str, float] = {
    "p_sh": 0.25,  # the share of decisions ASHA's promotion rule takes
    "candidates": 2000,  # random points scored for a new trial
    "basket": 10,  # of which the best by expected improvement compete with the frozen trials
    "hysteresis": 0.1,  # a running trial keeps its slot within this share of the winner's score
    "kill": 1e-3,  # below this chance of beating the best at the full budget: never thawed
    "refit_every": 20,  # new steps between hyperparameter refits
    "trust": 0.5,  # early values are trusted while they rank trials this well (Spearman)
}
_TRUST_PAIRS = 5  # trials trained well past the first rung before early ranks are judged


class FreezeThawAlgorithm(MultiFidelityAlgorithm):
    name = "freezethaw"

    def configure_search(self) -> None:
        self.settings = self.numeric_options(_DEFAULTS)
        self.encoding = UnitEncoding(self.searched)
        self.n_init = max(3, self.encoding.width + 1)
        self._hyper: Hyper | None = None
        self._fitted_at = -1  # steps in the history at the last refit

    # -- the two questions --------------------------------------------------------------------

    def lease(self, history: SearchHistory) -> Lease | None:
        choice = self._decide(history, None)
        return choice[0] if choice is not None else None

    def go_on(self, history: SearchHistory, trial: Trial, until: int) -> bool:
        done = steps_done(trial)
        if done >= until or done >= self.fidelity.high:
            return False
        if done < self.rungs[0] or until < self.fidelity.high:
            return True  # every trial gets the first rung; a lease of ASHA's rule runs out
        if not self.early_values_rank(history):
            return True  # early values mislead here: trials train to the end
        choice = self._decide(history, trial)
        if choice is None:
            return True
        winner, best_score, own_score = choice
        if winner.trial_id == trial.id:
            return True
        return own_score >= (1.0 - self.settings["hysteresis"]) * best_score

    def early_values_rank(self, history: SearchHistory) -> bool:
        """Whether the values at the first rung rank trials as their later values do.

        Spearman's rho between each trial's running best at the first rung and at its last
        step, over the trials trained at least ``base`` times further; below ``trust`` the
        early values mislead (curves cross: the best learn slowest) and nothing is frozen on
        them. Trusted until ``_TRUST_PAIRS`` such trials exist.
        """
        first = self.rungs[0]
        pairs = []
        for trial in history.trials:
            curve = running_best(trial, history)
            if len(curve) >= first * self.fidelity.base:
                pairs.append((curve[first - 1], curve[-1]))
        if len(pairs) < _TRUST_PAIRS:
            return True
        early, late = np.array(pairs).T
        rho = np.corrcoef(_ranks(early), _ranks(late))[0, 1]
        return bool(np.isnan(rho) or rho >= self.settings["trust"])

    # -- one decision ----------------------------------------------------------------------------

    def _decide(
        self, history: SearchHistory, judged: Trial | None
    ) -> tuple[Lease, float, float] | None:
        """(winner, its score, the judged trial's score) with ``judged`` counted as frozen."""
        trials = list(history.trials)
        rng = np.random.default_rng(self.derived_seed(len(trials), _total_steps(trials)))
        high = self.fidelity.high
        curves = {t.id: running_best(t, history) for t in trials}
        started = [t for t in trials if curves[t.id] or not t.status.is_finished()]
        if judged is None and len(started) < self.n_init:
            return self._new_lease(history)
        trusted = self.early_values_rank(history)
        if judged is None and trusted and rng.random() < self.settings["p_sh"]:
            thaw = promotion(trials, self.rungs, self.fidelity.base, history)
            if thaw is not None:
                return thaw, 1.0, 0.0
        own_id = judged.id if judged is not None else None
        frozen = [t for t in trials if _thawable(t, curves, high) or t.id == own_id]
        if sum(1 for t in trials if curves[t.id]) < 2:
            return self._new_lease(history) if judged is None else None
        try:
            scorer = _Scorer(self, history, trials, curves, rng)
        except (ArithmeticError, ValueError) as exc:  # LinAlgError is a ValueError
            _log.warning("freezethaw: model failed (%s); deciding by ASHA's rule", exc)
            thaw = promotion(trials, self.rungs, self.fidelity.base, history)
            return (thaw, 1.0, 0.0) if thaw is not None else None
        # early values that mislead: every choice is judged at the full budget, none killed
        horizon = int(rng.integers(1, high + 1)) if trusted else high
        scores = scorer.frozen_scores(horizon)
        hopeless = scorer.hopeless() if trusted else set()
        best: tuple[Lease, float] | None = None
        own = scores.get(own_id, 0.0) if own_id is not None else 0.0
        for trial in frozen:
            if trial.id != own_id and trial.id in hopeless:
                continue
            score = scores[trial.id]
            if best is None or score > best[1]:
                lease = Lease(trial.params, steps_done(trial), high, trial.id)
                best = (lease, score)
        for params, score in scorer.new_scores(horizon):
            if best is None or score > best[1]:
                best = (Lease(params, 0, high), score)
        if best is None:
            return None
        return best[0], best[1], own

    def _new_lease(self, history: SearchHistory) -> tuple[Lease, float, float] | None:
        points = self.new_points(history, 1)
        return (Lease(points[0], 0, self.fidelity.high), 0.0, 0.0) if points else None

    def hyper(self, scorer_x: np.ndarray, curves: list[tuple[np.ndarray, np.ndarray]]) -> Hyper:
        """The hyperparameters: refitted when enough new steps came in, else the last ones."""
        total = sum(len(t) for t, _ in curves)
        # every refit_every new steps while the history is small, every 25 % more after
        step = max(self.settings["refit_every"], 0.25 * self._fitted_at)
        due = self._hyper is None or total - self._fitted_at >= step
        if due:
            rng = np.random.default_rng(self.derived_seed("refit", total))
            self._hyper = fit(scorer_x, curves, start=self._hyper, restarts=1, rng=rng).hyper
            self._fitted_at = total
        assert self._hyper is not None
        return self._hyper


class _Scorer:
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


def _thawable(trial: Trial, curves: dict[str, list[float]], high: int) -> bool:
    return is_frozen(trial) and 0 < len(curves[trial.id]) and steps_done(trial) < high


def _ranks(values: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(values, kind="stable"), kind="stable").astype(float)


def _total_steps(trials: list[Trial]) -> int:
    return sum(steps_done(t) for t in trials)
