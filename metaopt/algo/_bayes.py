"""Bayesian optimization: a Gaussian process (scikit-optimize, Matérn 5/2), expected improvement.

Every node runs it over its own replica of the history, and nobody coordinates, so:

* Pending trials (this node's and other nodes') enter the model as if already evaluated, at
  the model's own mean there (the *kriging believer* of Ginsbourger et al., 2010), and EI is
  averaged over joint draws of what they may turn out to be, each draw moving the mean and
  the best value seen (``_acquisition.ExpectedImprovement``): the expected gain of a point
  over the whole batch. Near a pending point it is small, so parallel proposals spread, but a
  region stays worth a look while the pending point there may still disappoint. A batch is
  built the same way, one point at a time. (``fantasies=0`` keeps the believer alone;
  ``believer=0`` tells pending points the worst value seen instead, the *constant liar*: more
  spread, but on the benchmarks of docs/benchmarks.md it distorted the model around the
  incumbent and lost to the believer.) Pending points also count toward the initial design:
  with many workers the model takes over once ``n_initial`` points are out and half of them
  came back.
* It is a pure function of (space, seed, node id, history): the initial design is a scrambled
  Sobol sequence seeded by the seed and the node id, and the candidates of the acquisition are
  drawn from a generator seeded the same way plus the history size.
* It stays fast as the history grows. The kernel's hyperparameters (amplitude, one length scale
  per coordinate, noise) are fitted by maximum likelihood only on a schedule: when the number
  of observations first reaches n_initial, then each time it grows by a quarter, on the
  observations that existed then (oldest first, so every replica agrees). In between, the GP is
  refitted with those hyperparameters, which costs one Cholesky factorisation. A fitted kernel
  is cached, keyed by the data it was fitted on, so the cache never changes an answer. Every fit
  uses at most ``max_fit`` points (the best quarter, then an even spread of the rest), and
  expected improvement is maximised over a finite candidate set (random points, moves around
  the best observations, then rounds of ever smaller moves around the best candidates), and
  the best few candidates are then polished by L-BFGS-B on EI's analytic gradient.

Failed trials and non-finite objectives never reach the model (``SearchHistory.observations``
keeps completed trials with a value; NaN and infinities are dropped here).
"""

from __future__ import annotations

import hashlib
import math
import warnings
from collections import OrderedDict
from typing import Any

from metaopt._log import logger
from metaopt.algo._base import BaseAlgorithm
from metaopt.algo._base import Params
from metaopt.algo._base import SearchHistory
from metaopt.algo._encoding import UnitEncoding
from metaopt.algo._random import draw_unseen
from metaopt.algo._random import in_share
from metaopt.space import params_key

_log = logger.getChild("algo")

_DEFAULTS: dict[str, float] = {
    "n_initial": 10,  # Sobol points before the model takes over
    "max_fit": 300,  # points the GP is fitted on, at most
    "candidates": 2000,  # random candidates per proposal
    "local": 500,  # local moves around the best points per proposal
    "xi": 0.01,  # expected improvement's exploration margin (objective units)
    "believer": 1,  # pending points take the model's mean (1) or the worst value seen (0)
    "fantasies": 32,  # samples of the pending points' values that EI is averaged over
}

# Expected improvement's maximisation: moves around the best observations at these scales
# (unit-cube coordinates), then rounds around the best candidates at ever smaller ones.
_LOCAL_SCALES = (0.2, 0.05, 0.01)
_REFINE_SCALES = (0.05, 0.015, 0.005, 0.0015)
_REFINE_TOP = 5
_REFINE_MOVES = 100
# Hyperparameters are refitted each time the observations grow by this factor: at 100
# observations and beyond, about 3 calls in 100 pay for a refit.
_REFIT_GROWTH = 1.25
# The GP's prior mean, as a quantile of the observed values (see _standardized).
_PRIOR_QUANTILE = 0.75
# Fitted kernels kept, for callers that alternate between a few histories.
_KERNELS_KEPT = 4


