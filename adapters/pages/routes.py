"""`GET /m/{token}` (a client's link) and `GET /h/{token}` (a provider's link).

The decision is the core's (usecases/links.py); this module only turns it into HTTP.
Tokens are secrets: they never appear in logs or on the pages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.usecases.links import LinkDecision, LinkOutcome

ClientDecider = Callable[[str], LinkDecision]
HostDecider = Callable[[str], Awaitable[LinkDecision]]

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)

_PAGES: dict[LinkOutcome, tuple[int, str, str, int]] = {
    LinkOutcome.NOT_FOUND: (
        404,
        "Link not found",
        "This meeting link is not valid. Please check that you copied the whole link, "
        "or ask the business that sent it for a new one.",
        0,
    ),
    LinkOutcome.NOT_READY: (
        200,
        "Your meeting is being prepared",
        "The meeting is being set up right now. This page will refresh by itself.",
        10,
    ),
    LinkOutcome.CANCELLED: (
        410,
        "This meeting was cancelled",
        "The booking behind this link was cancelled, so the meeting is no longer available.",
        0,
    ),
    LinkOutcome.PAYMENT_PENDING: (
        200,
        "Payment pending",
        "Your meeting link will work as soon as the booking is paid or the payment is approved. "
        "If you have just paid, please open this link again in a few minutes.",
        0,
    ),
    LinkOutcome.UNAVAILABLE: (
        503,
        "The meeting cannot be opened right now",
        "The video platform did not answer. Please try again in a minute.",
        30,
    ),
}


def _page(decision: LinkDecision) -> Response:
    status, title, message, refresh = _PAGES[decision.outcome]
    html = _templates.get_template("page.html").render(
        title=title, message=message, hint=decision.detail, refresh_seconds=refresh
    )
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    return HTMLResponse(html, status_code=status, headers=headers)


def _answer(decision: LinkDecision) -> Response:
    if decision.outcome is LinkOutcome.REDIRECT and decision.url:
        return RedirectResponse(
            decision.url,
            status_code=303,
            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
        )
    return _page(decision)


def link_routes(*, client: ClientDecider, host: HostDecider) -> list[Route]:
    async def client_link(request: Request) -> Response:
        return _answer(await run_in_threadpool(client, request.path_params["token"]))

    async def host_link(request: Request) -> Response:
        return _answer(await host(request.path_params["token"]))

    return [
        Route("/m/{token}", client_link, methods=["GET"]),
        Route("/h/{token}", host_link, methods=["GET"]),
    ]
