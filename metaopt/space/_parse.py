"""The prior parser: ``loguniform(1e-5, 1e-1)`` -> ``LogUniformPrior(1e-05, 0.1)``.

A hand-written tokenizer and recursive-descent parser, so that every error points at a column.
The grammar is small::

    text     := call | value
    call     := NAME "(" [argument ("," argument)* [","]] ")"
    argument := [NAME "="] value
    value    := number | 'quoted string' | "quoted string" | True | False | None | bare-word

A bare word that is not a number or True/False/None is a string, so ``choice(adam, sgd)`` needs
no quotes; inside quotes a backslash escapes the next character.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable
from typing import NoReturn

from metaopt.errors import SpaceError
from metaopt.space._base import ArgumentError
from metaopt.space._base import Prior
from metaopt.space._literals import WORD_BREAKS
from metaopt.space._literals import Value
from metaopt.space._literals import word_value
from metaopt.space._priors import PRIORS
from metaopt.space._priors import ConstantPrior

_VALUE_KINDS = ("word", "string")


@dataclasses.dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "word", "string", "(", ")", ",", "=" or "end"
    text: str
    position: int
    value: Value = None


@dataclasses.dataclass(frozen=True, slots=True)
class _Argument:
    keyword: _Token | None
    value: _Token


def parse_prior(text: str, flag: str = "") -> Prior:
    """Parse one prior, e.g. ``loguniform(1e-5, 1e-1)``, or a constant such as ``3`` or ``adam``.

    Args:
        text: the prior as the user wrote it (what follows ``~`` in ``--lr~...``).
        flag: the flag or parameter it belongs to, shown in error messages.

    Returns:
        The prior; a bare value gives a ``ConstantPrior``.

    Raises:
        SpaceError: the text is not a valid prior; ``position`` is the offending column.

    Example:
        >>> parse_prior("loguniform(1e-5, 1e-1)").text()
        'loguniform(1e-05, 0.1)'
    """
    return _Parser(text, flag).prior()


def signature(cls: type[Prior]) -> str:
    """How a prior is called, for messages: ``fidelity(low, high, base=2)``."""
    if cls.VARIADIC:
        return f"{cls.NAME}(value, ...)"
    params = [
        field.name if field.default is dataclasses.MISSING else f"{field.name}={field.default}"
        for field in _fields(cls)
    ]
    return f"{cls.NAME}({', '.join(params)})"


class _Parser:
    """One parse of one text; ``fail`` raises a SpaceError pointing into it."""

    def __init__(self, text: str, flag: str) -> None:
        self.text = text
        self.flag = flag
        self.tokens = _Tokenizer(self).tokens()
        self.index = 0

    def fail(self, reason: str, position: int) -> NoReturn:
        raise SpaceError(reason, flag=self.flag, text=self.text, position=position)

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def next(self) -> _Token:
        token = self.tokens[self.index]
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def prior(self) -> Prior:
        first, second = self.tokens[0], self.tokens[min(1, len(self.tokens) - 1)]
        if first.kind == "end":
            self.fail("empty prior: expected a value or a call such as uniform(0, 1)", 0)
        if first.kind == "word" and second.kind == "(":
            return self.call()
        if first.kind not in _VALUE_KINDS:
            self.fail(
                f"unexpected {first.text!r}: expected a prior name or a value", first.position
            )
        if second.kind != "end":
            self.fail(
                f"unexpected {second.text!r}: a constant is one value, a prior is name(...)",
                second.position,
            )
        return self.constant(first)

    def constant(self, token: _Token) -> ConstantPrior:
        if token.kind == "word" and isinstance(token.value, str) and token.value in PRIORS:
            cls = PRIORS[token.value]
            self.fail(
                f"{cls.NAME} needs arguments: {signature(cls)}", token.position + len(token.text)
            )
        return ConstantPrior(token.value)

    def call(self) -> Prior:
        name, opening = self.next(), self.next()
        cls = PRIORS.get(name.text)
        if cls is None:
            self.fail(_unknown(name.text), name.position)
        arguments = self.arguments(opening)
        closing = self.tokens[self.index - 1]
        trailing = self.next()
        if trailing.kind == ")":
            self.fail("unbalanced parenthesis: unexpected ')'", trailing.position)
        if trailing.kind != "end":
            self.fail("unexpected text after ')'", trailing.position)
        return self.build(cls, arguments, closing)

    def arguments(self, opening: _Token) -> list[_Argument]:
        arguments: list[_Argument] = []
        while self.peek().kind != ")":
            arguments.append(self.argument(opening))
            separator = self.peek()
            if separator.kind == ",":
                self.next()
            elif separator.kind == "end":
                self.fail("unbalanced parenthesis: '(' is never closed", opening.position)
            elif separator.kind != ")":
                self.fail(f"expected ',' or ')' before {separator.text!r}", separator.position)
        self.next()
        return arguments

    def argument(self, opening: _Token) -> _Argument:
        token = self.next()
        keyword = None
        if token.kind == "word" and self.peek().kind == "=":
            keyword = token
            self.next()
            token = self.next()
        if token.kind in _VALUE_KINDS:
            return _Argument(keyword, token)
        if token.kind == "end":
            self.fail("unbalanced parenthesis: '(' is never closed", opening.position)
        if keyword is not None:
            self.fail(f"missing value for {keyword.text}", token.position)
        if token.kind in (",", ")"):
            self.fail("missing argument", token.position)
        self.fail(f"unexpected {token.text!r}: arguments are plain values", token.position)

    def build(self, cls: type[Prior], arguments: list[_Argument], closing: _Token) -> Prior:
        """Call the prior's constructor; its complaints point at the argument they are about."""
        if cls.VARIADIC:
            slots = self.variadic(cls, arguments)
        else:
            slots = self.bind(cls, arguments, closing)
        factory: Callable[..., Prior] = cls
        try:
            if cls.VARIADIC:
                return factory(tuple(slot.value.value for slot in slots if slot is not None))
            return factory(
                **{
                    field.name: slot.value.value
                    for field, slot in zip(_fields(cls), slots, strict=True)
                    if slot is not None
                }
            )
        except ArgumentError as exc:
            slot = slots[exc.index] if exc.index < len(slots) else None
            self.fail(exc.reason, closing.position if slot is None else slot.value.position)

    def variadic(self, cls: type[Prior], arguments: list[_Argument]) -> list[_Argument | None]:
        for argument in arguments:
            if argument.keyword is not None:
                self.fail(f"{cls.NAME} takes no keyword arguments", argument.keyword.position)
        return list(arguments)

    def bind(
        self, cls: type[Prior], arguments: list[_Argument], closing: _Token
    ) -> list[_Argument | None]:
        """The argument given for each parameter, in parameter order; None where defaulted."""
        names = [field.name for field in _fields(cls)]
        bound: dict[str, _Argument] = {}
        for place, argument in enumerate(arguments):
            bound[self.parameter(cls, names, place, argument, bound)] = argument
        for field in _fields(cls):
            if field.name not in bound and field.default is dataclasses.MISSING:
                self.fail(f"missing argument {field.name}: {signature(cls)}", closing.position)
        return [bound.get(name) for name in names]

    def parameter(
        self,
        cls: type[Prior],
        names: list[str],
        place: int,
        argument: _Argument,
        bound: dict[str, _Argument],
    ) -> str:
        """The parameter one argument binds to, by keyword or by place."""
        if argument.keyword is None:
            if any(arg.keyword is not None for arg in bound.values()):
                self.fail("positional argument after a keyword argument", argument.value.position)
            if place >= len(names):
                self.fail(f"too many arguments: {signature(cls)}", argument.value.position)
            return names[place]
        name = argument.keyword.text
        if name not in names:
            self.fail(f"unknown argument {name!r}: {signature(cls)}", argument.keyword.position)
        if name in bound:
            self.fail(f"argument {name} given twice", argument.keyword.position)
        return name