class BayesAlgorithm(BaseAlgorithm):
    name = "bayes"

    def configure(self) -> None:
        self.settings = self.numeric_options(_DEFAULTS)
        self.encoding = UnitEncoding(self.space)
        self._kernels: OrderedDict[str, Any] = OrderedDict()

    def suggest(self, history: SearchHistory, n: int = 1) -> list[Params]:
        if n <= 0:
            return []
        seen = history.seen()
        if self.encoding.width == 0:  # nothing to search: the single point, once
            point = dict(self.encoding.fixed)
            return [] if params_key(point) in seen else [point]
        observed = [
            (params, value)
            for params, value in history.observations()
            if math.isfinite(value) and self.space.contains(params)
        ]
        initial = int(self.settings["n_initial"])
        proposed = len(observed) + len(history.pending())
        if proposed < initial or len(observed) < max(2, (initial + 1) // 2):
            rows = self._initial(len(history.trials), n)
        else:
            from threadpoolctl import threadpool_limits

            # Matrices of a few hundred rows: BLAS threads only wait on each other (a 120 x 120
            # Cholesky took 40 ms instead of 0.5 one call in ten with two of them).
            try:
                with threadpool_limits(1):
                    kernel = self._kernel(observed)
                    rows = _Model(self, history, observed, kernel).propose(n)
            except (ArithmeticError, ValueError) as exc:  # LinAlgError is a ValueError
                # A degenerate history (say, a flat objective in a tiny space) must not stop the
                # experiment: this round is random, the next may model again.
                _log.warning("bayes: model failed (%s); proposing at random this time", exc)
                rows = []
        return self._unseen(rows, seen, n, history)

    # -- pieces ----------------------------------------------------------------------------------

    def _initial(self, offset: int, n: int) -> list[list[float]]:
        from scipy.stats import qmc

        sobol = qmc.Sobol(self.encoding.width, scramble=True, seed=self.derived_seed("sobol"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "balance properties need n = 2^m": not the aim here
            if offset:
                sobol.fast_forward(offset)
            return [list(row) for row in sobol.random(n)]

    def _kernel(self, observed: list[tuple[Params, float]]) -> Any:
        """The kernel fitted at the last refit point of the schedule, from the cache if there."""
        base = observed[: refit_point(len(observed), int(self.settings["n_initial"]))]
        material = repr([(params_key(p), v) for p, v in base]).encode()
        digest = hashlib.sha256(material).hexdigest()
        kernel = self._kernels.get(digest)
        if kernel is None:
            kernel = self._kernels[digest] = _fit_kernel(self, base)
            while len(self._kernels) > _KERNELS_KEPT:
                self._kernels.popitem(last=False)
        return kernel

    def _unseen(
        self, rows: list[list[float]], seen: set[str], n: int, history: SearchHistory
    ) -> list[Params]:
        """Decoded points, none already proposed; random new ones fill any gap (finite spaces).

        In a finite space only this node's share of the points is taken from ``rows``, and
        the draws that fill the gap take its share first (see SearchHistory).
        """
        decoded = [self.encoding.decode(row) for row in rows]
        if self.space.is_finite:  # other nodes' points are left to them: draws fill the gap
            decoded = [p for p in decoded if in_share(self.space, p, history.share)]
        out: list[Params] = []
        for params in decoded:
            if len(out) == n:
                return out
            key = params_key(params)
            if key not in seen:
                seen.add(key)
                out.append(params)
        return out + draw_unseen(self.space, self.rng(history), seen, n - len(out), history.share)


def refit_point(count: int, first: int) -> int:
    """The last point of the refit schedule (first, then x1.25 each time) at or below ``count``."""
    point = step = max(first, 2)
    while step <= count:
        point = step
        step = max(step + 1, math.ceil(step * _REFIT_GROWTH))
    return min(point, count)


def _fit_kernel(algo: BayesAlgorithm, observed: list[tuple[Params, float]]) -> Any:
    """Maximum-likelihood hyperparameters on ``observed``: a kernel with its noise term."""
    import numpy as np
    from skopt.learning.gaussian_process.kernels import ConstantKernel
    from skopt.learning.gaussian_process.kernels import Matern
    from skopt.learning.gaussian_process.kernels import WhiteKernel

    x, y = _bounded(algo, observed)
    y = _standardized(y)[0]
    width = algo.encoding.width
    prior = ConstantKernel(1.0, (0.01, 1000.0)) * Matern(
        length_scale=np.ones(width), length_scale_bounds=(0.01, 100.0), nu=2.5
    )
    gp = _regressor(prior + WhiteKernel(1e-3, (1e-6, 1.0)), _map_fit(width))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence notes from L-BFGS on flat likelihoods
        gp.fit(x, y)
    # skopt zeroes the fitted noise so predictions are of the latent function; put it back so
    # the next fits model noisy observations too.
    return gp.kernel_.k1 + WhiteKernel(gp.noise_ or 1e-6)


def _map_fit(width: int) -> Any:
    """An optimizer for scikit-learn's GP that maximises the likelihood times a prior on the
    hyperparameters (log-normal on each length scale, around 0.3 sqrt(width) in the unit cube;
    log-normal on the noise, around 1e-4 of the normalized variance).

    Without it, a few dozen scattered points of a peaked function are best "explained" as pure
    noise: every length scale collapses to its lower bound and the model knows nothing.
    """
    import numpy as np
    from scipy.optimize import minimize

    # theta, in natural logs: [amplitude, length scale x width, noise]
    mean = np.array([0.0, *[math.log(0.3 * math.sqrt(width))] * width, math.log(1e-4)])
    weight = np.array([0.0, *[1.0] * width, 0.25])  # 1 / sd**2: sd 1 for scales, 2 for noise

    def penalized(theta: Any) -> tuple[float, Any]:
        value, grad = objective_holder[0](theta)
        gap = theta - mean
        return value + 0.5 * float(np.sum(weight * gap**2)), grad + weight * gap

    objective_holder: list[Any] = []

    def optimize(objective: Any, theta: Any, bounds: Any) -> tuple[Any, float]:
        objective_holder[:] = [objective]
        result = minimize(penalized, theta, method="L-BFGS-B", jac=True, bounds=bounds)
        return result.x, float(result.fun)

    return optimize


def _regressor(kernel: Any, optimizer: Any) -> Any:
    from skopt.learning import GaussianProcessRegressor

    # Without restarts the optimizer starts from the kernel's own values: no randomness.
    return GaussianProcessRegressor(
        kernel=kernel, normalize_y=False, noise="gaussian", optimizer=optimizer
    )


def _standardized(y: Any) -> tuple[Any, float]:
    """Objective values as the GP sees them, and the objective units per unit: zero at their
    upper quartile, in standard deviations.

    Zero is the GP's prior mean, so far from every observation it predicts a value worse than
    three quarters of them. With the mean there instead, the high uncertainty of unexplored
    corners outweighed refining a good incumbent: on Hartmann-6 about half of the proposals
    after the first 25 went to the boundary of the cube, none of them useful.
    """
    import numpy as np

    spread = float(y.std()) or 1.0
    return (y - np.quantile(y, _PRIOR_QUANTILE)) / spread, spread


def _bounded(algo: BayesAlgorithm, observed: list[tuple[Params, float]]) -> tuple[Any, Any]:
    """At most ``max_fit`` observations as arrays: the best quarter, then an even spread."""
    import numpy as np

    x = np.asarray([algo.encoding.encode(p) for p, _ in observed], dtype=float)
    y = np.asarray([v for _, v in observed], dtype=float)
    limit = int(algo.settings["max_fit"])
    if len(y) <= limit:
        return x, y
    order = np.argsort(y, kind="stable")
    keep = list(order[: limit // 4])
    rest = order[limit // 4 :]
    keep += list(rest[np.linspace(0, len(rest) - 1, limit - len(keep)).astype(int)])
    return x[keep], y[keep]


class _Model:
    """One proposal round: the GP fitted on observations and pending points, EI over candidates."""

    def __init__(
        self,
        algo: BayesAlgorithm,
        history: SearchHistory,
        observed: list[tuple[Params, float]],
        kernel: Any,
    ) -> None:
        import numpy as np

        self.np = np
        self.algo = algo
        self.kernel = kernel
        self.encoding = algo.encoding
        self.rng = np.random.default_rng(algo.derived_seed("model", len(history.trials)))
        x, raw = _bounded(algo, observed)
        y, spread = _standardized(raw)
        self.best_rows = x[np.argsort(y, kind="stable")[:5]]
        self.y_best = float(y.min())
        self.liar = float(y.max())
        self.xi = algo.settings["xi"] / spread
        # A pending point of an older space may not fit this one.
        pending = [self.encoding.encode(p) for p in history.pending() if algo.space.contains(p)]
        self.x, self.y = x, y
        self.observed = len(y)
        self.fantasies = int(algo.settings["fantasies"]) if algo.settings["believer"] else 0
        self._observed_gp: Any = None  # the GP of the observations alone, once fitted
        if pending:
            self._pretend(np.asarray(pending, dtype=float))

    def propose(self, n: int) -> list[list[float]]:
        chosen: list[list[float]] = []
        for i in range(n):
            best = self._maximize(self._fit())
            chosen.append(list(best))
            if i < n - 1:
                self._pretend(best[None, :])  # pending now, for the rest of the batch
        return chosen

    def _pretend(self, rows: Any) -> None:
        """Adds points being evaluated elsewhere with a made-up value, so that the model
        knows about them and EI looks elsewhere."""
        np = self.np
        if self.algo.settings["believer"]:
            from metaopt.algo._acquisition import posterior

            values = posterior(self._fit(), rows)[0]
        else:
            values = np.full(len(rows), self.liar)
        self.x = np.vstack([self.x, rows])
        self.y = np.concatenate([self.y, values])

    def _fit(self) -> Any:
        """The GP of every row so far; the one of the observations alone is fitted once, as
        the believed values and the fantasies both come from it."""
        if len(self.y) > self.observed:
            return self._regress(self.x, self.y)
        if self._observed_gp is None:
            self._observed_gp = self._regress(self.x, self.y)
        return self._observed_gp

    def _regress(self, x: Any, y: Any) -> Any:
        gp = _regressor(self.kernel, None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gp.fit(x, y)
        return gp

    def _maximize(self, gp: Any) -> Any:
        """The candidate of highest EI: random points and moves around the best observations,
        then rounds of ever smaller moves around the best candidates so far, the best of which
        are polished by gradient."""
        from metaopt.algo._acquisition import ExpectedImprovement
        from metaopt.algo._acquisition import polish

        np = self.np
        settings = self.algo.settings
        shape = (int(settings["candidates"]), self.encoding.width)
        uniform = self._one_hot(self.rng.random(shape))
        local = self._moves(self.best_rows, int(settings["local"]), _LOCAL_SCALES)
        candidates = np.vstack([uniform, local])
        acquisition = ExpectedImprovement(
            gp, self.y_best, self.xi, self.observed, self._fantasies()
        )
        scores = acquisition(candidates)
        for scale in _REFINE_SCALES:
            top = candidates[np.argsort(scores)[-_REFINE_TOP:]]
            moves = self._moves(top, _REFINE_MOVES, (scale,))
            candidates = np.vstack([candidates, moves])
            scores = np.concatenate([scores, acquisition(moves)])
        top = candidates[np.argsort(scores)[-_REFINE_TOP:]]
        polished = polish(acquisition, top, self.encoding.real_axes())
        return polished[int(np.argmax(acquisition(polished)))]

    def _fantasies(self) -> Any:
        """Joint draws of the pending points' values less their believed values (fantasies x
        pending), from the model of the observations alone; None without pending points."""
        np = self.np
        count = len(self.y) - self.observed
        if not count or not self.fantasies:
            return None
        gp = self._observed_gp  # fitted by _pretend, which put the pending rows in
        rows = self.x[self.observed :]
        k = gp.kernel_(rows, gp.X_train_)
        cov = gp.kernel_(rows) - k @ gp.K_inv_ @ k.T
        cov = (cov + cov.T) / 2 + np.eye(count) * max(gp.noise_ or 0.0, 1e-10)
        scale = np.linalg.cholesky(cov) * gp.y_train_std_
        return self.rng.standard_normal((self.fantasies, count)) @ scale.T

    def _moves(self, centers: Any, count: int, scales: tuple[float, ...]) -> Any:
        """``count`` copies of ``centers`` (cycled), each real coordinate moved by a Gaussian
        step of one of ``scales``, each choice switched to a random value one time in four."""
        np = self.np
        rows = centers[np.arange(count) % len(centers)].copy()
        real = self.encoding.real_axes()
        if real:
            sigma = np.asarray(scales)[self.rng.integers(len(scales), size=count)]
            steps = self.rng.normal(0.0, 1.0, size=(count, len(real))) * sigma[:, None]
            rows[:, real] = np.clip(rows[:, real] + steps, 0.0, 1.0)
        switch = self.rng.random(count) < 0.25
        return self._one_hot(rows, switch)

    def _one_hot(self, rows: Any, switch: Any = None) -> Any:
        """Each one-hot block of ``rows`` made a valid choice: a random one where ``switch``
        (everywhere by default), else the block's argmax."""
        np = self.np
        for start, size in self.encoding.blocks():
            block = rows[:, start : start + size]
            picks = np.argmax(block, axis=1)
            where = np.ones(len(rows), dtype=bool) if switch is None else switch
            picks[where] = self.rng.integers(size, size=int(where.sum()))
            block[:] = 0.0
            block[np.arange(len(rows)), picks] = 1.0
        return rows
