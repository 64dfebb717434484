"""Parameter importance: forest permutation importance over the completed trials.

A random forest (scikit-learn, 200 trees) is fitted to the trials' parameters and objective;
a parameter's importance is how much the forest's R² on the trials drops when that
parameter's column is shuffled (20 shuffles, averaged), clipped at 0 and scaled so that the
importances sum to 1. Choices enter as the index of the choice, log-scaled priors as the log
of the value, so that a forest split means the same at every scale. Past ``MAX_ROWS``
completed trials, a fixed random sample of that many is fitted: the shares settle long
before, and the fit stays in seconds.
"""

from __future__ import annotations

import math

from metaopt._history import History
from metaopt.analysis._series import log_scaled
from metaopt.analysis._series import samples
from metaopt.errors import MetaoptError

MIN_TRIALS = 5
MAX_ROWS = 2000


def importance(history: History, seed: int = 0) -> dict[str, float]:
    """Each searched parameter's share of the objective's variation, largest first.

    Raises:
        MetaoptError: fewer than ``MIN_TRIALS`` completed trials, or nothing was searched.
    """
    every = samples(history)
    count = len(every[0].objective) if every else 0
    if count < MIN_TRIALS:
        raise MetaoptError(
            f"{history.name}: parameter importance needs {MIN_TRIALS} completed trials, "
            f"it has {count}"
        )
    columns = [s for s in every if len(set(s.values)) > 1]
    if not columns:
        raise MetaoptError(f"{history.name}: no searched parameter varies over its trials")
    import numpy as np
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.inspection import permutation_importance

    order = np.argsort(columns[0].trial_ids)  # by trial: the same trials, the same answer
    x = np.column_stack(
        [
            np.log(np.maximum(s.values, 1e-300))
            if not s.labels and log_scaled(history, s.param)
            else s.values
            for s in columns
        ]
    )[order]
    y = np.asarray(columns[0].objective, dtype=float)[order]
    if len(y) > MAX_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(len(y), MAX_ROWS, replace=False))
        x, y = x[rows], y[rows]
    forest = RandomForestRegressor(n_estimators=200, min_samples_leaf=2, random_state=seed)
    forest.fit(x, y)
    result = permutation_importance(forest, x, y, n_repeats=20, random_state=seed)
    raw = np.clip(result.importances_mean, 0.0, None)
    total = float(raw.sum())
    shares = raw / total if total > 0 and math.isfinite(total) else np.zeros(len(columns))
    pairs = sorted(zip((s.param for s in columns), shares, strict=True), key=lambda p: -p[1])
    return {name: float(share) for name, share in pairs}
