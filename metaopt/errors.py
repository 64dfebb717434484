"""Exceptions raised by metaopt. Every one derives from :class:`MetaoptError`."""

from __future__ import annotations


class MetaoptError(Exception):
    """Base class of every error metaopt raises on purpose."""


class SpaceError(MetaoptError, ValueError):
    """A prior or search space is malformed; the message names the flag, the text and the spot.

    Attributes:
        flag: the command-line flag or parameter name the prior belongs to (may be empty).
        text: the prior text as the user wrote it.
        position: 0-based column in ``text`` where the problem was found, or None.
        reason: what is wrong, in words.
    """

    def __init__(
        self, reason: str, *, flag: str = "", text: str = "", position: int | None = None
    ) -> None:
        self.flag = flag
        self.text = text
        self.position = position
        self.reason = reason
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"{self.flag}: " if self.flag else ""
        if not self.text:
            return f"{where}{self.reason}"
        lines = [f"{where}{self.reason}", f"    {self.text}"]
        if self.position is not None:
            lines.append("    " + " " * self.position + "^")
        return "\n".join(lines)


class StorageError(MetaoptError):
    """The store cannot be opened, read or written."""


class CorruptRecord(StorageError):
    """A stored record fails to decode; the store keeps it aside rather than guess."""


class ExperimentConflict(MetaoptError):
    """An experiment of this name exists with a different definition."""


class AlgorithmError(MetaoptError):
    """The algorithm cannot work with this space or configuration."""


class SpaceExhausted(MetaoptError):
    """Every point of a finite search space was proposed already."""


class DaemonUnavailable(MetaoptError):
    """No metaoptd answers on the control socket."""


class ControlError(MetaoptError):
    """The daemon answered a control request with an error."""
