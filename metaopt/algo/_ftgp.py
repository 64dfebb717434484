"""The freeze-thaw GP (Swersky, Snoek & Adams, 2014): learning curves that decay to asymptotes.

Two layers. A GP over configurations (constant mean ``m``, amplitude x Matérn 5/2 with one
length scale per coordinate of the unit cube) gives each configuration's asymptote f(x). Each
learning curve is its asymptote plus a GP in time with the exponential-decay kernel

    k(t, t') = s_t * beta**alpha / (t + t' + beta)**alpha

which vanishes as t grows, plus observation noise, around a mean ``lead * shape(t)`` with
``shape(t) = (beta / (t + beta))**alpha``: a curve that starts above its asymptote (a loss
falls) is expected to, before its own data says how far.

Given their asymptotes the curves are independent, so the exact joint posterior needs one
Cholesky factor per distinct set of times (curves reported at steps 1..T share theirs) and one
N x N system (Woodbury), never the (sum of T) squared matrix of the naive joint GP. Each curve
acts on the asymptotes as one pseudo-observation ``m + gamma_n / lam_n`` with noise variance
``1 / lam_n``, where ``lam_n = 1' K_n^-1 1`` and ``gamma_n = 1' K_n^-1 r_n`` for the curve's
residual ``r_n = y_n - m - lead * shape(t_n)``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.linalg import cho_factor
from scipy.linalg import cho_solve
from scipy.linalg import solve_triangular
from scipy.optimize import minimize

_SQRT5 = math.sqrt(5.0)
_JITTER = 1e-8  # on the asymptotes' kernel: two configurations may coincide


@dataclasses.dataclass(frozen=True)
class Hyper:
    """The model's hyperparameters; ``vector`` is their unconstrained form (logs, and m)."""

    lengthscales: tuple[float, ...]
    amp_x: float  # prior variance of the asymptotes around m
    alpha: float  # the decay kernel's shape: larger decays faster
    beta: float  # its time scale
    amp_t: float  # prior variance of a curve around its asymptote at t = 0
    noise: float  # observation noise variance
    mean: float  # m, the asymptotes' prior mean
    lead: float = 0.0  # how far above its asymptote a curve is expected at t = 0

    @classmethod
    def default(cls, dim: int, values: Sequence[float] = ()) -> Hyper:
        """A start that fits standardized values: asymptotes and curves on the unit scale."""
        spread = float(np.var(values)) if len(values) > 1 else 1.0
        centre = float(np.median(values)) if len(values) else 0.0
        return cls((0.3,) * dim, spread or 1.0, 1.0, 1.0, spread or 1.0, 1e-3, centre, 0.0)

    def vector(self) -> np.ndarray:
        positive = [*self.lengthscales, self.amp_x, self.alpha, self.beta, self.amp_t, self.noise]
        return np.array([*np.log(positive), self.mean, self.lead])

    @classmethod
    def from_vector(cls, v: np.ndarray) -> Hyper:
        d = len(v) - 7
        e = [float(x) for x in np.exp(np.clip(v[:-2], -30.0, 30.0))]
        amp_x, alpha, beta, amp_t, noise = e[d:]
        return cls(tuple(e[:d]), amp_x, alpha, beta, amp_t, noise, float(v[-2]), float(v[-1]))


def decay_kernel(t1: np.ndarray, t2: np.ndarray, hyper: Hyper) -> np.ndarray:
    """The exponential-decay kernel between two vectors of times."""
    total = t1[:, None] + t2[None, :] + hyper.beta
    out: np.ndarray = hyper.amp_t * (hyper.beta / total) ** hyper.alpha
    return out


def shape(t: np.ndarray, hyper: Hyper) -> np.ndarray:
    """The curves' mean offset from their asymptote, per unit of ``lead``."""
    out: np.ndarray = (hyper.beta / (np.asarray(t, float) + hyper.beta)) ** hyper.alpha
    return out


