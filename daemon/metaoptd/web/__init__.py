"""The dashboard: a web page (``pages``, files in ``static/``) over a JSON API described by
OpenAPI (``api``, ``openapi``), served by the daemon with ``--http`` (``http``), or read-only
from the store files by ``metaopt dashboard`` when no daemon runs (``offline``).

Off by default and bound to loopback unless told otherwise. Every write, and beyond loopback
every request, needs the node's token (``token.ensure``: made at the first start, owner-only).
"""
