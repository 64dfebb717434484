"""The ABC of every prior, and the error a prior raises about one of its arguments.

``text()`` is a prior's canonical spelling: it parses back to an equal prior, and two priors are
equal exactly when their canonical texts are, so experiment definitions compare by text.
"""

from __future__ import annotations

import abc
import random
from collections.abc import Sequence
from typing import ClassVar

from metaopt.errors import SpaceError
from metaopt.space._literals import Value


class ArgumentError(SpaceError):
    """One argument of a prior is invalid; ``index`` is its place in the call, from 0."""

    def __init__(self, reason: str, index: int) -> None:
        super().__init__(reason)
        self.index = index


class Prior(abc.ABC):
    """The distribution of one hyperparameter.

    Priors are immutable and hashable, and safe to share between threads. Two priors are equal
    when their canonical texts (``text()``) are equal. Constructors raise ``SpaceError`` for
    invalid arguments. Bounded priors (uniform, loguniform, randint, grid, geometric, fidelity)
    also have ``low`` and ``high``.

    Attributes:
        NAME: the prior's name in the language, e.g. ``"loguniform"``.
        VARIADIC: whether the prior takes any number of positional values (``choice``).
        log: whether the values are spread on a log scale.
    """

    __slots__ = ()
    NAME: ClassVar[str]
    VARIADIC: ClassVar[bool] = False
    KIND: ClassVar[str]
    log: ClassVar[bool] = False

    @property
    def kind(self) -> str:
        """``"real"``, ``"integer"``, ``"categorical"``, ``"fidelity"`` or ``"constant"``."""
        return self.KIND

    @abc.abstractmethod
    def sample(self, rng: random.Random) -> Value:
        """Draw one value using only ``rng``."""

    @abc.abstractmethod
    def contains(self, value: object) -> bool:
        """Whether ``value`` is a value this prior can produce."""

    def values(self) -> Sequence[Value] | None:
        """Every value in order when there are finitely many, else None (continuous priors).

        A tuple, except for ``randint`` which returns a ``range`` so wide ranges cost nothing.
        """
        return None

    @abc.abstractmethod
    def text(self) -> str:
        """The canonical text: ``loguniform(1e-05, 0.1)`` for ``loguniform(1e-5, 1e-1)``."""

    def __str__(self) -> str:
        return self.text()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Prior):
            return NotImplemented
        return type(self) is type(other) and self.text() == other.text()

    def __hash__(self) -> int:
        return hash(self.text())
