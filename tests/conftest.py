"""Shared fixtures: real daemons in temporary data directories, cleaned up after each test."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import pytest

from metaopt.errors import DaemonUnavailable
from tests.helpers import DaemonProcess

# Daemons and trials started by the tests import this checkout, whatever else is installed.
_ROOT = Path(__file__).resolve().parent.parent
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(_ROOT), str(_ROOT / "daemon"), *filter(None, [os.environ.get("PYTHONPATH")])]
)


@pytest.fixture
def start_daemon(tmp_path: Path) -> Iterator[Callable[..., DaemonProcess]]:
    started: list[DaemonProcess] = []

    def start(
        *flags: str, data_dir: Path | None = None, env: dict[str, str] | None = None
    ) -> DaemonProcess:
        daemon = DaemonProcess(data_dir or tmp_path / "node", *flags, env=env)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        with contextlib.suppress(DaemonUnavailable, ProcessLookupError):
            daemon.stop()
        _kill_leftover_trials(daemon.data_dir)


def _kill_leftover_trials(data_dir: Path) -> None:
    """Tests that kill -9 a daemon leave trial sessions behind: end them."""
    for path in data_dir.glob("trials/*/*/supervisor.json"):
        with contextlib.suppress(ValueError, OSError, KeyError):
            os.killpg(json.loads(path.read_text())["pid"], signal.SIGKILL)
