"""An exclusive, non-blocking lock on a file, released when the process dies."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from metaopt.errors import StorageError


class FileLock:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            self._fd = None
            raise StorageError(
                f"{self.path} is locked: another process has this store open"
            ) from None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
