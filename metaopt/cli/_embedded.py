"""The daemon ``metaopt`` starts for itself when none runs: a child process, not an import.

It runs ``python -m metaoptd --embedded`` in its own session (so Ctrl-C reaches only us, and
we decide how to stop it) with a pipe on its stdin: if this process dies, the pipe closes and
the daemon interrupts its trials and exits instead of running on unattended.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from metaopt import _paths
from metaopt._control import Client
from metaopt.errors import DaemonUnavailable

EXIT_ALREADY_RUNNING = 3  # metaoptd's exit code when another daemon holds the data dir


class EmbeddedDaemon:
    def __init__(self, directory: Path, flags: list[str]) -> None:
        self.directory = directory
        self.client = Client(_paths.socket_path(directory))
        _paths.ensure_data_dir(directory)
        self.log = _paths.log_path(directory)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "metaoptd",
                    "--embedded",
                    "--data-dir",
                    str(directory),
                    *flags,
                ],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=log,
                # `-m` puts the working directory first on sys.path: run from the data dir so a
                # source checkout in the user's directory cannot shadow the installed package.
                cwd=directory,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """True once it answers; False when it exited because another daemon owns the directory."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.proc.poll()
            if code == EXIT_ALREADY_RUNNING:
                return False
            if code is not None:
                raise DaemonUnavailable(f"metaoptd exited with code {code}:\n{self.log_tail()}")
            if self.client.is_alive():
                return True
            time.sleep(0.02)
        self.proc.kill()
        raise DaemonUnavailable(
            f"metaoptd did not start within {timeout:.0f} s:\n{self.log_tail()}"
        )

    def interrupt(self) -> None:
        """Interrupt running trials (they are requeued) and wait for the daemon to exit."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        self.wait()

    def finish(self) -> None:
        """Let the daemon exit once it has nothing left to run."""
        try:
            self.client.call("shutdown", when_idle=True)
        except DaemonUnavailable:
            pass
        self.wait()

    def wait(self) -> int:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        return self.proc.wait()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
