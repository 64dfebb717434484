"""A fixed list of configurations (custom search), run in the order given."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from metaopt.algo._base import BaseAlgorithm
from metaopt.algo._base import Params
from metaopt.algo._base import SearchHistory
from metaopt.algo._grid import unseen_in_order
from metaopt.errors import AlgorithmError
from metaopt.errors import SpaceError
from metaopt.space import params_key


class ListAlgorithm(BaseAlgorithm):
    """Runs ``options["configs"]``: a list of parameter dicts, each validated against the space."""

    name = "list"

    def configure(self) -> None:
        configs = self.options.get("configs")
        if not isinstance(configs, list) or not configs:
            raise AlgorithmError("the list algorithm needs configurations: --configs FILE")
        for i, params in enumerate(configs):
            try:
                self.space.validate(params)
            except SpaceError as exc:
                raise AlgorithmError(f"configuration {i + 1}: {exc}") from exc
        self.configs: list[Params] = configs

    def suggest(self, history: SearchHistory, n: int = 1) -> list[Params]:
        return unseen_in_order(lambda: self.configs, history, n)

    def is_exhausted(self, history: SearchHistory) -> bool:
        seen = history.seen()
        return all(params_key(p) in seen for p in self.configs)


def load_configs(path: str | Path) -> list[Params]:
    """Read configurations from JSON (a list of objects), JSON lines, or CSV with a header."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise AlgorithmError(f"cannot read configurations from {path}: {exc}") from exc
    if path.suffix == ".csv":
        return [_typed_row(row) for row in csv.DictReader(text.splitlines())]
    try:
        if text.lstrip().startswith("["):
            configs = json.loads(text)
        else:
            configs = [json.loads(line) for line in text.splitlines() if line.strip()]
    except json.JSONDecodeError as exc:
        raise AlgorithmError(f"{path}: not JSON or JSON lines ({exc})") from exc
    if not all(isinstance(c, dict) for c in configs):
        raise AlgorithmError(f"{path}: every configuration must be an object of parameter values")
    return list(configs)


def _typed_row(row: dict[str, str]) -> Params:
    """CSV cells are text: read numbers as numbers so they match numeric priors."""
    out: Params = {}
    for name, cell in row.items():
        try:
            out[name] = json.loads(cell)
        except json.JSONDecodeError:
            out[name] = cell
    return out
