"""Zoom's HTTP routes: the OAuth callback and the (deauthorization) event webhook.

Every Zoom event is signed: `x-zm-signature: v0=hex(HMAC-SHA256(secret, "v0:{timestamp}:{body}"))`.
URL validation is answered with the HMAC of the plain token; `app_deauthorized` disconnects.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from adapters.edge.consent import Begin, SignInCookie, page, start_route, unavailable
from adapters.edge.consent import Outcome as CallbackOutcome
from adapters.edge.strict import BadInput, parse_form, parse_json_object
from bot.clock import Clock
from bot.errors import StorageUnavailable
from bot.urls import ZOOM_CALLBACK_PATH, ZOOM_START_PATH

log = logging.getLogger("meetbot.zoom")
MAX_AGE_SECONDS = 300
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")  # str.isdigit() also accepts "²", which int() refuses
MAX_BODY_BYTES = 64 * 1024
# Checked before hmac.compare_digest, which raises on text that is not ASCII.
_SIGNATURE = re.compile(r"^v0=[0-9a-f]{64}$")


Complete = Callable[[str, str, str, str], Awaitable[CallbackOutcome]]  # state, code, error, nonce
Deauthorized = Callable[[str], Awaitable[int]]  # Zoom account id → connections dropped


def sign(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def _page(outcome: CallbackOutcome) -> HTMLResponse:
    message = f"<p>{html.escape(outcome.message)}</p>"
    return page(outcome.title, message, status=200 if outcome.ok else 400)


# The sign-in's nonce, sent back only to meetbot's own Zoom sign-in paths, never to scripts.
COOKIE = "meetbot_zoom_signin"
COOKIE_PATH = "/oauth/zoom"
START_PATH = ZOOM_START_PATH


def zoom_routes(
    *,
    begin: Begin,
    complete: Complete,
    deauthorized: Deauthorized,
    webhook_secret: str | None,
    clock: Clock,
    secure_cookie: bool = True,
) -> list[Route]:
    async def callback(request: Request) -> Response:
        try:
            query = parse_form(request.scope["query_string"])
        except BadInput as bad:
            return JSONResponse({"ok": False, "reason": bad.reason}, status_code=400)
        try:
            outcome = await complete(
                query.get("state", ""),
                query.get("code", ""),
                query.get("error", ""),
                request.cookies.get(COOKIE, ""),
            )
        except StorageUnavailable:
            return unavailable()
        page = _page(outcome)
        if outcome.ok:  # used up: the browser need not keep it
            page.delete_cookie(COOKIE, path=COOKIE_PATH, secure=secure_cookie, httponly=True)
        return page

    async def events(request: Request) -> Response:
        if not webhook_secret:
            return JSONResponse(
                {"ok": False, "reason": "Zoom events are not configured"}, status_code=404
            )
        body = await request.body()  # capped at MAX_BODY_BYTES by the request guard
        problem = _verify(request, body, webhook_secret, clock)
        if problem is not None:
            return JSONResponse({"ok": False, "reason": problem}, status_code=401)
        try:
            name, payload = _event(body)
        except BadInput as bad:
            return JSONResponse({"ok": False, "reason": bad.reason}, status_code=400)
        if name == "endpoint.url_validation" and isinstance(payload.get("plainToken"), str):
            plain = payload["plainToken"]
            return JSONResponse(
                {"plainToken": plain, "encryptedToken": sign(webhook_secret, plain)}
            )
        if name == "app_deauthorized" and payload.get("account_id"):
            dropped = await deauthorized(str(payload["account_id"]))
            log.info("Zoom app removed from an account; %d connection(s) dropped", dropped)
            return JSONResponse({"ok": True})
        log.warning("unsupported Zoom event %r", name)
        return JSONResponse({"ok": False, "reason": f"unsupported event {name!r}"}, status_code=422)

    return [
        start_route(
            begin,
            path=START_PATH,
            cookie=SignInCookie(COOKIE, COOKIE_PATH, secure=secure_cookie),
            refuse=_page,
        ),
        Route(ZOOM_CALLBACK_PATH, callback, methods=["GET"]),
        Route("/webhooks/zoom", events, methods=["POST"]),
    ]


def _verify(request: Request, body: bytes, secret: str, clock: Clock) -> str | None:
    timestamp = request.headers.get("x-zm-request-timestamp", "")
    signature = request.headers.get("x-zm-signature", "")
    if len(body) > MAX_BODY_BYTES:
        return "body too large"
    if not _TIMESTAMP.match(timestamp) or not _SIGNATURE.match(signature):
        return "missing or malformed signature headers"
    if abs(clock.now().timestamp() - int(timestamp)) > MAX_AGE_SECONDS:
        return "stale request"
    expected = "v0=" + sign(secret, f"v0:{timestamp}:{body.decode('utf-8', 'replace')}")
    if not hmac.compare_digest(expected, signature):
        return "bad signature"
    return None


def _event(body: bytes) -> tuple[object, dict[str, Any]]:
    event = parse_json_object(body)
    payload = event.get("payload") or {}
    if not isinstance(payload, dict):
        raise BadInput("body is not a Zoom event")
    return event.get("event"), payload
