"""What the web app tells its operator about each request: an id on its log lines (and in its
answer's `X-Request-Id`), one access line with the path's tokens masked, counts by route template
and webhook outcome; and `GET /metrics` itself, when it is turned on."""

from __future__ import annotations

import asyncio
import hmac
import itertools
import logging
import os
import re
import secrets
import time
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.logs import REQUEST_ID
from app.metrics import Metrics
from bot.redaction import MASK
from bot.urls import SIMPLYBOOK_CALLBACK_PATH

if TYPE_CHECKING:
    from app.bootstrap import Core


def metrics_routes(core: Core) -> list[Route]:
    settings = core.settings
    if not settings.metrics:
        return []
    token = settings.metrics_token
    expected = f"Bearer {token.get_secret_value()}".encode() if token else None

    async def metrics(request: Request) -> Response:
        if expected is not None:
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return PlainTextResponse(
                    "unauthorized", status_code=401, headers={"WWW-Authenticate": "Bearer"}
                )
        body = await asyncio.to_thread(core.metrics.render)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return [Route("/metrics", metrics, methods=["GET"])]


# Webhook routes, by who calls them; each answer is counted as accepted or why it was refused.
WEBHOOK_SOURCES = {
    SIMPLYBOOK_CALLBACK_PATH + "{token}": "simplybook",
    "/webhooks/zoom": "zoom",
    "/slack/events": "slack",
    "/api/messages": "teams",
}


# Every path under the callback prefix carries a company's token (a stray slash or suffix makes no
# route match, but the token is still there): logged masked as the log cleaner would mask it. The
# cleaner then has nothing to replace (its replacement is the dearest step of a line), and a token
# too short for its pattern is hidden too. The busiest route: each booking calls it.
def _logged_path(path: str) -> str:
    return SIMPLYBOOK_CALLBACK_PATH + MASK if path.startswith(SIMPLYBOOK_CALLBACK_PATH) else path


REFUSALS = {
    400: "malformed",
    401: "unauthenticated",
    403: "forbidden",
    404: "unknown_token",
    408: "too_slow",
    409: "conflict",
    413: "too_large",
    415: "wrong_type",
    422: "unprocessable",
    429: "rate_limited",
    503: "unavailable",
}
_INCOMING_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
# Ids need to be unique, not unguessable: a random prefix per process and a counter (a uuid4 per
# request costs a system call for randomness on every request).
_ids = {"prefix": secrets.token_hex(8)}
_SERIAL = itertools.count(1)
os.register_at_fork(after_in_child=lambda: _ids.update(prefix=secrets.token_hex(8)))


def new_request_id() -> str:
    return f"{_ids['prefix']}{next(_SERIAL):016x}"


access_log = logging.getLogger("meetbot.access")


def webhook_outcome(status: int) -> str:
    if status < 400:
        return "accepted"
    return REFUSALS.get(status, "error" if status >= 500 else "refused")


# A stranger may send any method token; each would become a series kept in memory for ever.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestLog:
    """Gives each request an id (a proxy's `X-Request-Id` if it is a plain one), on its log lines
    and in the answer's `X-Request-Id`; writes one access line (the path's tokens are masked by
    the log cleaner, the query string is left out) and counts the request by route template."""

    def __init__(self, app: ASGIApp, *, routes: list[Route], metrics: Metrics) -> None:
        self._app = app
        self._routes = routes
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get("x-request-id", "")
        request_id = incoming if _INCOMING_ID.fullmatch(incoming) else new_request_id()
        status = 500  # unless an answer starts
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = MutableHeaders(scope=message)
                headers["X-Request-Id"] = request_id
            await send(message)

        token = REQUEST_ID.set(request_id)
        try:
            await self._app(scope, receive, send_with_id)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            route = self._template(scope)
            path = _logged_path(scope["path"])
            access_log.info("%s %s %d %.0fms", scope["method"], path, status, elapsed_ms)
            REQUEST_ID.reset(token)
            self._count(scope, route, status)

    def _count(self, scope: Scope, route: str, status: int) -> None:
        method = scope["method"] if scope["method"] in KNOWN_METHODS else "other"
        self._metrics.requests.labels(route, method, str(status)).inc()
        source = WEBHOOK_SOURCES.get(route)
        if source is not None:
            self._metrics.webhooks.labels(source, webhook_outcome(status)).inc()

    def _template(self, scope: Scope) -> str:
        for route in self._routes:
            match, _ = route.matches(scope)
            if match != Match.NONE:
                return route.path
        return "unmatched"
