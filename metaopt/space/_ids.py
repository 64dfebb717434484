"""Identity of a point: the canonical key of a parameter dict, and the trial id derived from it.

Every node computes the same id for the same point of the same experiment, which is how two nodes
that propose the same grid point find out that they did (DESIGN: claiming).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping


def params_key(params: Mapping[str, object]) -> str:
    """Canonical JSON of a point: sorted keys, no spaces, floats by ``repr``.

    The key is independent of dict order; 3 and 3.0 give different keys, as they are different
    values to the trial script.

    Raises:
        ValueError: a value is NaN or infinite.
        TypeError: a value is not JSON-able.

    Example:
        >>> params_key({"lr": 0.1, "layers": 3})
        '{"layers":3,"lr":0.1}'
    """
    return json.dumps(dict(params), sort_keys=True, separators=(",", ":"), allow_nan=False)


def trial_id(experiment: str, params: Mapping[str, object]) -> str:
    """The trial id of ``params`` in ``experiment``: 16 hex digits of a SHA-256.

    The digest covers ``experiment + "\\0" + params_key(params)``.
    """
    material = f"{experiment}\0{params_key(params)}".encode()
    return hashlib.sha256(material).hexdigest()[:16]