def matern52(x1: np.ndarray, x2: np.ndarray, hyper: Hyper) -> np.ndarray:
    """Amplitude x Matérn 5/2 between rows of the unit cube, one length scale per column."""
    scale = np.asarray(hyper.lengthscales)
    a, b = x1 / scale, x2 / scale
    # |a - b|^2 by products: no (rows x rows x columns) array for 2,000 candidates
    squared = (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2.0 * a @ b.T
    r = _SQRT5 * np.sqrt(np.clip(squared, 0.0, None))
    out: np.ndarray = hyper.amp_x * (1.0 + r + r**2 / 3.0) * np.exp(-r)
    return out


def _matern_gradients(x: np.ndarray, hyper: Hyper) -> list[np.ndarray]:
    """d Kx / d log(length scale j), for each coordinate j."""
    scaled = (x[:, None, :] - x[None, :, :]) / np.asarray(hyper.lengthscales)
    r = _SQRT5 * np.sqrt((scaled**2).sum(-1))
    common = hyper.amp_x * np.exp(-r) * (1.0 + r) * (5.0 / 3.0)
    return [common * scaled[:, :, j] ** 2 for j in range(x.shape[1])]


def _decay_gradients(t: np.ndarray, hyper: Hyper) -> list[np.ndarray]:
    """d K_n / d log of alpha, beta, amp_t and noise."""
    total = t[:, None] + t[None, :]
    k = decay_kernel(t, t, hyper)
    by_alpha = hyper.alpha * k * np.log(hyper.beta / (total + hyper.beta))
    by_beta = k * hyper.alpha * total / (total + hyper.beta)
    return [by_alpha, by_beta, k, hyper.noise * np.eye(len(t))]


def _by_times(curves: Sequence[tuple[np.ndarray, np.ndarray]]) -> list[list[int]]:
    groups: dict[bytes, list[int]] = {}
    for i, (t, _) in enumerate(curves):
        groups.setdefault(t.tobytes(), []).append(i)
    return list(groups.values())


@dataclasses.dataclass(frozen=True)
class _Group:
    """Curves observed at the same times: one Cholesky factor of K_n serves them all."""

    times: np.ndarray
    rows: np.ndarray  # which curves
    values: np.ndarray  # times x curves
    factor: tuple[np.ndarray, bool]
    ones_solved: np.ndarray  # K_n^-1 1
    logdet: float
    shape: np.ndarray  # shape(times)


class FreezeThawGP:
    """The exact posterior of the two-layer model given N curves at configurations ``x``.

    ``curves[n]`` is (times, values) for the configuration in row n of ``x``: values to
    minimize, in any units (callers standardize them), at increasing times > 0.
    """

    def __init__(
        self,
        hyper: Hyper,
        x: np.ndarray,
        curves: Sequence[tuple[np.ndarray, np.ndarray]],
    ) -> None:
        self.hyper = hyper
        self.x = np.asarray(x, dtype=float).reshape(len(curves), -1)
        self.curves = [(np.asarray(t, float), np.asarray(y, float)) for t, y in curves]
        n = len(self.curves)
        self._groups = [self._group(rows) for rows in _by_times(self.curves)]
        self._group_of = np.empty(n, dtype=int)
        lam, gamma = np.empty(n), np.empty(n)
        quad = logdet_t = 0.0
        for g, group in enumerate(self._groups):
            r = group.values - hyper.mean - hyper.lead * group.shape[:, None]
            self._group_of[group.rows] = g
            lam[group.rows] = group.ones_solved.sum()
            gamma[group.rows] = group.ones_solved @ r
            quad += float((r * cho_solve(group.factor, r)).sum())
            logdet_t += group.logdet * len(group.rows)
        kx = matern52(self.x, self.x, hyper) + _JITTER * np.eye(n)
        root = np.sqrt(lam)
        # B = I + L^1/2 Kx L^1/2 is well conditioned whatever the curves' lengths
        self._chol_b = np.linalg.cholesky(np.eye(n) + root[:, None] * kx * root[None, :])
        self._root = root
        self._kx = kx
        v = solve_triangular(self._chol_b, root * (kx @ gamma), lower=True)
        self._a = gamma - root * solve_triangular(self._chol_b.T, v, lower=False)
        w = solve_triangular(self._chol_b, root[:, None] * kx, lower=True)
        self.mu = hyper.mean + kx @ self._a  # E[f | curves]
        self.cov = kx - w.T @ w  # Cov[f | curves]
        self.lam, self.gamma = lam, gamma
        count = sum(len(t) for t, _ in self.curves)
        self.log_likelihood = float(
            -0.5 * quad
            + 0.5 * gamma @ (kx @ self._a)
            - np.log(np.diag(self._chol_b)).sum()
            - 0.5 * logdet_t
            - 0.5 * count * math.log(2 * math.pi)
        )

    def _group(self, rows: list[int]) -> _Group:
        t = self.curves[rows[0]][0]
        k = decay_kernel(t, t, self.hyper) + self.hyper.noise * np.eye(len(t))
        factor = cho_factor(k, lower=True)
        values = np.stack([self.curves[i][1] for i in rows], axis=1)
        ones_solved = cho_solve(factor, np.ones(len(t)))
        logdet = 2.0 * float(np.log(np.diag(factor[0])).sum())
        return _Group(t, np.array(rows), values, factor, ones_solved, logdet, shape(t, self.hyper))

    def gradient(self) -> np.ndarray:
        """d log p(curves) / d ``hyper.vector()``: each entry is 1/2 tr((aa' - S^-1) dS).

        S, the covariance of all observations, is never formed: by Woodbury its inverse's
        pieces are per-curve solves and the N x N matrix (Kx + diag(1/lam))^-1.
        """
        h = self.hyper
        dim = self.x.shape[1]
        root = self._root
        b_inv = cho_solve((self._chol_b, True), np.eye(len(root)))
        inner = root[:, None] * b_inv * root[None, :]  # (Kx + diag(1/lam))^-1
        outer = np.outer(self._a, self._a) - inner
        grad = np.empty(dim + 7)
        for j, dk in enumerate(_matern_gradients(self.x, h)):
            grad[j] = 0.5 * float((outer * dk).sum())
        grad[dim] = 0.5 * float((outer * (self._kx - _JITTER * np.eye(len(root)))).sum())
        curve_terms = np.zeros(4)  # alpha, beta, amp_t, noise
        lead_term = 0.0
        for group in self._groups:
            offset = h.lead * group.shape[:, None]
            solved = cho_solve(group.factor, group.values - offset - self.mu[group.rows])
            # the mean's share: d(mean)' S^-1 r, summed over the group's curves
            summed = solved.sum(axis=1)
            total = group.times + h.beta
            curve_terms[0] += (
                2.0 * h.lead * h.alpha * float((group.shape * np.log(h.beta / total)) @ summed)
            )
            curve_terms[1] += (
                2.0 * h.lead * h.alpha * float((group.shape * group.times / total) @ summed)
            )
            lead_term += float(group.shape @ summed)
            k_inv = cho_solve(group.factor, np.eye(len(group.times)))
            u = group.ones_solved
            c_sum = float(self.cov[group.rows, group.rows].sum())
            for p, dk in enumerate(_decay_gradients(group.times, h)):
                curve_terms[p] += float((solved * (dk @ solved)).sum())
                curve_terms[p] -= len(group.rows) * float((k_inv * dk).sum())
                curve_terms[p] += c_sum * float(u @ dk @ u)
        grad[dim + 1 : dim + 5] = 0.5 * curve_terms
        grad[dim + 5] = float(self._a.sum())
        grad[dim + 6] = lead_term
        return grad

    def pseudo_observations(self) -> tuple[np.ndarray, np.ndarray]:
        """(z, noise variance) per curve: its GLS estimate of its own asymptote."""
        return self.hyper.mean + self.gamma / self.lam, 1.0 / self.lam

    def predict_asymptote(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of the asymptote of configurations ``xs`` (rows of the cube)."""
        ks = matern52(self.x, np.asarray(xs, float), self.hyper)
        v = solve_triangular(self._chol_b, self._root[:, None] * ks, lower=True)
        var = self.hyper.amp_x - (v**2).sum(0)
        return self.hyper.mean + ks.T @ self._a, np.clip(var, 1e-12, None)

    def predict_new_curve(self, xs: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of a new configuration's curve at time ``t`` (no noise)."""
        mean, var = self.predict_asymptote(xs)
        at = np.array([float(t)])
        lead = self.hyper.lead * float(shape(at, self.hyper)[0])
        return mean + lead, var + float(decay_kernel(at, at, self.hyper)[0, 0])

    def predict_at(self, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance (no noise) of every curve n at its own time ``targets[n]``: what
        ``predict_curve`` gives one by one, for all curves in one pass per group."""
        h = self.hyper
        targets = np.asarray(targets, float)
        mean, var = np.empty(len(targets)), np.empty(len(targets))
        for group in self._groups:
            wanted = targets[group.rows]
            for target in np.unique(wanted):
                cols = np.flatnonzero(wanted == target)
                rows = group.rows[cols]
                at = np.array([target])
                ks = decay_kernel(group.times, at, h)[:, 0]
                solved = cho_solve(group.factor, ks)
                weight = 1.0 - solved.sum()
                resid = group.values[:, cols] - h.lead * group.shape[:, None]
                lead = h.lead * float(shape(at, h)[0])
                mean[rows] = solved @ resid + weight * self.mu[rows] + lead
                prior = float(decay_kernel(at, at, h)[0, 0])
                var[rows] = prior - ks @ solved + weight**2 * self.cov[rows, rows]
        return mean, np.clip(var, 1e-12, None)

    def predict_curve(self, n: int, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and covariance of curve ``n`` at future ``times`` (no noise): a thaw's outlook.

        Near its data the curve's own GP extrapolates; far out it hands over to the asymptote,
        which borrows strength from every other curve.
        """
        t, y = self.curves[n]
        group = self._groups[self._group_of[n]]
        times = np.asarray(times, float)
        ks = decay_kernel(t, times, self.hyper)
        solved = cho_solve(group.factor, ks)
        weight = 1.0 - solved.sum(0)  # how much of the asymptote is still unknown at each time
        lead = self.hyper.lead
        mean = (
            solved.T @ (y - lead * group.shape)
            + weight * self.mu[n]
            + lead * shape(times, self.hyper)
        )
        cov = (
            decay_kernel(times, times, self.hyper)
            - ks.T @ solved
            + np.outer(weight, weight) * self.cov[n, n]
        )
        return mean, cov


def _prior_shape(dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Centres and widths of weak log-normal priors that keep fits off degenerate corners."""
    centres = np.array([math.log(0.3)] * dim + [0.0, 0.0, 0.0, 0.0, math.log(1e-3)])
    widths = np.array([1.5] * dim + [2.0, 1.0, 1.5, 2.0, 3.0])
    return centres, widths


def _log_prior(v: np.ndarray, dim: int) -> float:
    centres, widths = _prior_shape(dim)
    return float(-0.5 * (((v[:-2] - centres) / widths) ** 2).sum())


def _log_prior_gradient(v: np.ndarray, dim: int) -> np.ndarray:
    centres, widths = _prior_shape(dim)
    return np.append(-(v[:-2] - centres) / widths**2, [0.0, 0.0])


def fit(
    x: np.ndarray,
    curves: Sequence[tuple[np.ndarray, np.ndarray]],
    start: Hyper | None = None,
    restarts: int = 2,
    rng: np.random.Generator | None = None,
) -> FreezeThawGP:
    """The model at the hyperparameters that maximize log p(curves) + log prior.

    L-BFGS-B from ``start`` (the last fit's, so refits stay cheap) and ``restarts`` jittered
    copies of it, within bounds scaled to the values' spread; a start that fails to factor is
    skipped. Without the bounds short curves are explained by a vast curve amplitude around
    an asymptote far below everything seen, which predicts nothing.
    """
    x = np.asarray(x, float).reshape(len(curves), -1)
    dim = x.shape[1]
    values = np.concatenate([y for _, y in curves]) if curves else np.zeros(0)
    bounds = _bounds(dim, values)
    low, high = np.array([b[0] for b in bounds]), np.array([b[1] for b in bounds])
    first = np.clip((start or Hyper.default(dim, list(values))).vector(), low, high)
    rng = rng or np.random.default_rng(0)

    def loss(v: np.ndarray) -> tuple[float, np.ndarray]:
        try:
            model = FreezeThawGP(Hyper.from_vector(v), x, curves)
        except (np.linalg.LinAlgError, ValueError):
            return 1e25, np.zeros_like(v)
        value = -(model.log_likelihood + _log_prior(v, dim))
        if not math.isfinite(value):
            return 1e25, np.zeros_like(v)
        return value, -(model.gradient() + _log_prior_gradient(v, dim))

    best_v, best = first, loss(first)[0]
    jittered = [first + rng.normal(0.0, 0.5, first.shape) for _ in range(restarts)]
    for v0 in [first, *(np.clip(v, low, high) for v in jittered)]:
        result: Any = minimize(
            loss, v0, jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": 100}
        )
        if result.fun < best:
            best_v, best = result.x, float(result.fun)
    return FreezeThawGP(Hyper.from_vector(best_v), x, curves)


def _bounds(dim: int, values: np.ndarray) -> list[tuple[float, float]]:
    """Where each entry of ``Hyper.vector()`` may go, for values of this spread."""
    spread = float(np.var(values)) if len(values) > 1 else 1.0
    spread = spread if spread > 0 else 1.0
    low = float(values.min()) if len(values) else -1.0
    high = float(values.max()) if len(values) else 1.0
    width = high - low or 1.0
    log = math.log
    return [
        *[(log(0.05), log(10.0))] * dim,  # length scales, in the unit cube
        (log(0.01 * spread), log(10.0 * spread)),  # amp_x
        (log(0.1), log(10.0)),  # alpha
        (log(0.1), log(100.0)),  # beta, in steps
        (log(0.01 * spread), log(10.0 * spread)),  # amp_t
        (log(1e-6 * spread), log(spread)),  # noise
        (low - 0.5 * width, high),  # mean: asymptotes lie near or below what was seen
        (-width, 2.0 * width),  # lead
    ]
