"""The dashboard: a JSON API described by OpenAPI, served by the daemon with ``--http``.

Off by default and bound to loopback unless told otherwise. Every write, and beyond loopback
every request, needs the node's token (``token.ensure``: made at the first start, owner-only).
"""
