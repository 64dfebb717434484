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

Early values are trusted from the first rung whose values rank trials as their later values
do (Spearman's rho against the furthest rung five trials reached, at least ``trust``): where
the best configurations learn slowest (crossing curves) the first rungs rank them wrong, and
from then on nothing is frozen before the first rung that ranks right, ASHA's rule starts there,
and every choice is judged at least that far on. When no rung ranks right, every choice is
judged at the full budget, which is GP-BO on the asymptotes. In bench/freezethaw.py this keeps
it ahead of random search on crossing curves (ASHA and Hyperband fall behind there) and best or
level-best where early values rank right (docs/benchmarks.md).

Values are modelled as their running best, in logs when all are positive, standardized by the
median and the interquartile range of all of them. Hyperparameters are refitted on a schedule
(every ``refit_every`` new steps, then every 25 % more) and held in between; a decision itself
costs milliseconds.
"""

from __future__ import annotations

import math

from metaopt._log import logger
from metaopt.algo._asha import promotion
from metaopt.algo._base import SearchHistory
from metaopt.algo._encoding import UnitEncoding
from metaopt.algo._fidelity import Lease
from metaopt.algo._fidelity import MultiFidelityAlgorithm
from metaopt.algo._fidelity import is_frozen
from metaopt.algo._fidelity import running_best
from metaopt.algo._fidelity import steps_done
from metaopt.records import Trial

TYPE_CHECKING = False  # numpy and scipy load with the first decision, not with the registry
if TYPE_CHECKING:
    import numpy as np

    from metaopt.algo._ftgp import Hyper

_log = logger.getChild("algo")

_DEFAULTS: dict[str, float] = {
    "p_sh": 0.25,  # the share of decisions ASHA's promotion rule takes
    "candidates": 2000,  # random points scored for a new trial
    "basket": 10,  # of which the best by expected improvement compete with the frozen trials
    "hysteresis": 0.1,  # a running trial keeps its slot within this share of the winner's score
    "kill": 1e-3,  # below this chance of beating the best at the full budget: never thawed
    "refit_every": 20,  # new steps between hyperparameter refits
    "trust": 0.5,  # a rung's values are trusted while they rank trials this well (Spearman)
}
_TRUST_PAIRS = 5  # trials that reach a rung before the earlier rungs are judged against it


class FreezeThawAlgorithm(MultiFidelityAlgorithm):
    name = "freezethaw"
    judges_quickly = False

    def configure_search(self) -> None:
        self.settings = self.numeric_options(_DEFAULTS)
        self.encoding = UnitEncoding(self.searched)
        self.n_init = max(3, self.encoding.width + 1)
        self._hyper: Hyper | None = None
        self._fitted_at = -1  # steps in the history at the last refit

    # -- the two questions --------------------------------------------------------------------

    def lease(self, history: SearchHistory) -> Lease | None:
        choice = self._decide(history, None, self.trusted_rung(history))
        return choice[0] if choice is not None else None

    def go_on(self, history: SearchHistory, trial: Trial, until: int) -> bool:
        done = steps_done(trial)
        if done >= until or done >= self.fidelity.high:
            return False
        if done < self.rungs[0] or until < self.fidelity.high:
            return True  # every trial gets the first rung; a lease of ASHA's rule runs out
        trusted = self.trusted_rung(history)
        if done < trusted:
            return True  # values this early mislead here: trials train further
        choice = self._decide(history, trial, trusted)
        if choice is None:
            return True
        winner, best_score, own_score = choice
        if winner.trial_id == trial.id:
            return True
        return own_score >= (1.0 - self.settings["hysteresis"]) * best_score

    def trusted_rung(self, history: SearchHistory) -> int:
        """The first rung whose values rank trials as their later values do; high if none.

        For each rung in turn, Spearman's rho between the trials' running best at the rung and
        at the furthest rung that ``_TRUST_PAIRS`` trials reached; below ``trust`` the rung's
        values mislead (curves cross: the best learn slowest) and nothing is frozen on them. A
        rung is trusted until trials have been trained that much further.
        """
        from metaopt.algo._freezethaw_model import rank_correlation

        curves = [c for t in history.trials if (c := running_best(t, history))]
        reached = [r for r in self.rungs if sum(len(c) >= r for c in curves) >= _TRUST_PAIRS]
        furthest = reached[-1] if reached else 0
        for rung in self.rungs:
            if rung >= furthest:
                return rung
            pairs = [(c[rung - 1], c[furthest - 1]) for c in curves if len(c) >= furthest]
            rho = rank_correlation(pairs)
            if math.isnan(rho) or rho >= self.settings["trust"]:
                return rung
        return self.fidelity.high

    # -- one decision ----------------------------------------------------------------------------

    def _decide(
        self, history: SearchHistory, judged: Trial | None, trusted: int
    ) -> tuple[Lease, float, float] | None:
        """(winner, its score, the judged trial's score) with ``judged`` counted as frozen;
        ``trusted``: the first rung whose values are trusted (``trusted_rung``)."""
        import numpy as np

        from metaopt.algo._freezethaw_model import Scorer

        trials = list(history.trials)
        rng = np.random.default_rng(self.derived_seed(len(trials), _total_steps(trials)))
        high = self.fidelity.high
        curves = {t.id: running_best(t, history) for t in trials}
        started = [t for t in trials if curves[t.id] or not t.status.is_finished()]
        if judged is None and len(started) < self.n_init:
            return self._new_lease(history)
        if judged is None and trusted < high and rng.random() < self.settings["p_sh"]:
            ladder = [r for r in self.rungs if r >= trusted]
            thaw = promotion(trials, ladder, self.fidelity.base, history)
            if thaw is not None:
                return thaw, 1.0, 0.0
        own_id = judged.id if judged is not None else None
        frozen = [t for t in trials if _thawable(t, curves, high) or t.id == own_id]
        if sum(1 for t in trials if curves[t.id]) < 2:
            return self._new_lease(history) if judged is None else None
        try:
            scorer = Scorer(self, history, trials, curves, rng)
        except (ArithmeticError, ValueError) as exc:  # LinAlgError is a ValueError
            _log.warning("freezethaw: model failed (%s); deciding by ASHA's rule", exc)
            thaw = promotion(trials, self.rungs, self.fidelity.base, history)
            return (thaw, 1.0, 0.0) if thaw is not None else None
        # choices are judged no earlier than the first rung that ranks right; none killed
        # before it (at the full budget when no rung does: GP-BO on the asymptotes)
        horizon = int(rng.integers(trusted, high + 1))
        scores = scorer.frozen_scores(horizon)
        hopeless = scorer.hopeless() if trusted < high else set()
        best: tuple[Lease, float] | None = None
        own = scores.get(own_id, 0.0) if own_id is not None else 0.0
        for trial in frozen:
            if trial.id != own_id and trial.id in hopeless and steps_done(trial) >= trusted:
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
        import numpy as np

        from metaopt.algo._ftgp import fit

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


def _thawable(trial: Trial, curves: dict[str, list[float]], high: int) -> bool:
    return is_frozen(trial) and 0 < len(curves[trial.id]) and steps_done(trial) < high


def _total_steps(trials: list[Trial]) -> int:
    return sum(steps_done(t) for t in trials)
