"""`POST /webhooks/simplybook/{token}`: validate at the edge, hand over to the core, answer fast."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.edge.answers import answer, cannot_store_now, too_many
from adapters.edge.rate_limit import RateLimit
from adapters.simplybook.webhook import InvalidCallback, parse_callback
from bot.domain import BookingCallback
from bot.errors import StorageUnavailable
from bot.urls import SIMPLYBOOK_CALLBACK_PATH
from bot.usecases.ingest import IngestResult, Verdict

# Resolves once the callback and its job are committed (or raises StorageUnavailable).
Ingest = Callable[[str, BookingCallback, str], Awaitable[IngestResult]]

_STATUS = {Verdict.ACCEPTED: 202, Verdict.UNKNOWN_TOKEN: 404, Verdict.WRONG_COMPANY: 403}

log = logging.getLogger("meetbot.simplybook")


class CallbackRateLimit(RateLimit):
    """Callbacks per company token (the token is a secret: only its hash is kept)."""

    def __init__(self, rate: str) -> None:
        super().__init__(rate, scope="simplybook")


def simplybook_routes(
    ingest: Ingest,
    *,
    on_accepted: Callable[[], None] = lambda: None,
    limit: CallbackRateLimit | None = None,
) -> list[Route]:
    async def callback(request: Request) -> JSONResponse:
        wait = limit.wait_seconds(request.path_params["token"]) if limit else None
        if wait is not None:
            return too_many("callbacks for this company", wait)
        body = await request.body()  # capped at MAX_BODY_BYTES by the request guard
        try:
            parsed = parse_callback(body)
        except InvalidCallback as invalid:
            return answer(invalid.status, invalid.reason)
        raw = body.decode("utf-8")  # kept as received, for audit and replay (checked above)
        try:
            result = await ingest(request.path_params["token"], parsed, raw)
        except StorageUnavailable as outage:  # nothing was stored: the retry is whole
            log.warning("a SimplyBook.me callback was refused for now: %s", outage)
            return cannot_store_now(outage)
        if result.verdict is Verdict.ACCEPTED:
            on_accepted()
        return answer(_STATUS[result.verdict], result.reason)

    return [Route(SIMPLYBOOK_CALLBACK_PATH + "{token}", callback, methods=["POST"])]
