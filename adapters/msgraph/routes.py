"""Microsoft's sign-in callback, `GET /oauth/microsoft/callback` (a fixed interface).

meetbot asks for `response_mode=form_post` (msal's recommendation: the code never sits in a URL or
a browser history), so the answer normally arrives as a POSTed form on the same path; a GET with
the answer in the query is read the same way.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

MAX_BODY_BYTES = 64 * 1024
CALLBACK_PATH = "/oauth/microsoft/callback"


class CallbackOutcome(Protocol):
    @property
    def ok(self) -> bool: ...
    @property
    def title(self) -> str: ...
    @property
    def message(self) -> str: ...


Complete = Callable[[Mapping[str, str]], Awaitable[CallbackOutcome]]


def _page(title: str, message: str, status: int) -> HTMLResponse:
    body = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title></head><body style='font-family:system-ui,sans-serif;"
        f"max-width:32rem;margin:12vh auto;padding:0 1rem'><h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(message)}</p></body></html>"
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def teams_connect_routes(*, complete: Complete) -> list[Route]:
    async def callback(request: Request) -> Response:
        if request.method == "GET":
            outcome = await complete(dict(request.query_params))
            return _page(outcome.title, outcome.message, 200 if outcome.ok else 400)
        raw = await request.body()
        if len(raw) > MAX_BODY_BYTES:
            return _page("Microsoft Teams was not connected", "The answer was too large.", 413)
        try:
            form = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            return _page("Microsoft Teams was not connected", "The answer was not readable.", 400)
        outcome = await complete(form)
        return _page(outcome.title, outcome.message, 200 if outcome.ok else 400)

    return [Route(CALLBACK_PATH, callback, methods=["GET", "POST"])]
