"""The library's logger: silent until the application configures logging, as libraries should."""

from __future__ import annotations

import logging

logger = logging.getLogger("metaopt")
logger.addHandler(logging.NullHandler())
