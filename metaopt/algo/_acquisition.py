"""Expected improvement of a fitted GP, its gradient, and a gradient polish of the best points.

The GP is scikit-optimize's, with the kernel bayes fits: amplitude x Matérn 5/2 (one length
scale per coordinate) + noise, on points of the unit cube. Pending points are the training rows
from ``pending_from`` on, told at believed values; ``deltas`` are joint draws of how far their
real values may fall from those (see ``ExpectedImprovement``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.stats import norm

_SQRT5 = math.sqrt(5.0)
# L-BFGS-B iterations of one polish: the starts are already near a maximum of the candidates.
_POLISH_ITERATIONS = 40


def posterior(gp: Any, x: Any, pending_from: int | None = None) -> Any:
    """Mean and standard deviation of a fitted skopt GP at ``x`` and, with ``pending_from``,
    how the mean moves with the training values from that row on (x rows by those rows).

    What ``gp.predict(x, return_std=True)`` returns, but its variance is a three-operand einsum
    (~100 ms for 2,500 candidates and 300 points) where a matrix product takes a few.
    """
    k = gp.kernel_(x, gp.X_train_)
    mean = gp.y_train_std_ * (k @ gp.alpha_) + gp.y_train_mean_
    solved = k @ gp.K_inv_
    var = gp.kernel_.diag(x) - np.einsum("ij,ij->i", solved, k)
    std = np.sqrt(np.clip(var, 0.0, None)) * gp.y_train_std_
    if pending_from is None:
        return mean, std
    return mean, std, solved[:, pending_from:]


class ExpectedImprovement:
    """EI below the best value seen, less ``xi``, in the units of the GP's training values.

    With pending points and ``deltas``, EI is averaged over the draws: in each the believed
    values move by the draw, the mean at a point moves with them (linearly, through the
    kernel), and the best value seen includes them. That is the expected gain of a point over
    the whole batch (q-EI's increment): near a pending point it is small, since the two values
    go together, but not zero as under the believer alone.
    """

    def __init__(
        self, gp: Any, y_best: float, xi: float, pending_from: int, deltas: Any = None
    ) -> None:
        self.gp = gp
        self.pending_from = pending_from
        self.deltas = deltas
        self.xi = xi
        self.best = np.asarray([y_best])
        if deltas is not None:  # y_train_ is what the GP fitted, after any normalization
            believed = gp.y_train_std_ * gp.y_train_[pending_from:] + gp.y_train_mean_
            self.best = np.minimum(y_best, (believed + deltas).min(axis=1))

    def __call__(self, x: Any) -> Any:
        mean, std, weights = posterior(self.gp, x, self.pending_from)
        means = mean[:, None]
        if self.deltas is not None:
            means = means + weights @ self.deltas.T
        return _ei(self.best[None, :] - self.xi - means, std[:, None]).mean(axis=1)

    def with_gradient(self, x: Any) -> tuple[Any, Any]:
        """EI at each row of ``x`` and its gradient (rows by coordinates), from the Matérn 5/2
        kernel's own derivative."""
        gp = self.gp
        amplitude, scales = _matern_parts(gp.kernel_)
        train = gp.X_train_
        diff = x[:, None, :] - train[None, :, :]
        r = np.sqrt(np.sum((diff / scales) ** 2, axis=2))
        decay = np.exp(-_SQRT5 * r)
        k = amplitude * (1.0 + _SQRT5 * r + 5.0 / 3.0 * r**2) * decay
        dk = (amplitude * -5.0 / 3.0 * (1.0 + _SQRT5 * r) * decay)[:, :, None] * (diff / scales**2)
        ys = gp.y_train_std_
        mean = ys * (k @ gp.alpha_) + gp.y_train_mean_
        dmean = ys * np.einsum("bnd,n->bd", dk, gp.alpha_)
        solved = k @ gp.K_inv_
        var = np.clip(amplitude - np.sum(solved * k, axis=1), 1e-12, None)
        std = ys * np.sqrt(var)
        dstd = ys * (-np.einsum("bn,bnd->bd", solved, dk)) / np.sqrt(var)[:, None]
        means = mean[:, None]
        dmeans = dmean[:, None, :]
        if self.deltas is not None:
            weights = solved[:, self.pending_from :]
            dweights = np.einsum("np,bnd->bpd", gp.K_inv_[:, self.pending_from :], dk)
            means = means + weights @ self.deltas.T
            dmeans = dmeans + np.einsum("kp,bpd->bkd", self.deltas, dweights)
        improve = self.best[None, :] - self.xi - means
        scaled = improve / std[:, None]
        value = _ei(improve, std[:, None]).mean(axis=1)
        grad = (
            -norm.cdf(scaled)[:, :, None] * dmeans
            + norm.pdf(scaled)[:, :, None] * dstd[:, None, :]
        )
        return value, grad.mean(axis=1)


def _ei(improve: Any, std: Any) -> Any:
    scaled = np.divide(improve, std, out=np.zeros_like(improve), where=std > 0)
    return np.where(std > 0, improve * norm.cdf(scaled) + std * norm.pdf(scaled), 0.0)


def _matern_parts(kernel: Any) -> tuple[float, Any]:
    """(amplitude, length scales) of amplitude x Matérn 5/2 + noise, as bayes builds it."""
    product = kernel.k1
    return float(product.k1.constant_value), np.asarray(product.k2.length_scale, dtype=float)


def polish(acquisition: ExpectedImprovement, starts: Any, axes: list[int]) -> Any:
    """``starts`` moved uphill on EI along the real ``axes`` (the one-hot choices stay), all at
    once with L-BFGS-B within the unit cube; a row keeps its start where that was better."""
    if not axes or not len(starts):
        return starts
    before = acquisition(starts)
    scale = float(before.max())
    if not scale > 0.0:  # no gradient to follow
        return starts
    shape = (len(starts), len(axes))

    def objective(flat: Any) -> tuple[float, Any]:
        rows = starts.copy()
        rows[:, axes] = flat.reshape(shape)
        value, grad = acquisition.with_gradient(rows)
        return -float(value.sum()) / scale, -grad[:, axes].ravel() / scale

    result = minimize(
        objective,
        starts[:, axes].ravel(),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, 1.0)] * (shape[0] * shape[1]),
        options={"maxiter": _POLISH_ITERATIONS},
    )
    moved = starts.copy()
    moved[:, axes] = np.clip(result.x.reshape(shape), 0.0, 1.0)
    after = acquisition(moved)
    return np.where((after > before)[:, None], moved, starts)
