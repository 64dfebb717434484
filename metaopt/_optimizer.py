"""Optimizer: the search algorithms in-process, ask and tell, with no daemon and no store.

For notebooks and for tools that run their own evaluations::

    opt = metaopt.Optimizer({"lr": "loguniform(1e-5, 1e-1)", "layers": "randint(1, 6)"})
    for _ in range(50):
        params = opt.ask()
        opt.tell(params, train(**params))
    opt.best

Points asked and not told yet are pending: the next ``ask`` knows them and looks elsewhere,
so several workers can evaluate at once.

With a multi-fidelity algorithm (``asha``, ``hyperband``, ``freezethaw``) and a fidelity, each ask
is a ``Job``: a new point or a frozen one thawed, to train from ``job.start`` up to
``job.until`` steps, and each step is told as it ends; ``tell`` says whether to go on::

    opt = metaopt.Optimizer({"lr": "loguniform(1e-4, 1)", "epochs": "fidelity(1, 27, base=3)"},
                            algo="asha")
    job = opt.ask()  # {"lr": ..., "epochs": 1}: this lease trains to job["epochs"] == job.until
    state = saved.get(job.id) or fresh_model(job["lr"])  # a thaw resumes its own state
    for step in range(job.start, job.until):
        loss = train_one_epoch(state)
        if not opt.tell(job, step, loss):
            break  # frozen (keep ``state``: a later ask may thaw it) or done
    saved[job.id] = state
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any
from typing import overload

from metaopt.algo import Lease
from metaopt.algo import MultiFidelityAlgorithm
from metaopt.algo import Params
from metaopt.algo import SearchHistory
from metaopt.algo import make_algorithm
from metaopt.errors import MetaoptError
from metaopt.errors import SpaceExhausted
from metaopt.records import Trial
from metaopt.records import TrialStatus
from metaopt.space import Space
from metaopt.space import params_key
from metaopt.space import trial_id

_METRIC = "objective"
_WHOLE: Any = object()  # tell's third argument when a whole evaluation is told


class Job(dict[str, Any]):
    """A multi-fidelity ask: the point's parameters, with its fidelity set to ``until``.

    ``id`` names the trial (the same for each thaw of it), ``start`` is the number of steps it
    trained before (0 for a new point) and ``until`` the steps it may train to in this lease.
    """

    def __init__(self, params: Params, trial_id: str, start: int, until: int) -> None:
        super().__init__(params)
        self.id = trial_id
        self.start = start
        self.until = until

    @property
    def is_thaw(self) -> bool:
        return self.start > 0


class Optimizer:
    """Ask for points, tell their objective; ``algo`` is any name ``metaopt --algo`` accepts.

    Args:
        space: ``{name: prior text}`` such as ``{"lr": "loguniform(1e-5, 1e-1)"}``, or a Space.
        algo: ``bayes``, ``evolution``, ``random``, ``grid``...
        seed: the same seed and the same tells give the same asks.
        maximize: the objective is a score to maximize rather than a loss.
        options: the algorithm's options, as ``--algo-option`` takes them.
    """

    def __init__(
        self,
        space: Mapping[str, str] | Space,
        algo: str = "bayes",
        *,
        seed: int = 0,
        maximize: bool = False,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.space = space if isinstance(space, Space) else Space.from_dict(space)
        self.maximize = maximize
        self.algorithm = make_algorithm(algo, self.space, seed=seed, options=options)
        self._trials: dict[str, Trial] = {}  # by params key, in the order they were asked
        self._leases: dict[str, int] = {}  # trial id: the steps its running lease may reach

    @overload
    def ask(self) -> Params: ...

    @overload
    def ask(self, n: int) -> list[Params]: ...

    def ask(self, n: int | None = None) -> Params | list[Params]:
        """One new point, or a list of ``n`` that spread out (fewer when the space runs out).

        With a multi-fidelity algorithm each one is a ``Job`` (see the module's example).

        Raises:
            SpaceExhausted: ``ask()`` on a finite space whose every point was asked already.
        """
        if isinstance(self.algorithm, MultiFidelityAlgorithm):
            jobs = self._ask_jobs(self.algorithm, 1 if n is None else n)
            if n is not None:
                return list(jobs)
            if not jobs:
                raise SpaceExhausted("no new point left, no frozen trial worth more steps")
            return jobs[0]
        points = self.algorithm.suggest(self._history(), 1 if n is None else n)
        for params in points:
            self._add(params, TrialStatus.RESERVED, None)
        if n is not None:
            return points
        if not points:
            raise SpaceExhausted(f"all {len(self._trials)} points of the space were asked already")
        return points[0]

    @overload
    def tell(self, params: Params, value: float | None) -> None: ...

    @overload
    def tell(self, params: Job, value: int, step_value: float | None) -> bool: ...

    def tell(self, params: Params, value: Any, step_value: Any = _WHOLE) -> bool | None:
        """The objective of ``params``: a number, or None or NaN for an evaluation that failed.

        ``params`` need not come from ``ask``: known results can be told first to warm-start.
        For a ``Job``, ``tell(job, step, value)`` tells one step and returns whether to go on.

        Raises:
            MetaoptError: ``params`` is outside the space, or its value was told already.
        """
        if isinstance(params, Job):
            if step_value is _WHOLE:
                raise MetaoptError("tell(job, step, value): a job is told one step at a time")
            return self._tell_step(params, int(value), _number(step_value))
        value = _number(value)
        if isinstance(self.algorithm, MultiFidelityAlgorithm):
            raise MetaoptError(
                f"{self.algorithm.name} allocates steps: tell each step of an asked job with "
                "tell(job, step, value)"
            )
        self.space.validate(params)
        key = params_key(params)
        known = self._trials.get(key)
        if known is not None and known.status.is_finished():
            raise MetaoptError(f"the value of {params} was told already")
        failed = value is None or math.isnan(value)
        status = TrialStatus.FAILED if failed else TrialStatus.COMPLETED
        if known is None:
            self._add(params, status, value)
        else:
            curve = () if value is None or failed else ((0, {_METRIC: float(value)}),)
            self._trials[key] = dataclasses.replace(known, status=status, curve=curve)
        return None

    def _ask_jobs(self, algorithm: MultiFidelityAlgorithm, n: int) -> list[Job]:
        """Up to ``n`` leases, each counted as running before the next is decided."""
        jobs = []
        for _ in range(n):
            lease = algorithm.lease(self._history())
            if lease is None:
                break
            jobs.append(self._start(algorithm, lease))
        return jobs

    def _start(self, algorithm: MultiFidelityAlgorithm, lease: Lease) -> Job:
        key = params_key(lease.params)
        known = self._trials.get(key)
        if known is None:
            self._add(lease.params, TrialStatus.RUNNING, None)
            known = self._trials[key]
        else:
            self._trials[key] = dataclasses.replace(known, status=TrialStatus.RUNNING)
        self._leases[known.id] = lease.until
        params = {**lease.params, algorithm.fidelity_name: lease.until}
        return Job(params, known.id, lease.start, lease.until)

    def _tell_step(self, job: Job, step: int, value: float | None) -> bool:
        algorithm = self.algorithm
        assert isinstance(algorithm, MultiFidelityAlgorithm)
        key = params_key({k: v for k, v in job.items() if k != algorithm.fidelity_name})
        trial = self._trials.get(key)
        until = self._leases.get(trial.id) if trial is not None else None
        if trial is None or until is None or trial.status != TrialStatus.RUNNING:
            raise MetaoptError(f"job {job.id} is not running: ask for a job, then tell its steps")
        if trial.curve and step <= trial.curve[-1][0]:
            raise MetaoptError(
                f"job {job.id}: step {step} was told after step {trial.curve[-1][0]}; "
                "tell each step once, in order"
            )
        if value is None or math.isnan(value):
            self._end_lease(trial, TrialStatus.FAILED, trial.curve)
            return False
        trial = dataclasses.replace(trial, curve=(*trial.curve, (step, {_METRIC: value})))
        self._trials[key] = trial
        if len(trial.curve) >= algorithm.fidelity.high:
            self._end_lease(trial, TrialStatus.COMPLETED, trial.curve)
            return False
        if not algorithm.go_on(self._history(), trial, until):
            self._end_lease(trial, TrialStatus.FROZEN, trial.curve)
            return False
        return True

    def _end_lease(self, trial: Trial, status: TrialStatus, curve: tuple[Any, ...]) -> None:
        self._leases.pop(trial.id, None)
        self._trials[params_key(trial.params)] = dataclasses.replace(
            trial, status=status, curve=curve
        )

    @property
    def trials(self) -> list[Trial]:
        """Every point asked or told, oldest first, with its status and value."""
        return list(self._trials.values())

    @property
    def pending(self) -> list[Params]:
        """Points asked and not told yet."""
        return [t.params for t in self._trials.values() if not t.status.is_finished()]

    @property
    def best(self) -> tuple[Params, float] | None:
        """The best point told so far and its value (its best step, for a multi-fidelity
        run); None before the first good value."""
        sign = -1.0 if self.maximize else 1.0
        scored = [
            (t.params, value)
            for t in self._trials.values()
            for _, metrics in t.curve
            if math.isfinite(value := metrics.get(_METRIC, math.nan))
        ]
        if not scored:
            return None
        return min(scored, key=lambda pv: sign * pv[1])

    def _history(self) -> SearchHistory:
        return SearchHistory(list(self._trials.values()), _METRIC, self.maximize)

    def _add(self, params: Params, status: TrialStatus, value: float | None) -> None:
        curve = () if value is None or math.isnan(value) else ((0, {_METRIC: float(value)}),)
        trial = Trial(
            trial_id("", params),
            "",
            dict(params),
            status=status,
            created=float(len(self._trials)),  # the order of asks: what ageing and refits follow
            curve=curve,
        )
        self._trials[params_key(params)] = trial


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, int | float):
        return None if value is None else float(value)
    try:
        return float(value)  # numpy scalars, 0-d arrays, tensors with __float__
    except (TypeError, ValueError):
        raise MetaoptError(f"tell: the value must be a number or None, got {value!r}") from None
