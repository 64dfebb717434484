"""The cluster key: 32 random bytes, written as hex in ``DATA_DIR/cluster.key`` at first start.

Nodes share a cluster by sharing this file (copy it, owner-only, to every node's data dir, or
point ``--key-file`` at one copy). Whoever holds it can join the cluster and submit commands that
every node will run: it is the cluster's trust boundary.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from pathlib import Path

from metaopt.errors import MetaoptError

_log = logging.getLogger("metaoptd")
KEY_BYTES = 32


def load_or_create(path: Path, create: bool = True) -> bytes:
    """The key in ``path``, made (owner-only) if there is none yet and ``create`` allows it
    (a key file named by the user is never made: a typo would start a cluster of one)."""
    if not path.exists() and not create:
        raise MetaoptError(
            f"{path}: no such cluster key file; copy cluster.key from a node of the cluster "
            "there, or leave out --key-file to make a new cluster"
        )
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_bytes(KEY_BYTES).hex() + "\n")
        _log.info("made a new cluster key in %s: copy it to the other nodes to join them", path)
    if path.stat().st_mode & 0o077:
        _log.warning("%s could be read by others; made it owner-only", path)
        path.chmod(0o600)
    text = path.read_text().strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise MetaoptError(
            f"{path}: not a cluster key (expected {2 * KEY_BYTES} hexadecimal characters); "
            "copy the file from a node of the cluster, or remove it to make a new cluster"
        )
    return key


def fingerprint(key: bytes) -> str:
    """A short public name of a key, to compare two nodes' keys without showing them."""
    return hashlib.sha256(b"metaopt cluster key\0" + key).hexdigest()[:12]
