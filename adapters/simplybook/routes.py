"""`POST /webhooks/simplybook/{token}`: validate at the edge, hand over to the core, answer fast."""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Awaitable, Callable

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.simplybook.webhook import InvalidCallback, parse_callback
from bot.domain import BookingCallback
from bot.errors import StorageUnavailable
from bot.urls import SIMPLYBOOK_CALLBACK_PATH
from bot.usecases.ingest import IngestResult, Verdict

# Resolves once the callback and its job are committed (or raises StorageUnavailable).
Ingest = Callable[[str, BookingCallback, str], Awaitable[IngestResult]]

_STATUS = {Verdict.ACCEPTED: 202, Verdict.UNKNOWN_TOKEN: 404, Verdict.WRONG_COMPANY: 403}
RETRY_AFTER_SECONDS = 30  # SimplyBook.me retries a callback that was not accepted

log = logging.getLogger("meetbot.simplybook")


class CallbackRateLimit:
    """Callbacks per company token, counted in this process's memory: a leaked token cannot
    flood the queue, and each process behind a load balancer allows the rate on its own."""

    def __init__(self, rate: str) -> None:
        self._rate = parse(rate)  # e.g. "120/minute"; a malformed rate stops the start-up
        # A sliding-window counter's keys expire with their window; a moving window keeps every
        # key it saw, and the token here is whatever a stranger put in the URL.
        self._limiter = SlidingWindowCounterRateLimiter(MemoryStorage())

    def wait_seconds(self, token: str) -> int | None:
        """None when this callback is within the rate, else how long to wait before retrying."""
        key = hashlib.sha256(token.encode()).hexdigest()  # tokens are secrets, even in memory
        if self._limiter.hit(self._rate, "simplybook", key):
            return None
        reset = self._limiter.get_window_stats(self._rate, "simplybook", key).reset_time
        return max(1, math.ceil(reset - time.time()))


def _answer(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"ok": status < 300, "reason": reason}, status_code=status)


def simplybook_routes(
    ingest: Ingest,
    *,
    on_accepted: Callable[[], None] = lambda: None,
    limit: CallbackRateLimit | None = None,
) -> list[Route]:
    async def callback(request: Request) -> JSONResponse:
        wait = limit.wait_seconds(request.path_params["token"]) if limit else None
        if wait is not None:
            return JSONResponse(
                {"ok": False, "reason": f"too many callbacks for this company; retry in {wait} s"},
                status_code=429,
                headers={"Retry-After": str(wait)},
            )
        body = await request.body()  # capped at MAX_BODY_BYTES by the request guard
        try:
            parsed = parse_callback(body)
        except InvalidCallback as invalid:
            return _answer(invalid.status, invalid.reason)
        raw = body.decode("utf-8")  # kept as received, for audit and replay (checked above)
        try:
            result = await ingest(request.path_params["token"], parsed, raw)
        except StorageUnavailable as outage:  # nothing was stored: the retry is whole
            log.warning("a SimplyBook.me callback was refused for now: %s", outage)
            return JSONResponse(
                {"ok": False, "reason": f"cannot store this right now ({outage}); retry later"},
                status_code=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        if result.verdict is Verdict.ACCEPTED:
            on_accepted()
        return _answer(_STATUS[result.verdict], result.reason)

    return [Route(SIMPLYBOOK_CALLBACK_PATH + "{token}", callback, methods=["POST"])]
