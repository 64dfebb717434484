"""The dashboard's page and its assets, read once from the installed package.

Only the files named in ``ASSETS`` are ever served: a request names an asset, never a path, so
no request reaches a file outside them. The page loads nothing from elsewhere (no CDN): it
works offline, and its Content-Security-Policy lets it load nothing else.
"""

from __future__ import annotations

from importlib import resources

from metaoptd.web.http import HttpError
from metaoptd.web.http import Response

ASSETS = {
    "index.html": "text/html; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
}
_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)


class Pages:
    def __init__(self) -> None:
        folder = resources.files("metaoptd.web") / "static"
        self._bodies = {name: (folder / name).read_bytes() for name in ASSETS}

    def serve(self, segments: list[str]) -> Response:
        """``/`` is the page; ``/static/NAME`` one of its assets."""
        if not segments:
            name = "index.html"
        elif len(segments) == 2 and segments[0] == "static" and segments[1] in ASSETS:
            name = segments[1]
        else:
            raise HttpError(404, f"no such page: /{'/'.join(segments)}")
        headers = (("Content-Security-Policy", _POLICY), ("Referrer-Policy", "no-referrer"))
        return Response(200, self._bodies[name], ASSETS[name], headers)
