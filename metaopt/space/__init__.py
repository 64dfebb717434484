"""Search spaces: the prior language, ``Space``, the user's command template, and trial ids.

Priors are written into the user's own script flags, Oríon style::

    metaopt train.py --lr~'loguniform(1e-5, 1e-1)' --layers~'randint(1, 6)' \\
        --opt~'choice(adam, sgd)' --epochs~'fidelity(1, 50)' --batch=32 data/

``parse_command`` splits that into a ``CommandTemplate`` and a ``Space``. Standard library only:
the CLI imports this package and must start fast.
"""

from __future__ import annotations

from metaopt.space._base import Prior
from metaopt.space._command import CommandTemplate
from metaopt.space._command import parse_command
from metaopt.space._ids import params_key
from metaopt.space._ids import trial_id
from metaopt.space._literals import Value
from metaopt.space._parse import parse_prior
from metaopt.space._priors import PRIORS
from metaopt.space._priors import ChoicePrior
from metaopt.space._priors import ConstantPrior
from metaopt.space._priors import FidelityPrior
from metaopt.space._priors import GeometricPrior
from metaopt.space._priors import GridPrior
from metaopt.space._priors import LogUniformPrior
from metaopt.space._priors import NormalPrior
from metaopt.space._priors import RandIntPrior
from metaopt.space._priors import UniformPrior
from metaopt.space._space import Space

__all__ = [
    "PRIORS",
    "ChoicePrior",
    "CommandTemplate",
    "ConstantPrior",
    "FidelityPrior",
    "GeometricPrior",
    "GridPrior",
    "LogUniformPrior",
    "NormalPrior",
    "Prior",
    "RandIntPrior",
    "Space",
    "UniformPrior",
    "Value",
    "params_key",
    "parse_command",
    "parse_prior",
    "trial_id",
]
