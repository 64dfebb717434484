"""The version of the record format, written into every record's value as ``"v"``.

A node keeps every record it receives, readable or not, and passes it on: that is what keeps
nodes of two versions from diverging. What it cannot read (a newer format, a status it does not
know) it leaves out of its view and says so once in its log.
"""

from __future__ import annotations

from typing import Any

FORMAT = 1  # what this code writes; records without "v" come from before versions existed


class Unreadable(ValueError):
    """A record this version of metaopt cannot interpret; the message says why, in words."""


def check_format(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise Unreadable(f"{what}: not a JSON object")
    version = body.get("v", 0)
    if not isinstance(version, int) or version > FORMAT:
        raise Unreadable(f"{what} in record format {version}, newer than this node's {FORMAT}")
    return body
