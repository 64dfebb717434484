"""The user's command line: which flags are searched, and how a trial's command is rendered.

``metaopt train.py --lr~'loguniform(1e-5, 1e-1)' --batch=32 data/`` declares one searched
parameter, ``lr``; ``--batch=32`` and ``data/`` pass through unchanged and in place. A trial with
``lr=0.003`` runs ``train.py --lr=0.003 --batch=32 data/``, so an argparse script needs no change.

An argument declares a parameter when it starts with one or two dashes and holds a ``~`` with no
``=`` or whitespace before it. ``--out=~/runs`` and ``~/runs`` therefore pass through.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from collections.abc import Mapping

from metaopt.errors import SpaceError
from metaopt.space._literals import format_arg
from metaopt.space._parse import parse_prior
from metaopt.space._space import Space

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")


@dataclasses.dataclass(frozen=True, slots=True)
class _Declaration:
    """``--lr~loguniform(1e-5, 1e-1)``: flag ``--lr``, name ``lr``, prior text after the ``~``."""

    flag: str
    name: str
    prior: str


@dataclasses.dataclass(frozen=True, slots=True)
class CommandTemplate:
    """A command with its searched flags marked, ready to render one trial's arguments.

    Attributes:
        args: the command's arguments exactly as the user gave them; JSON-able via ``to_list``.

    Raises:
        SpaceError: when built, for a malformed or repeated parameter name, or a searched flag
            that is also passed as a plain argument.
    """

    args: tuple[str, ...]
    _declarations: tuple[_Declaration | None, ...] = dataclasses.field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        args = tuple(self.args)
        declarations = tuple(_declaration(arg) for arg in args)
        _check_declarations(args, declarations)
        object.__setattr__(self, "args", args)
        object.__setattr__(self, "_declarations", declarations)

    @property
    def names(self) -> tuple[str, ...]:
        """The searched parameter names, in command order."""
        return tuple(d.name for d in self._declarations if d is not None)

    def render(self, params: Mapping[str, object]) -> list[str]:
        """The trial's arguments: each searched flag becomes ``--name=value`` (``-n value``).

        Raises:
            SpaceError: ``params`` lacks a searched name or holds one the command does not have.
        """
        _check_params(self, params)
        rendered: list[str] = []
        for arg, declaration in zip(self.args, self._declarations, strict=True):
            if declaration is None:
                rendered.append(arg)
                continue
            value = format_arg(params[declaration.name])
            if declaration.flag.startswith("--"):
                rendered.append(f"{declaration.flag}={value}")
            else:
                rendered.extend((declaration.flag, value))
        return rendered

    def to_list(self) -> list[str]:
        """The original arguments, for storage; ``from_list`` reads them back."""
        return list(self.args)

    @classmethod
    def from_list(cls, args: Iterable[str]) -> CommandTemplate:
        """The template of a stored ``to_list()``."""
        return cls(tuple(args))


def parse_command(args: Iterable[str]) -> tuple[CommandTemplate, Space]:
    """Split a command into its template and the space its ``~`` flags declare.

    Args:
        args: the script and its arguments after the shell, e.g.
            ``["train.py", "--lr~uniform(0, 1)", "--batch=32"]``.

    Returns:
        The template, and the space in command order; ``--seed~3`` declares a constant.

    Raises:
        SpaceError: a malformed prior (``flag`` is the flag as written, ``position`` the column in
            the prior text), a repeated parameter, or a searched flag also passed plainly.

    Example:
        >>> template, space = parse_command(["train.py", "--lr~uniform(0, 1)", "--batch=32"])
        >>> template.render({"lr": 0.5})
        ['train.py', '--lr=0.5', '--batch=32']
    """
    template = CommandTemplate(tuple(args))
    declarations = [d for d in template._declarations if d is not None]
    return template, Space((d.name, parse_prior(d.prior, flag=d.flag)) for d in declarations)


def _declaration(arg: str) -> _Declaration | None:
    """The declaration an argument makes, or None when it passes through."""
    head, tilde, prior = arg.partition("~")
    if not tilde or not head.startswith("-") or "=" in head or any(c.isspace() for c in head):
        return None
    name = head.lstrip("-")
    if len(head) - len(name) > 2 or not _NAME.fullmatch(name):
        raise SpaceError(
            "a searched flag is -n~PRIOR or --name~PRIOR, with a name of letters, digits, '_', "
            "'-' or '.'",
            flag=head,
            text=arg,
            position=0,
        )
    return _Declaration(head, name, prior)


def _check_declarations(
    args: tuple[str, ...], declarations: tuple[_Declaration | None, ...]
) -> None:
    """Refuse a name declared twice, and a searched flag that is also passed as a plain one."""
    seen: set[str] = set()
    flags = {d.flag for d in declarations if d is not None}
    for arg, declaration in zip(args, declarations, strict=True):
        if declaration is None:
            flag = arg.partition("=")[0]
            if flag in flags:
                raise SpaceError(f"searched, but also passed as {arg!r}", flag=flag)
            continue
        if declaration.name in seen:
            raise SpaceError(
                f"parameter {declaration.name!r} is declared twice", flag=declaration.flag
            )
        seen.add(declaration.name)


def _check_params(template: CommandTemplate, params: Mapping[str, object]) -> None:
    names = template.names
    for name in names:
        if name not in params:
            raise SpaceError("no value given for this parameter", flag=name)
    for name in params:
        if name not in names:
            raise SpaceError(f"not a parameter of this command ({', '.join(names)})", flag=name)
