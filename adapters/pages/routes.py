"""`GET /m/{token}` (a client's link) and `GET /h/{token}` (a provider's link).

The decision is the core's (usecases/links.py); this module only turns it into HTTP.
Tokens are secrets: they never appear in logs or on the pages.
"""

from __future__ import annotations

import string
from collections.abc import Awaitable, Callable
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.urls import CLIENT_PATH, HOST_PATH
from bot.usecases.links import LinkDecision, LinkOutcome

MAX_TOKEN_CHARS = 128
_TOKEN_CHARS = frozenset(string.ascii_letters + string.digits + "-_")

ClientDecider = Callable[[str], LinkDecision]
HostDecider = Callable[[str], Awaitable[LinkDecision]]

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)

# (status, seconds before the page reloads itself, and per language: title, message)
_PAGES: dict[LinkOutcome, tuple[int, int, dict[str, tuple[str, str]]]] = {
    LinkOutcome.NOT_FOUND: (
        404,
        0,
        {
            "en": (
                "Link not found",
                "This meeting link is not valid. Please check that you copied the whole "
                "link, or ask the business that sent it for a new one.",
            ),
            "uk": (
                "Посилання не знайдено",
                "Це посилання на зустріч недійсне. Перевірте, чи скопійовано його "
                "повністю, або попросіть у компанії нове.",
            ),
        },
    ),
    LinkOutcome.NOT_READY: (
        200,
        10,
        {
            "en": (
                "Your meeting is being prepared",
                "The meeting is being set up right now. This page will refresh by itself.",
            ),
            "uk": ("Зустріч готується", "Зустріч саме зараз створюється. Сторінка оновиться сама."),
        },
    ),
    LinkOutcome.CANCELLED: (
        410,
        0,
        {
            "en": (
                "This meeting was cancelled",
                "The booking behind this link was cancelled, so the meeting "
                "is no longer available.",
            ),
            "uk": (
                "Зустріч скасовано",
                "Бронювання за цим посиланням скасовано, тож зустріч більше недоступна.",
            ),
        },
    ),
    LinkOutcome.PAYMENT_PENDING: (
        200,
        0,
        {
            "en": (
                "Payment pending",
                "Your meeting link will work as soon as the booking is paid or the "
                "payment is approved. If you have just paid, please open this link again in a few minutes.",
            ),
            "uk": (
                "Очікується оплата",
                "Посилання запрацює, щойно бронювання буде оплачено або оплату "
                "підтверджено. Якщо ви щойно оплатили, відкрийте посилання ще раз за кілька хвилин.",
            ),
        },
    ),
    LinkOutcome.WAIT: (
        200,
        0,
        {
            "en": (
                "Your meeting has not started yet",
                "It opens shortly before the booked time. Keep this page open: it takes you "
                "into the meeting by itself as soon as it opens.",
            ),
            "uk": (
                "Зустріч ще не почалася",
                "Вона відкриється незадовго до заброньованого часу. Не закривайте цю сторінку: "
                "вона сама переведе вас на зустріч, щойно та відкриється.",
            ),
        },
    ),
    LinkOutcome.OVER: (
        410,
        0,
        {
            "en": (
                "This meeting is over",
                "The booked time has passed. To meet again, please make a new booking.",
            ),
            "uk": (
                "Зустріч завершено",
                "Заброньований час минув. Щоб зустрітися знову, створіть нове бронювання.",
            ),
        },
    ),
    LinkOutcome.TRY_AGAIN: (
        503,
        60,
        {
            "en": (
                "This link cannot be opened right now",
                "meetbot is briefly unable to look it up. Please try again in a minute; "
                "this page will also try again by itself.",
            ),
            "uk": (
                "Посилання зараз не відкривається",
                "meetbot ненадовго не може його знайти. Спробуйте ще раз за хвилину; "
                "сторінка також спробує сама.",
            ),
        },
    ),
    LinkOutcome.UNAVAILABLE: (
        503,
        30,
        {
            "en": (
                "The meeting cannot be opened right now",
                "The video platform did not answer. Please try again in a minute.",
            ),
            "uk": (
                "Зустріч зараз не відкривається",
                "Відеоплатформа не відповіла. Спробуйте ще раз за хвилину.",
            ),
        },
    ),
}
_WAITING = {
    "en": {"starts_label": "Starts:", "days_label": "days", "waiting_hint": "Opens in:"},
    "uk": {"starts_label": "Початок:", "days_label": "дн.", "waiting_hint": "Відкриється через:"},
}


def language(request: Request) -> str:
    """English or Ukrainian, from the browser's preferences (the booking's language is not known)."""
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in ("uk", "en"):
            return code
    return "en"


def _page(decision: LinkDecision, lang: str) -> Response:
    status, refresh, texts = _PAGES[decision.outcome]
    title, message = texts[lang]
    extra: dict[str, object] = {}
    if decision.opens_at is not None and decision.starts_at is not None:
        extra = {
            **_WAITING[lang],
            "opens_at": decision.opens_at.isoformat(),
            "starts_at": decision.starts_at.isoformat(),
            "seconds_left": decision.seconds_left,
            # Without JavaScript the page still moves on: it reloads itself, at least each minute.
            "noscript_refresh": max(5, min(60, int(decision.seconds_left or 0) + 1)),
            "opens_at_text": f"{_WAITING[lang]['starts_label']} {decision.starts_at:%Y-%m-%d %H:%M} UTC",
        }
    html = _templates.get_template("page.html").render(
        lang=lang,
        title=title,
        message=message,
        hint=decision.detail,
        refresh_seconds=refresh,
        **extra,
    )
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    if status == 503:
        headers["Retry-After"] = str(refresh)
    return HTMLResponse(html, status_code=status, headers=headers)


def _answer(decision: LinkDecision, lang: str) -> Response:
    if decision.outcome is LinkOutcome.REDIRECT and decision.url:
        return RedirectResponse(
            decision.url,
            status_code=303,
            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
        )
    return _page(decision, lang)


def _could_be_token(token: str) -> bool:
    """Link tokens are URL-safe base64; anything else is not looked up at all (PostgreSQL, for
    one, refuses to compare text holding a NUL character)."""
    return 0 < len(token) <= MAX_TOKEN_CHARS and _TOKEN_CHARS.issuperset(token)


def link_routes(*, client: ClientDecider, host: HostDecider) -> list[Route]:
    async def client_link(request: Request) -> Response:
        token = request.path_params["token"]
        if not _could_be_token(token):
            return _page(LinkDecision(LinkOutcome.NOT_FOUND), language(request))
        decision = await run_in_threadpool(client, token)
        return _answer(decision, language(request))

    async def host_link(request: Request) -> Response:
        token = request.path_params["token"]
        if not _could_be_token(token):
            return _page(LinkDecision(LinkOutcome.NOT_FOUND), language(request))
        return _answer(await host(token), language(request))

    return [
        Route(CLIENT_PATH + "{token}", client_link, methods=["GET"]),
        Route(HOST_PATH + "{token}", host_link, methods=["GET"]),
    ]
