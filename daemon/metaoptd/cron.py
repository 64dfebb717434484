"""``metaoptd install-cron``: an ``@reboot`` crontab line so the node comes back after a reboot."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

MARKER = "# metaoptd"


def line(directory: Path) -> str:
    exe = shutil.which("metaoptd") or f"{sys.executable} -m metaoptd"
    return f"@reboot {exe} --detach --data-dir {shlex.quote(str(directory))} {MARKER}"


def install(directory: Path, only_print: bool = False) -> int:
    entry = line(directory)
    if only_print:
        print(entry)
        return 0
    if shutil.which("crontab") is None:
        print(
            "metaoptd: no crontab command on this machine; add this line to your scheduler:",
            file=sys.stderr,
        )
        print(entry)
        return 1
    current = subprocess.run(["crontab", "-l"], capture_output=True, text=True, check=False)
    kept = (
        [ln for ln in current.stdout.splitlines() if not ln.endswith(MARKER)]
        if current.returncode == 0
        else []
    )
    new = "\n".join([*kept, entry]) + "\n"
    subprocess.run(["crontab", "-"], input=new, text=True, check=True)
    print(f"installed: {entry}")
    return 0
