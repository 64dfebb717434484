"""Learning-curve tasks for bench/freezethaw.py: exact synthetic families, a pool of real curves.

Every task is a search over four coordinates of the unit cube with a budget of ``EPOCHS`` steps:
``curve(u)`` gives the validation loss after each epoch (what a trial reports), ``final(u)`` the
value its full training ends at, which regret is measured against.

* ``synthetic-c0``, ``synthetic-c2``: losses falling from 1 to an asymptote set by a smooth
  random function of u, at a rate that, with crossing c > 0, is slowest where the asymptote is
  best, so that early values mislead (c = 0: they do not). Small noise on every step.
* ``digits-mlp``: scikit-learn's MLPClassifier trained epoch by epoch on the bundled digits
  (learning rate, L2, hidden units, batch size), its validation log-loss per epoch, for a pool of
  Sobol configurations built once and cached; a point is served the nearest configuration of the
  pool that its run has not used yet.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

EPOCHS = 27
DIM = 4
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "metaopt-bench"


class Synthetic:
    def __init__(self, crossing: float, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        self.name = f"synthetic-c{crossing:g}"
        self.crossing = crossing
        self.freqs = rng.normal(0.0, 3.0, (16, DIM))
        self.phases = rng.uniform(0, 2 * math.pi, 16)
        self.weights = rng.normal(0.0, 1.0, 16)
        grid = rng.random((4000, DIM))
        raw = self._raw(grid)
        self.low, self.high = float(raw.min()), float(raw.max())
        finals = [self.final(u) for u in grid[:500]]
        self.median = float(np.median(finals))
        self.optimum = min([*finals, 0.1])

    def _raw(self, u: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.cos(np.atleast_2d(u) @ self.freqs.T + self.phases) @ self.weights
        return out

    def quality(self, u: Any) -> float:
        """0 at the best asymptote, 1 at the worst."""
        raw = float(self._raw(np.asarray(u))[0])
        return (raw - self.low) / (self.high - self.low)

    def final(self, u: Any) -> float:
        return float(self.curve(u, noise=False)[-1])

    def curve(self, u: Any, noise: bool = True) -> np.ndarray:
        g = min(max(self.quality(u), 0.0), 1.0)
        asymptote = 0.1 + 0.6 * g
        rate = 0.35 * math.exp(self.crossing * (g - 0.5))  # best asymptotes learn slowest
        t = np.arange(1, EPOCHS + 1)
        values = asymptote + (1.0 - asymptote) * np.exp(-rate * t)
        if noise:
            seed = int(abs(hash(tuple(np.round(u, 12)))) % 2**32)
            values = values + np.random.default_rng(seed).normal(0.0, 0.004, EPOCHS)
        out: np.ndarray = values
        return out


class Pool:
    """Real curves: configurations in the unit cube and their per-epoch validation losses."""

    def __init__(self, name: str, configs: np.ndarray, curves: np.ndarray) -> None:
        self.name = name
        self.configs = configs
        self.curves = curves
        finals = curves[:, -1]
        self.optimum = float(finals.min())
        self.median = float(np.median(finals))

    def nearest(self, u: Any, used: set[int]) -> int:
        d = ((self.configs - np.asarray(u)) ** 2).sum(1)
        for i in np.argsort(d):
            if int(i) not in used:
                return int(i)
        return int(np.argmin(d))

    def final(self, index: int) -> float:
        return float(self.curves[index, -1])


def digits_pool(size: int = 128, seed: int = 0) -> Pool:
    """The digits-MLP pool, from the cache when it is there (about 20 s to build on 2 cores)."""
    path = CACHE / f"digits-mlp-{size}-{EPOCHS}-{seed}.npz"
    if path.exists():
        data = np.load(path)
        return Pool("digits-mlp", data["configs"], data["curves"])
    from joblib import Parallel
    from joblib import delayed
    from scipy.stats import qmc

    configs = qmc.Sobol(DIM, scramble=True, seed=seed).random(size)
    curves = Parallel(n_jobs=2)(delayed(_train_digits)(u, seed) for u in configs)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, configs=configs, curves=np.array(curves))
    return Pool("digits-mlp", configs, np.array(curves))


def _train_digits(u: np.ndarray, seed: int) -> list[float]:
    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import log_loss
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.3, random_state=seed)
    scaler = StandardScaler().fit(x_train)
    x_train, x_val = scaler.transform(x_train), scaler.transform(x_val)
    model = MLPClassifier(
        hidden_layer_sizes=(int(2 ** (3 + 5 * u[2])),),
        learning_rate_init=10 ** (-4 + 3.5 * u[0]),
        alpha=10 ** (-6 + 5 * u[1]),
        batch_size=int(2 ** (3 + 5 * u[3])),
        random_state=seed,
    )
    out = []
    classes = np.unique(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(EPOCHS):
            model.partial_fit(x_train, y_train, classes=classes)
            loss = log_loss(y_val, model.predict_proba(x_val), labels=classes)
            out.append(min(float(loss), 10.0))
    return out
