"""`GET /m/{token}` (a client's link) and `GET /h/{token}` (a provider's link).

The decision is the core's (usecases/links.py); this module only turns it into HTTP: a redirect,
a page that says which meeting it is and why it does not open yet, or the meeting's `.ics` file
(`GET /m/{token}/calendar.ics`).
Tokens are secrets: they never appear in logs or on the pages.
"""

from __future__ import annotations

import string
from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from adapters.edge.page_headers import page_headers
from adapters.pages.calendar import meeting_event
from adapters.pages.html import templates
from adapters.pages.texts import LABELS, PAGES
from bot.clock import Clock
from bot.urls import CLIENT_PATH, HOST_PATH, PublicUrls
from bot.usecases.links import LinkDecision, LinkOutcome

MAX_TOKEN_CHARS = 128
CALENDAR_SUFFIX = "/calendar.ics"  # after a client's link: the meeting for a calendar
_TOKEN_CHARS = frozenset(string.ascii_letters + string.digits + "-_")

ClientDecider = Callable[[str], LinkDecision]
HostDecider = Callable[[str], Awaitable[LinkDecision]]


def language(request: Request) -> str:
    """English or Ukrainian, from the browser's preferences (the booking's language is not known)."""
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in ("uk", "en"):
            return code
    return "en"


def _summary_context(decision: LinkDecision, lang: str, calendar_url: str) -> dict[str, object]:
    """The meeting's details, its countdown, the calendar file and whom to contact."""
    summary = decision.summary
    if summary is None:
        return {}
    labels = LABELS[lang]
    extra: dict[str, object] = {"summary": summary, "labels": labels}
    if decision.in_calendar:
        extra["calendar_url"] = calendar_url
    if decision.outcome in (LinkOutcome.PAYMENT_PENDING, LinkOutcome.CANCELLED):
        extra["contact"] = str(labels["contact"]).format(business=summary.business)
    if decision.opens_at is not None:
        extra["opens_at"] = decision.opens_at.isoformat()
        extra["seconds_left"] = decision.seconds_left
        # Without JavaScript the page still moves on: it reloads itself, at least each minute.
        extra["noscript_refresh"] = max(5, min(60, decision.seconds_left + 1))
    return extra


def _page(decision: LinkDecision, lang: str, *, calendar_url: str = "") -> Response:
    status, refresh, texts = PAGES[decision.outcome]
    title, message = texts[lang]
    page = templates().get_template("page.html")
    html = page.render(
        lang=lang,
        title=title,
        message=message,
        hint=decision.detail,
        refresh_seconds=refresh,
        **_summary_context(decision, lang, calendar_url),
    )
    headers = page_headers({"Cache-Control": "no-store"})
    if status == 503:
        headers["Retry-After"] = str(refresh)
    return HTMLResponse(html, status_code=status, headers=headers)


def _answer(decision: LinkDecision, lang: str, *, calendar_url: str = "") -> Response:
    if decision.outcome is LinkOutcome.REDIRECT and decision.url:
        return RedirectResponse(
            decision.url, status_code=303, headers=page_headers({"Cache-Control": "no-store"})
        )
    return _page(decision, lang, calendar_url=calendar_url)


def _could_be_token(token: str) -> bool:
    """Link tokens are URL-safe base64; anything else is not looked up at all (PostgreSQL, for
    one, refuses to compare text holding a NUL character)."""
    return 0 < len(token) <= MAX_TOKEN_CHARS and _TOKEN_CHARS.issuperset(token)


def link_routes(
    *, client: ClientDecider, host: HostDecider, urls: PublicUrls, clock: Clock
) -> list[Route]:
    async def client_link(request: Request) -> Response:
        token = request.path_params["token"]
        if not _could_be_token(token):
            return _page(LinkDecision(LinkOutcome.NOT_FOUND), language(request))
        decision = await run_in_threadpool(client, token)
        calendar_url = f"{CLIENT_PATH}{token}{CALENDAR_SUFFIX}"
        return _answer(decision, language(request), calendar_url=calendar_url)

    async def calendar_file(request: Request) -> Response:
        """The meeting as an .ics file while it is ahead or on; else the page saying why not."""
        token = request.path_params["token"]
        if not _could_be_token(token):
            return _page(LinkDecision(LinkOutcome.NOT_FOUND), language(request))
        decision = await run_in_threadpool(client, token)
        if decision.summary is None or not decision.in_calendar:
            return _page(decision, language(request))
        body = meeting_event(
            decision.summary, link=urls.client_link(token), token=token, now=clock.now()
        )
        disposition = 'attachment; filename="meeting.ics"'
        headers = page_headers({"Cache-Control": "no-store", "Content-Disposition": disposition})
        return Response(body, media_type="text/calendar; charset=utf-8", headers=headers)

    async def host_link(request: Request) -> Response:
        token = request.path_params["token"]
        if not _could_be_token(token):
            return _page(LinkDecision(LinkOutcome.NOT_FOUND), language(request))
        return _answer(await host(token), language(request))

    return [
        Route(CLIENT_PATH + "{token}", client_link, methods=["GET"]),
        Route(CLIENT_PATH + "{token}" + CALENDAR_SUFFIX, calendar_file, methods=["GET"]),
        Route(HOST_PATH + "{token}", host_link, methods=["GET"]),
    ]
