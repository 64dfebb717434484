"""BaseAlgorithm: proposes the next points of a search space from the shared history."""

from __future__ import annotations

import abc
import dataclasses
import hashlib
import random
from collections.abc import Sequence
from typing import Any
from typing import ClassVar

from metaopt.errors import AlgorithmError
from metaopt.records import Trial
from metaopt.records import TrialStatus
from metaopt.space import Space
from metaopt.space import params_key

Params = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class SearchHistory:
    """What an algorithm sees: every trial of the experiment, from every node, pending included."""

    trials: Sequence[Trial]
    objective: str | None = None
    maximize: bool = False
    # (k, m): this node is the k-th of m live nodes. Algorithms over a finite space try the
    # k-th m-th of its points first, so that nodes proposing at once rarely pick the same one.
    share: tuple[int, int] = (0, 1)

    def in_share(self, index: int) -> bool:
        """Whether the point at ``index`` (in the space's order) is this node's to try first."""
        k, m = self.share
        return index % m == k

    def seen(self) -> set[str]:
        """Keys of every point already proposed, whatever its status."""
        return {params_key(t.params) for t in self.trials}

    def observations(self) -> list[tuple[Params, float]]:
        """Completed points and their objective, as a value to minimize, oldest first.

        The order (creation time, then id) is the same on every replica, and a new trial
        usually lands at the end: algorithms that age or refit on a schedule rely on it.
        """
        sign = -1.0 if self.maximize else 1.0
        out = []
        for trial in sorted(self.trials, key=lambda t: (t.created, t.id)):
            value = trial.objective(self.objective)
            if trial.status == TrialStatus.COMPLETED and value is not None:
                out.append((trial.params, sign * value))
        return out

    def pending(self) -> list[Params]:
        """Points proposed or running on any node, not finished yet (nor frozen: a frozen
        trial's curve so far is what it is worth until it is thawed)."""
        return [
            t.params
            for t in self.trials
            if not t.status.is_finished() and not t.status.is_frozen()
        ]


class BaseAlgorithm(abc.ABC):
    """An optimizer over one :class:`~metaopt.space.Space`.

    Contract:

    * ``suggest`` is a pure function of (space, seed, node id, history): no clock, no global
      random state, no I/O. Two nodes with the same replica and different ids may propose
      different points; the same node asked twice proposes the same ones.
    * It returns at most ``n`` points, none of them already in the history (pending trials
      included) nor repeated within the batch where the space is finite.
    * It returns fewer than ``n``, possibly none, when the space has no more to give;
      ``is_exhausted`` then says so and the experiment ends cleanly.
    * Configuration errors (a space the algorithm cannot search) raise
      :class:`~metaopt.errors.AlgorithmError` from ``configure``, before anything runs.
    """

    #: the name used by ``--algo``
    name: ClassVar[str] = ""

    def __init__(
        self,
        space: Space,
        *,
        seed: int = 0,
        node_id: str = "",
        options: dict[str, Any] | None = None,
    ) -> None:
        self.space = space
        self.seed = seed
        self.node_id = node_id
        self.options = dict(options or {})
        self.configure()

    def configure(self) -> None:
        """Reads ``self.options`` and prepares what ``suggest`` needs; raises AlgorithmError for
        a space or an option it cannot work with. Subclasses override this, not ``__init__``."""
        return None  # random search needs nothing

    @abc.abstractmethod
    def suggest(self, history: SearchHistory, n: int = 1) -> list[Params]:
        """Up to ``n`` new points."""

    def is_exhausted(self, history: SearchHistory) -> bool:
        """True when ``suggest`` can never propose another point: by default, when every point
        of a finite space has been proposed."""
        size = self.space.cardinality()
        return size is not None and len(history.seen()) >= size

    def rng(self, history: SearchHistory) -> random.Random:
        """A generator seeded by (seed, node id, history size): reproducible, no hidden state."""
        return random.Random(self.derived_seed(len(history.trials)))

    def numeric_options(self, defaults: dict[str, float]) -> dict[str, float]:
        """``defaults`` updated with the user's options, each checked: known, a number >= 0."""
        unknown = set(self.options) - set(defaults)
        if unknown:
            known = ", ".join(sorted(defaults))
            raise AlgorithmError(
                f"{self.name}: unknown option(s) {sorted(unknown)}: known are {known}"
            )
        settings = {**defaults, **self.options}
        for key, value in settings.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise AlgorithmError(
                    f"{self.name}: option {key} must be a number >= 0, got {value!r}"
                )
        return settings

    def derived_seed(self, *parts: object) -> int:
        """A 64-bit seed from (seed, node id, *parts): other nodes, other draws."""
        material = "\0".join(map(str, (self.seed, self.node_id, *parts))).encode()
        return int.from_bytes(hashlib.sha256(material).digest()[:8], "big")
