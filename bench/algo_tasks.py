"""The problems bench/algorithms.py optimizes: three classic test functions and one real task.

Each task has a search space in metaopt's prior language (the other libraries get the same
space translated), an objective to minimize, and its optimum where one is known.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

Params = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Task:
    name: str
    space: dict[str, str]  # {name: prior text}
    objective: Callable[[Params], float]
    budget: int  # evaluations per run
    optimum: float | None  # None: the best value any run finds stands in for it


def branin(p: Params) -> float:
    x, y = float(p["x"]), float(p["y"])
    a = y - 5.1 / (4 * math.pi**2) * x**2 + 5 / math.pi * x - 6
    return a**2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x) + 10


_H_ALPHA = (1.0, 1.2, 3.0, 3.2)
_H_A = (
    (10, 3, 17, 3.5, 1.7, 8),
    (0.05, 10, 17, 0.1, 8, 14),
    (3, 3.5, 1.7, 10, 17, 8),
    (17, 8, 0.05, 10, 0.1, 14),
)
_H_P = (
    (0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886),
    (0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991),
    (0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650),
    (0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381),
)


def hartmann6(p: Params) -> float:
    x = [float(p[f"x{i}"]) for i in range(6)]
    total = 0.0
    for alpha, a, q in zip(_H_ALPHA, _H_A, _H_P, strict=True):
        distance = sum(ai * (xi - qi) ** 2 for ai, xi, qi in zip(a, x, q, strict=True))
        total -= alpha * math.exp(-distance)
    return total


def levy10(p: Params) -> float:
    w = [1 + (float(p[f"x{i}"]) - 1) / 4 for i in range(10)]
    head = math.sin(math.pi * w[0]) ** 2
    body = sum((wi - 1) ** 2 * (1 + 10 * math.sin(math.pi * wi + 1) ** 2) for wi in w[:-1])
    tail = (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)
    return head + body + tail


class DigitsSVC:
    """3-fold cross-validated error of an SVC on 300 images of scikit-learn's digits.

    A mixed space: two log-scaled reals, a categorical kernel and an integer degree (which only
    the polynomial kernel reads). Deterministic: fixed subsample, fixed folds.
    """

    def __init__(self) -> None:
        self._data: tuple[Any, Any] | None = None

    def __call__(self, p: Params) -> float:
        from sklearn.model_selection import StratifiedKFold
        from sklearn.model_selection import cross_val_score
        from sklearn.svm import SVC

        x, y = self._load()
        model = SVC(C=p["C"], gamma=p["gamma"], kernel=p["kernel"], degree=p["degree"])
        folds = StratifiedKFold(3, shuffle=True, random_state=0)
        return 1.0 - float(cross_val_score(model, x, y, cv=folds).mean())

    def _load(self) -> tuple[Any, Any]:
        if self._data is None:
            import numpy as np
            from sklearn.datasets import load_digits

            x, y = load_digits(return_X_y=True)
            pick = np.random.default_rng(0).permutation(len(y))[:300]
            self._data = (x[pick] / 16.0, y[pick])
        return self._data


TASKS = (
    Task("branin", {"x": "uniform(-5, 10)", "y": "uniform(0, 15)"}, branin, 50, 0.397887),
    Task("hartmann6", {f"x{i}": "uniform(0, 1)" for i in range(6)}, hartmann6, 50, -3.32237),
    Task("levy10", {f"x{i}": "uniform(-10, 10)" for i in range(10)}, levy10, 100, 0.0),
    Task(
        "digits_svc",
        {
            "C": "loguniform(0.01, 1000)",
            "gamma": "loguniform(1e-5, 10)",
            "kernel": "choice(rbf, poly, sigmoid)",
            "degree": "randint(2, 5)",
        },
        DigitsSVC(),
        50,
        None,
    ),
)
