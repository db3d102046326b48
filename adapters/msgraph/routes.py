"""Microsoft's sign-in: meetbot's start link `GET /oauth/microsoft/start`, and the callback
`GET /oauth/microsoft/callback` (a fixed interface).

The start link gives the browser a cookie with the sign-in's nonce and sends it on to Microsoft.
meetbot asks for `response_mode=form_post` (msal's recommendation: the code never sits in a URL or
a browser history), so the answer normally arrives as a form POSTed from Microsoft's page; a GET
with the answer in the query is read the same way. A SameSite=Lax cookie is not sent with another
site's POST, so a posted answer without it is handed back to the browser once as a form that posts
itself to the same path from meetbot's own page, which the cookie does accompany.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from adapters.edge.consent import Begin, SignInCookie, page, start_route, unavailable
from adapters.edge.consent import Outcome as CallbackOutcome
from adapters.edge.strict import BadInput, parse_form
from bot.errors import StorageUnavailable
from bot.urls import MICROSOFT_CALLBACK_PATH, MICROSOFT_START_PATH

MAX_BODY_BYTES = 64 * 1024
CALLBACK_PATH = MICROSOFT_CALLBACK_PATH
START_PATH = MICROSOFT_START_PATH
COOKIE = "meetbot_ms_signin"
COOKIE_PATH = "/oauth/microsoft"
RELAYED = "meetbot_relayed"  # marks the form meetbot's own page posted


Complete = Callable[[Mapping[str, str], str], Awaitable[CallbackOutcome]]  # answer, nonce


def _page(title: str, message: str, status: int) -> HTMLResponse:
    return page(title, f"<p>{html.escape(message)}</p>", status=status)


def _relay(form: Mapping[str, str]) -> HTMLResponse:
    """Microsoft's answer, posted again from meetbot's own page so the sign-in cookie comes too."""
    fields = "".join(
        f"<input type='hidden' name='{html.escape(name)}' value='{html.escape(value)}'>"
        for name, value in {**form, RELAYED: "1"}.items()
    )
    return page(
        "Finishing the sign-in",
        f"<form method='post' action='{CALLBACK_PATH}'>{fields}"
        "<p>One moment… If nothing happens, press <button type='submit'>Continue</button>.</p>"
        "</form>",
        script="document.forms[0].submit()",
    )


def teams_connect_routes(
    *, begin: Begin, complete: Complete, secure_cookie: bool = True
) -> list[Route]:
    async def finish(form: Mapping[str, str], nonce: str) -> Response:
        try:
            outcome = await complete({k: v for k, v in form.items() if k != RELAYED}, nonce)
        except StorageUnavailable:
            return unavailable()
        page = _page(outcome.title, outcome.message, 200 if outcome.ok else 400)
        if outcome.ok:
            page.delete_cookie(COOKIE, path=COOKIE_PATH, secure=secure_cookie, httponly=True)
        return page

    async def callback(request: Request) -> Response:
        nonce = request.cookies.get(COOKIE, "")
        raw = request.scope["query_string"] if request.method == "GET" else await request.body()
        if len(raw) > MAX_BODY_BYTES:
            return _page("Microsoft Teams was not connected", "The answer was too large.", 413)
        try:
            form = parse_form(raw)
        except BadInput:
            return _page("Microsoft Teams was not connected", "The answer was not readable.", 400)
        if request.method == "POST" and not nonce and RELAYED not in form:
            return _relay(form)
        return await finish(form, nonce)

    return [
        start_route(
            begin,
            path=START_PATH,
            cookie=SignInCookie(COOKIE, COOKIE_PATH, secure=secure_cookie),
            refuse=lambda no: _page(no.title, no.message, 400),
        ),
        Route(CALLBACK_PATH, callback, methods=["GET", "POST"]),
    ]