class _Tokenizer:
    """Splits a prior text into tokens that remember their column."""

    def __init__(self, parser: _Parser) -> None:
        self.parser = parser
        self.text = parser.text

    def tokens(self) -> list[_Token]:
        tokens: list[_Token] = []
        position = 0
        while position < len(self.text):
            char = self.text[position]
            if char.isspace():
                position += 1
                continue
            if char in "(),=":
                token = _Token(char, char, position)
            elif char in "'\"":
                token = self.string(position)
            else:
                token = self.word(position)
            tokens.append(token)
            position += len(token.text)
        tokens.append(_Token("end", "", len(self.text)))
        return tokens

    def string(self, start: int) -> _Token:
        quote, position = self.text[start], start + 1
        chars: list[str] = []
        while position < len(self.text):
            char = self.text[position]
            if char == quote:
                return _Token("string", self.text[start : position + 1], start, "".join(chars))
            if char == "\\" and position + 1 < len(self.text):
                position += 1
                char = self.text[position]
            chars.append(char)
            position += 1
        self.parser.fail("unterminated string", start)

    def word(self, start: int) -> _Token:
        end = start
        while end < len(self.text):
            char = self.text[end]
            if char.isspace() or char in WORD_BREAKS:
                break
            end += 1
        text = self.text[start:end]
        try:
            return _Token("word", text, start, word_value(text))
        except ValueError as exc:
            self.parser.fail(str(exc), start)


def _fields(cls: type[Prior]) -> list[dataclasses.Field[object]]:
    """The constructor parameters of a prior class, in order."""
    return [field for field in dataclasses.fields(cls) if field.init]  # type: ignore[arg-type]


def _unknown(name: str) -> str:
    """The message for an unknown prior name, with the closest known name if one is close."""
    close = difflib.get_close_matches(name, PRIORS, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown prior {name!r}{hint}; known priors: {', '.join(PRIORS)}"
