"""The two ways a trial reports metrics, and how both are read back.

1. Python scripts call ``metaopt.report(step, **metrics)``, which appends one JSON line
   ``{"step": 3, "metrics": {"loss": 0.25}}`` to ``$METAOPT_TRIAL_DIR/metrics.jsonl``.
2. Any other program prints a line to stdout::

       metaopt: step=3 loss=0.25 accuracy=0.91

   ``step`` is optional (each line without it is the next step). Values are numbers; ``nan`` and
   ``inf`` are accepted.

Both land in files inside the trial's folder, so a daemon that restarts reads them again from
the start and loses nothing; a step reported twice keeps its last values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

METRICS_FILE = "metrics.jsonl"
STDOUT_FILE = "stdout.log"
STDERR_FILE = "stderr.log"
STDOUT_PREFIX = "metaopt:"
# The daemon's word to a trial that early stopping pauses: this file appears in its folder.
# ``report`` then returns False; a script in any language may test for the file itself.
STOP_FILE = "stop"
# The exit code of a trial that saved its checkpoint and stopped when asked (EX_TEMPFAIL).
FROZEN_EXIT = 75

Report = tuple[int, dict[str, float]]


def encode_report(step: int, metrics: dict[str, float]) -> str:
    return json.dumps({"step": step, "metrics": metrics}, separators=(",", ":")) + "\n"


def parse_metrics_line(line: str) -> Report | None:
    """One line of metrics.jsonl; None for a torn or malformed line."""
    try:
        body = json.loads(line)
        step = int(body["step"])
        metrics = {str(k): float(v) for k, v in body["metrics"].items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return step, metrics


def parse_stdout_line(line: str, next_step: int) -> Report | None:
    """A ``metaopt: key=value ...`` line printed by the trial; None for any other line."""
    if not line.startswith(STDOUT_PREFIX):
        return None
    step, metrics = next_step, {}
    for field in line[len(STDOUT_PREFIX) :].split():
        name, sep, text = field.partition("=")
        if not sep:
            return None
        try:
            value = float(text)
        except ValueError:
            return None
        if name == "step":
            if not value.is_integer():
                return None
            step = int(value)
        else:
            metrics[name] = value
    return (step, metrics) if metrics else None


def check_metrics(metrics: Mapping[str, object]) -> dict[str, float]:
    """Metrics as floats; a value that is not a number is the caller's mistake."""
    out = {}
    for name, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            try:
                value = float(value)  # type: ignore[arg-type]  # numpy and torch scalars
            except (TypeError, ValueError):
                raise TypeError(
                    f"metaopt.report: metric {name!r} must be a number, got {value!r}"
                ) from None
        out[name] = float(value)
    return out
