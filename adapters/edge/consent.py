"""The first page of meetbot's sign-in start links: what is about to be connected, and a button.

Opening a start link uses nothing up; it shows which company the sign-in is for. Continue posts
the link's id back with a one-time value that this page also put in a SameSite=Lax cookie (a
double submit): another site can make a browser post the form, but never with that cookie, so a
sign-in only starts when a person presses Continue on meetbot's own page.
"""

from __future__ import annotations

import hmac
import html
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from adapters.edge.page_headers import new_nonce, page_headers
from adapters.edge.strict import BadInput, parse_form
from bot.errors import StorageUnavailable
from bot.signin import Consent
from bot.usecases.connect_zoom import Outcome, Redirect

COOKIE = "meetbot_consent"
FIELD = "consent"
COOKIE_SECONDS = 15 * 60
MAX_FORM_BYTES = 4 * 1024


_STYLE = "body{font-family:system-ui,sans-serif;max-width:32rem;margin:12vh auto;padding:0 1rem}"


def page(title: str, body: str, *, status: int = 200, script: str = "") -> HTMLResponse:
    """A sign-in page; `script` (meetbot's own code, never a visitor's text) runs inline."""
    nonce = new_nonce()
    inline = f"<script nonce='{nonce}'>{script}</script>" if script else ""
    document = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style nonce='{nonce}'>{_STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}{inline}</body></html>"
    )
    headers = page_headers({"Cache-Control": "no-store"}, nonce=nonce, posts_forms=True)
    return HTMLResponse(document, status_code=status, headers=headers)


def consent_page(
    consent: Consent, *, action: str, start_id: str, cookie_path: str, secure: bool
) -> HTMLResponse:
    value = secrets.token_urlsafe(24)
    form = (
        f"<p>{html.escape(consent.message)}</p>"
        f"<form method='post' action='{html.escape(action)}'>"
        f"<input type='hidden' name='id' value='{html.escape(start_id)}'>"
        f"<input type='hidden' name='{FIELD}' value='{value}'>"
        f"<button type='submit'>{html.escape(consent.proceed_label)}</button></form>"
    )
    response = page(consent.title, form)
    response.set_cookie(
        COOKIE,
        value,
        max_age=COOKIE_SECONDS,
        path=cookie_path,
        secure=secure,
        httponly=True,
        samesite="lax",  # not sent with another site's post: that post cannot go on
    )
    return response


async def consented_start_id(request: Request) -> str | None:
    """The start link id that meetbot's own page posted, or None for any other post."""
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        return None
    try:
        form = parse_form(raw)
    except BadInput:
        return None
    sent, kept = form.get(FIELD, ""), request.cookies.get(COOKIE, "")
    if not sent or not hmac.compare_digest(sent.encode(), kept.encode()):
        return None
    return form.get("id", "")


def unavailable() -> HTMLResponse:
    """meetbot's database cannot be used for a moment: nothing was used up, try again."""
    response = page(
        "Try again in a minute",
        "<p>meetbot cannot finish this right now. Nothing was connected and your link still "
        "works: open it again in a minute.</p>",
        status=503,
    )
    response.headers["Retry-After"] = "60"
    return response


def not_consented() -> HTMLResponse:
    return page(
        "Open the link from your chat",
        "<p>A sign-in starts only from meetbot's own page, with its Continue button. Open the "
        "link in meetbot's message again. Nothing was connected.</p>",
        status=400,
    )


# The start link's id, and whether the person pressed Continue on the consent page.
Begin = Callable[[str, bool], Awaitable[Redirect | Consent | Outcome]]


@dataclass(frozen=True)
class SignInCookie:
    """The cookie that ties a sign-in to the browser that started it: its name, the path of the
    platform's sign-in routes (the only ones it is sent back to), and whether it needs https."""

    name: str
    path: str
    secure: bool = True


def start_route(
    begin: Begin, *, path: str, cookie: SignInCookie, refuse: Callable[[Outcome], Response]
) -> Route:
    """A platform's start link: GET shows the consent page, POST (Continue) starts the sign-in."""
    endpoint = start_endpoint(begin, path=path, cookie=cookie, refuse=refuse)
    return Route(path, endpoint, methods=["GET", "POST"])


def start_endpoint(
    begin: Begin, *, path: str, cookie: SignInCookie, refuse: Callable[[Outcome], Response]
) -> Callable[[Request], Awaitable[Response]]:
    """GET shows the consent page; Continue (POST) sends the browser on to the platform with the
    sign-in's cookie, which only meetbot's own sign-in paths ever get back."""

    async def start(request: Request) -> Response:
        try:
            return await _start(request)
        except StorageUnavailable:
            return unavailable()

    async def _start(request: Request) -> Response:
        if request.method == "GET":
            link_id = request.query_params.get("id", "")
            shown = await begin(link_id, False)
            if isinstance(shown, Consent):
                return consent_page(
                    shown,
                    action=path,
                    start_id=link_id,
                    cookie_path=cookie.path,
                    secure=cookie.secure,
                )
            assert not isinstance(shown, Redirect)
            return refuse(shown)
        consented = await consented_start_id(request)
        if consented is None:
            return not_consented()
        started = await begin(consented, True)
        if not isinstance(started, Redirect):
            assert not isinstance(started, Consent)
            return refuse(started)
        response = Response(
            status_code=303, headers={"Location": started.url, "Cache-Control": "no-store"}
        )
        response.set_cookie(
            cookie.name,
            started.browser_nonce,
            max_age=COOKIE_SECONDS,
            path=cookie.path,
            secure=cookie.secure,
            httponly=True,
            samesite="lax",  # sent on the platform's redirect back, a top-level navigation
        )
        return response

    return start
