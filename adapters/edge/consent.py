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
from typing import Protocol, runtime_checkable

from starlette.requests import Request
from starlette.responses import HTMLResponse

from adapters.edge.strict import BadInput, parse_form

COOKIE = "meetbot_consent"
FIELD = "consent"
COOKIE_SECONDS = 15 * 60
MAX_FORM_BYTES = 4 * 1024


@runtime_checkable
class ConsentView(Protocol):
    @property
    def title(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def proceed_label(self) -> str: ...


def page(title: str, body: str, *, status: int = 200) -> HTMLResponse:
    document = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title></head><body style='font-family:system-ui,sans-serif;"
        f"max-width:32rem;margin:12vh auto;padding:0 1rem'><h1>{html.escape(title)}</h1>"
        f"{body}</body></html>"
    )
    return HTMLResponse(document, status_code=status, headers={"Cache-Control": "no-store"})


def consent_page(
    consent: ConsentView, *, action: str, start_id: str, cookie_path: str, secure: bool
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


def not_consented() -> HTMLResponse:
    return page(
        "Open the link from your chat",
        "<p>A sign-in starts only from meetbot's own page, with its Continue button. Open the "
        "link in meetbot's message again. Nothing was connected.</p>",
        status=400,
    )
