"""metaoptd's settings: defaults, then ``DATA_DIR/metaoptd.toml``, then command-line flags."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

from metaopt.errors import MetaoptError
from metaopt.storage import BACKENDS

CONFIG_NAME = "metaoptd.toml"
KEY_NAME = "cluster.key"
DEFAULT_PORT = 7950


@dataclasses.dataclass(frozen=True)
class Settings:
    data_dir: Path
    storage: str = "leveldb"
    slots: int = 1  # CPU slots when no GPU is found
    trials_per_gpu: int = 1
    grace_period: float = 10.0  # seconds between SIGTERM and SIGKILL for a trial
    report_interval: float = 0.5  # seconds between reads of the trials' reports
    frozen_limit_mb: float = 20_000.0  # checkpoints of frozen trials this node keeps, in MB
    copy_interval: float = 30.0  # seconds between copies of a running trial's checkpoint; 0: never
    shared_dir: Path | None = None  # a folder every node mounts: checkpoint copies go there
    embedded: bool = False  # started by `metaopt` for one run: exit when stdin closes
    http: str | None = None  # [ADDR:]PORT of the dashboard's API; None: not served
    log_level: str = "info"
    # The cluster (an embedded daemon has none: it runs one experiment for its `metaopt`).
    bind: str = "0.0.0.0"  # the address the gossip port listens on; all interfaces by default
    port: int = DEFAULT_PORT  # UDP and TCP
    transfer_port: int | None = None  # TCP, for checkpoints; None: port + 1 (any when port is 0)
    advertise: str | None = None  # the address others reach this node at; found when None
    join: tuple[str, ...] = ()  # HOST:PORT of nodes to join (seeds)
    key_file: Path | None = None  # default DATA_DIR/cluster.key
    zeroconf: bool = True  # find the other nodes on the LAN (mDNS)
    settle: float = 15.0  # seconds a node with peers waits, after its start, before it acts

    @property
    def cluster(self) -> bool:
        return not self.embedded

    @property
    def checkpoint_port(self) -> int:
        if self.transfer_port is not None:
            return self.transfer_port
        return self.port + 1 if self.port else 0

    @property
    def http_address(self) -> tuple[str, int] | None:
        """(host, port) of the dashboard, loopback unless an address is given."""
        if self.http is None:
            return None
        host, _, port = str(self.http).rpartition(":")
        return (host.strip("[]") or "127.0.0.1", int(port))

    @property
    def cluster_key_path(self) -> Path:
        return self.key_file or self.data_dir / KEY_NAME


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
    if "join" in values:
        join = values["join"]
        seeds = [join] if isinstance(join, str) else list(join)
        values["join"] = tuple(seed if ":" in seed else f"{seed}:{DEFAULT_PORT}" for seed in seeds)
    for name in ("key_file", "shared_dir"):
        if values.get(name) is not None:
            values[name] = Path(values[name]).expanduser()
    settings = Settings(data_dir=data_dir, **values)
    for seed in settings.join:
        _check_address(seed)
    if not 0 <= settings.port <= 65535:
        raise MetaoptError(f"port must be in 0..65535, got {settings.port}")
    if not 0 <= settings.checkpoint_port <= 65535:
        raise MetaoptError(f"transfer_port must be in 0..65535, got {settings.checkpoint_port}")
    if settings.http is not None:
        _check_http(str(settings.http))
    if settings.copy_interval < 0:
        raise MetaoptError(f"copy_interval must be >= 0, got {settings.copy_interval}")
    if settings.storage not in BACKENDS:
        raise MetaoptError(
            f"storage must be one of {', '.join(BACKENDS)}, got {settings.storage!r}"
        )
    if settings.frozen_limit_mb < 0:
        raise MetaoptError(f"frozen_limit_mb must be >= 0, got {settings.frozen_limit_mb}")
    if settings.slots < 1 or settings.trials_per_gpu < 1:
        raise MetaoptError("slots and trials_per_gpu must be at least 1")
    return settings


def _check_address(address: str) -> None:
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) <= 65535:
        raise MetaoptError(f"--join {address!r}: expected HOST:PORT, e.g. gpu2.lab:{DEFAULT_PORT}")


def _check_http(address: str) -> None:
    _, _, port = address.rpartition(":")
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise MetaoptError(f"--http {address!r}: expected [ADDR:]PORT, e.g. 8080 or 0.0.0.0:8080")
