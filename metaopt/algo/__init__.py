"""Search algorithms behind one interface: ``suggest(history, n)``."""

from __future__ import annotations

from typing import Any

from metaopt.algo._asha import AshaAlgorithm
from metaopt.algo._asha import HyperbandAlgorithm
from metaopt.algo._base import BaseAlgorithm
from metaopt.algo._base import Params
from metaopt.algo._base import SearchHistory
from metaopt.algo._bayes import BayesAlgorithm
from metaopt.algo._evolution import EvolutionAlgorithm
from metaopt.algo._fidelity import Lease
from metaopt.algo._fidelity import MultiFidelityAlgorithm
from metaopt.algo._fidelity import steps_done
from metaopt.algo._freezethaw import FreezeThawAlgorithm
from metaopt.algo._grid import GridAlgorithm
from metaopt.algo._list import ListAlgorithm
from metaopt.algo._list import load_configs
from metaopt.algo._random import RandomAlgorithm
from metaopt.errors import AlgorithmError
from metaopt.space import Space

ALGORITHMS: dict[str, type[BaseAlgorithm]] = {
    cls.name: cls
    for cls in (
        RandomAlgorithm,
        GridAlgorithm,
        ListAlgorithm,
        BayesAlgorithm,
        EvolutionAlgorithm,
        AshaAlgorithm,
        HyperbandAlgorithm,
        FreezeThawAlgorithm,
    )
}


def make_algorithm(
    name: str,
    space: Space,
    *,
    seed: int = 0,
    node_id: str = "",
    options: dict[str, Any] | None = None,
) -> BaseAlgorithm:
    """Build the algorithm called ``name``; raises AlgorithmError for an unknown one."""
    try:
        cls = ALGORITHMS[name]
    except KeyError:
        known = ", ".join(sorted(ALGORITHMS))
        raise AlgorithmError(f"unknown algorithm {name!r}: choose one of {known}") from None
    return cls(space, seed=seed, node_id=node_id, options=options)


__all__ = [
    "ALGORITHMS",
    "AshaAlgorithm",
    "BaseAlgorithm",
    "BayesAlgorithm",
    "EvolutionAlgorithm",
    "GridAlgorithm",
    "HyperbandAlgorithm",
    "Lease",
    "ListAlgorithm",
    "MultiFidelityAlgorithm",
    "Params",
    "RandomAlgorithm",
    "SearchHistory",
    "load_configs",
    "make_algorithm",
    "steps_done",
]
