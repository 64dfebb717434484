"""metaoptd's settings: defaults, then ``DATA_DIR/metaoptd.toml``, then command-line flags."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

from metaopt.errors import MetaoptError
from metaopt.storage import BACKENDS

CONFIG_NAME = "metaoptd.toml"


@dataclasses.dataclass(frozen=True)
class Settings:
    data_dir: Path
    storage: str = "leveldb"
    slots: int = 1  # CPU slots when no GPU is found
    trials_per_gpu: int = 1
    grace_period: float = 10.0  # seconds between SIGTERM and SIGKILL for a trial
    report_interval: float = 0.5  # seconds between reads of the trials' reports
    embedded: bool = False  # started by `metaopt` for one run: exit when stdin closes
    log_level: str = "info"


def load(data_dir: Path, overrides: dict[str, Any]) -> Settings:
    """Settings for ``data_dir``; ``overrides`` holds the flags the user gave (None: not given)."""
    values: dict[str, Any] = {}
    path = data_dir / CONFIG_NAME
    if path.exists():
        try:
            values.update(tomllib.loads(path.read_text()))
        except (tomllib.TOMLDecodeError, OSError) as exc:
            raise MetaoptError(f"{path}: {exc}") from exc
    values.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name for f in dataclasses.fields(Settings)} - {"data_dir"}
    unknown = sorted(set(values) - known)
    if unknown:
        raise MetaoptError(
            f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    settings = Settings(data_dir=data_dir, **values)
    if settings.storage not in BACKENDS:
        raise MetaoptError(
            f"storage must be one of {', '.join(BACKENDS)}, got {settings.storage!r}"
        )
    if settings.slots < 1 or settings.trials_per_gpu < 1:
        raise MetaoptError("slots and trials_per_gpu must be at least 1")
    return settings
