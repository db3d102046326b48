"""meetbot's own pages: what it is (`/`), its privacy notice and terms (linked from the Teams
app manifest), and the style and script the link pages load."""

from __future__ import annotations

import functools
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from adapters.edge.page_headers import page_headers
from adapters.pages.html import templates
from bot.urls import HOME_PATH, PRIVACY_PATH, TERMS_PATH

_HERE = Path(__file__).parent
_STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
# Read once: the set is fixed, so no path a visitor sends ever reaches the file system.
_STATIC = {
    f"/static/{path.name}": (path.read_bytes(), _STATIC_TYPES[path.suffix])
    for path in sorted((_HERE / "static").iterdir())
    if path.suffix in _STATIC_TYPES
}
_CACHE_AN_HOUR = {"Cache-Control": "public, max-age=3600"}


@functools.cache
def _rendered(template: str) -> str:
    """Rendered once, on the first visit: the pages take no parameters."""
    return templates().get_template(template).render()


def _site_page(path: str, template: str) -> Route:
    async def page(_request: Request) -> Response:
        return HTMLResponse(_rendered(template), headers=page_headers(_CACHE_AN_HOUR))

    return Route(path, page, methods=["GET"])


def _static_file(path: str, body: bytes, media_type: str) -> Route:
    async def static(_request: Request) -> Response:
        return Response(body, media_type=media_type, headers=page_headers(_CACHE_AN_HOUR))

    return Route(path, static, methods=["GET"])


def site_routes() -> list[Route]:
    pages = [
        _site_page(HOME_PATH, "home.html"),
        _site_page(PRIVACY_PATH, "privacy.html"),
        _site_page(TERMS_PATH, "terms.html"),
    ]
    files = [_static_file(path, body, kind) for path, (body, kind) in _STATIC.items()]
    return [*pages, *files]
