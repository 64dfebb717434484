"""The dashboard's token: made at the first start with --http, readable by its owner only."""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path

TOKEN_NAME = "http.token"


def ensure(data_dir: Path) -> str:
    """The node's token, made (32 random bytes, URL-safe) when there is none yet."""
    path = data_dir / TOKEN_NAME
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return token


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
