"""``Space``: the ordered, immutable set of named priors an experiment searches."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence

from metaopt.errors import SpaceError
from metaopt.space._base import Prior
from metaopt.space._literals import Value
from metaopt.space._parse import parse_prior


class Space(Mapping[str, Prior]):
    """An ordered, immutable mapping from parameter name to prior.

    Iterating gives the names in declaration order; ``space[name]`` is that parameter's prior.
    Two spaces are equal when they map the same names to the same canonical prior texts, in any
    order. A space holds at most one fidelity. Safe to share between threads.

    Example:
        >>> space = Space.from_dict({"lr": "loguniform(1e-5, 1e-1)", "layers": "randint(1, 6)"})
        >>> space.to_dict()
        {'lr': 'loguniform(1e-05, 0.1)', 'layers': 'randint(1, 6)'}
    """

    __slots__ = ("_priors",)

    def __init__(self, priors: Mapping[str, Prior] | Iterable[tuple[str, Prior]] = ()) -> None:
        """Build a space from ``{name: prior}`` or ``(name, prior)`` pairs.

        Raises:
            SpaceError: an empty or repeated name, or more than one fidelity.
            TypeError: a value is not a Prior.
        """
        pairs = priors.items() if isinstance(priors, Mapping) else priors
        table: dict[str, Prior] = {}
        for name, prior in pairs:
            if not isinstance(name, str) or not name:
                raise SpaceError(f"a parameter name must be a non-empty string, got {name!r}")
            if not isinstance(prior, Prior):
                raise TypeError(f"{name}: expected a Prior, got {type(prior).__name__}")
            if name in table:
                raise SpaceError("parameter declared twice", flag=name)
            table[name] = prior
        _check_one_fidelity(table)
        self._priors = table

    @classmethod
    def from_dict(cls, texts: Mapping[str, str]) -> Space:
        """Parse ``{name: prior text}``, e.g. what ``to_dict`` returned.

        Raises:
            SpaceError: a text is not a valid prior; the error's ``flag`` is its key.
        """
        priors: list[tuple[str, Prior]] = []
        for name, text in texts.items():
            if not isinstance(text, str):
                raise SpaceError(f"expected a prior text, got {text!r}", flag=str(name))
            priors.append((name, parse_prior(text, flag=name)))
        return cls(priors)

    def to_dict(self) -> dict[str, str]:
        """``{name: canonical prior text}`` in order; JSON-able; ``from_dict`` reads it back."""
        return {name: prior.text() for name, prior in self._priors.items()}

    @property
    def names(self) -> tuple[str, ...]:
        """The parameter names in declaration order."""
        return tuple(self._priors)

    @property
    def fidelity(self) -> str | None:
        """The name of the fidelity parameter, or None when the space has none."""
        return next((n for n, p in self._priors.items() if p.kind == "fidelity"), None)

    @property
    def is_finite(self) -> bool:
        """Whether every prior has finitely many values, so grid search can enumerate them."""
        return all(prior.values() is not None for prior in self._priors.values())

    def cardinality(self) -> int | None:
        """How many distinct points the space holds, or None when a prior is continuous."""
        total = 1
        for prior in self._priors.values():
            values = prior.values()
            if values is None:
                return None
            total *= len(values)
        return total

    def sample(self, rng: random.Random) -> dict[str, Value]:
        """One point drawn from every prior in order, using only ``rng``."""
        return {name: prior.sample(rng) for name, prior in self._priors.items()}

    def contains(self, params: Mapping[str, object]) -> bool:
        """Whether ``params`` names exactly this space's parameters, each inside its prior."""
        try:
            self.validate(params)
        except SpaceError:
            return False
        return True

    def validate(self, params: Mapping[str, object]) -> None:
        """Check a point against the space.

        Raises:
            SpaceError: a parameter is missing, unknown, or outside its prior; ``flag`` names it.
        """
        if not isinstance(params, Mapping):
            raise SpaceError(f"parameters must be a mapping, got {type(params).__name__}")
        for name in params:
            if name not in self._priors:
                known = ", ".join(self._priors) or "nothing"
                raise SpaceError(f"unknown parameter; the space has {known}", flag=str(name))
        for name, prior in self._priors.items():
            if name not in params:
                raise SpaceError("missing parameter", flag=name)
            if not prior.contains(params[name]):
                raise SpaceError(f"{params[name]!r} is outside {prior.text()}", flag=name)

    def grid_points(self) -> Iterator[dict[str, Value]]:
        """Every point of a finite space: the cartesian product of the priors' values.

        The order is deterministic: the first parameter changes slowest, the last fastest, and
        each prior's values come in ``values()`` order (a fidelity contributes only its high).

        Raises:
            SpaceError: a prior is continuous (raised here, before iteration starts).
        """
        continuous = [f"{n}~{p.text()}" for n, p in self._priors.items() if p.values() is None]
        if continuous:
            raise SpaceError(
                f"grid search needs finite priors, but {', '.join(continuous)} "
                f"{'is' if len(continuous) == 1 else 'are'} continuous; "
                "use grid(a, b, step=s) or choice(...) instead"
            )
        names = self.names
        columns = [prior.values() or () for prior in self._priors.values()]
        return (dict(zip(names, point, strict=True)) for point in itertools.product(*columns))

    def grid_index(self, params: Mapping[str, object]) -> int | None:
        """The position of ``params`` in ``grid_points()`` order; None outside a finite space."""
        index = 0
        for name, prior in self._priors.items():
            values = prior.values()
            if values is None or name not in params:
                return None
            try:
                position = _position(values, params[name])
            except ValueError:
                return None
            index = index * len(values) + position
        return index

    def __getitem__(self, name: str) -> Prior:
        return self._priors[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._priors)

    def __len__(self) -> int:
        return len(self._priors)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Space):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(frozenset(self.to_dict().items()))

    def __repr__(self) -> str:
        return f"Space({self.to_dict()!r})"


def _position(values: Sequence[Value], value: object) -> int:
    """Where ``value`` is among a prior's values, by the same rule as params_key (3 != 3.0)."""
    for i, candidate in enumerate(values):
        if type(candidate) is type(value) and candidate == value:
            return i
    raise ValueError(value)


def _check_one_fidelity(priors: Mapping[str, Prior]) -> None:
    fidelities = [name for name, prior in priors.items() if prior.kind == "fidelity"]
    if len(fidelities) > 1:
        raise SpaceError(
            f"a space has at most one fidelity, but {', '.join(fidelities)} are fidelities",
            flag=fidelities[1],
        )
