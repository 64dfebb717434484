"""The optimizers bench/algorithms.py compares, behind one ask/tell shape.

metaopt's algorithms run through ``metaopt.Optimizer``; Optuna's samplers through
``study.ask``/``study.tell`` with the space given as fixed distributions; scikit-optimize's
``gp_minimize`` is a function-call API, so it only runs sequentially, as its users run it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import metaopt
from metaopt.space import ChoicePrior
from metaopt.space import LogUniformPrior
from metaopt.space import RandIntPrior
from metaopt.space import Space
from metaopt.space import UniformPrior

Params = dict[str, Any]


class AskTell:
    """One run of one optimizer: ``ask`` returns (token, params), ``tell`` takes the token back."""

    def ask(self) -> tuple[Any, Params]:
        raise NotImplementedError

    def tell(self, token: Any, value: float) -> None:
        raise NotImplementedError


class MetaoptRun(AskTell):
    def __init__(self, algo: str, space: dict[str, str], seed: int) -> None:
        self.opt = metaopt.Optimizer(space, algo=algo, seed=seed)

    def ask(self) -> tuple[Any, Params]:
        params = self.opt.ask()
        return params, params

    def tell(self, token: Any, value: float) -> None:
        self.opt.tell(token, value)


class OptunaRun(AskTell):
    def __init__(self, sampler: str, space: dict[str, str], seed: int) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
        if sampler == "tpe":
            # constant_liar: what Optuna recommends when trials run in parallel.
            chosen: Any = optuna.samplers.TPESampler(seed=seed, constant_liar=True)
        else:
            chosen = optuna.samplers.GPSampler(seed=seed)
        self.study = optuna.create_study(sampler=chosen)
        self.distributions = optuna_space(space)

    def ask(self) -> tuple[Any, Params]:
        trial = self.study.ask(self.distributions)
        return trial, dict(trial.params)

    def tell(self, token: Any, value: float) -> None:
        self.study.tell(token, value)


def optuna_space(space: dict[str, str]) -> dict[str, Any]:
    from optuna import distributions as d

    out: dict[str, Any] = {}
    for name, prior in Space.from_dict(space).items():
        if isinstance(prior, UniformPrior):
            out[name] = d.FloatDistribution(prior.low, prior.high)
        elif isinstance(prior, LogUniformPrior):
            out[name] = d.FloatDistribution(prior.low, prior.high, log=True)
        elif isinstance(prior, RandIntPrior):
            out[name] = d.IntDistribution(prior.low, prior.high)
        elif isinstance(prior, ChoicePrior):
            out[name] = d.CategoricalDistribution(list(prior.values()))
        else:
            raise ValueError(f"{name}: no Optuna translation for {prior.text()}")
    return out


def skopt_minimize(
    space: dict[str, str], objective: Callable[[Params], float], budget: int, seed: int
) -> None:
    """Plain ``skopt.gp_minimize`` with its defaults; ``objective`` records each value."""
    from skopt import gp_minimize
    from skopt.space import Categorical
    from skopt.space import Integer
    from skopt.space import Real

    names: list[str] = []
    dimensions: list[Any] = []
    for name, prior in Space.from_dict(space).items():
        names.append(name)
        if isinstance(prior, UniformPrior):
            dimensions.append(Real(prior.low, prior.high))
        elif isinstance(prior, LogUniformPrior):
            dimensions.append(Real(prior.low, prior.high, prior="log-uniform"))
        elif isinstance(prior, RandIntPrior):
            dimensions.append(Integer(prior.low, prior.high))
        elif isinstance(prior, ChoicePrior):
            dimensions.append(Categorical(list(prior.values())))
        else:
            raise ValueError(f"{name}: no scikit-optimize translation for {prior.text()}")

    def call(point: list[Any]) -> float:
        # skopt hands numpy scalars; the objectives want plain Python values.
        pairs = zip(names, point, strict=True)
        params = {n: v.item() if hasattr(v, "item") else v for n, v in pairs}
        return objective(params)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "The objective has been evaluated at this point before"
        gp_minimize(call, dimensions, n_calls=budget, random_state=seed)


# name -> (factory of an ask/tell run, or None for sequential-only; runs with trials pending)
METHODS: dict[str, tuple[Callable[[dict[str, str], int], AskTell] | None, bool]] = {
    "metaopt bayes": (lambda space, seed: MetaoptRun("bayes", space, seed), True),
    "metaopt evolution": (lambda space, seed: MetaoptRun("evolution", space, seed), True),
    "metaopt random": (lambda space, seed: MetaoptRun("random", space, seed), True),
    "optuna TPE": (lambda space, seed: OptunaRun("tpe", space, seed), True),
    "optuna GP": (lambda space, seed: OptunaRun("gp", space, seed), False),
    "skopt gp_minimize": (None, False),
}
