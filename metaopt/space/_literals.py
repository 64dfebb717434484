"""Values in the prior language: how a bare word is read, and how a value is written back.

One place owns the lexical rules so that the parser and the canonical texts cannot drift apart:
whatever ``format_literal`` writes, ``word_value`` (or a quoted string) reads back unchanged.
"""

from __future__ import annotations

import math
import re
from typing import TypeAlias
from typing import TypeGuard

Value: TypeAlias = str | int | float | bool | None
"""A hyperparameter value: a number, a string, True, False or None."""

_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_KEYWORDS: dict[str, Value] = {"True": True, "False": False, "None": None}
# A string written without quotes must start with a letter so it never reads as a number.
_PLAIN_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.:/+\-]*")

WORD_BREAKS = frozenset("(),='\"")
"""Characters that end a bare word (besides whitespace)."""


def word_value(word: str) -> Value:
    """The value a bare word stands for: an int, a float, True/False/None, else the word itself.

    Raises:
        ValueError: the word is a number too large to represent.
    """
    if _INTEGER.fullmatch(word):
        return int(word)
    if _NUMBER.fullmatch(word):
        number = float(word)
        if not math.isfinite(number):
            raise ValueError(f"number out of range: {word}")
        return number
    return _KEYWORDS.get(word, word)


def is_literal(value: object) -> TypeGuard[Value]:
    """Whether ``value`` is a Value the prior language can write: finite numbers included."""
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, str | int | bool)


def is_real(value: object) -> TypeGuard[int | float]:
    """Whether ``value`` is a finite int or float (bool excluded)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def same_value(a: object, b: object) -> bool:
    """Value equality where 3 == 3.0 but True, 1, None and '1' are all different."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a is b
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return is_real(a) and is_real(b) and a == b


def format_literal(value: Value) -> str:
    """Canonical text of a value; strings are quoted only when a bare word would read otherwise."""
    if isinstance(value, str):
        plain = _PLAIN_WORD.fullmatch(value) is not None and value not in _KEYWORDS
        return value if plain else repr(value)
    if isinstance(value, float):
        return repr(value + 0.0)  # + 0.0 turns -0.0 into 0.0
    return repr(value)


def format_real(value: float) -> str:
    """Canonical text of a bound of a real prior: ``1e-05``, ``0.5``, and ``3`` for 3.0."""
    text = repr(float(value) + 0.0)
    return text.removesuffix(".0")


def format_arg(value: object) -> str:
    """A value as one command-line argument: ints as ints, floats by repr, strings as they are."""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return repr(value)
    return str(value)
