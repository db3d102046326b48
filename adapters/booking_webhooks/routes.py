"""`POST /webhooks/bookings/{source_id}`: verify the signature, validate the event, hand it to
the core, answer fast. Every refusal is a 4xx with a short JSON reason; nothing is stored."""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.booking_webhooks.events import InvalidEvent, parse_event
from adapters.booking_webhooks.signature import BadSignature, verify
from adapters.edge.answers import answer, cannot_store_now, too_many
from adapters.edge.rate_limit import RateLimit
from adapters.edge.strict import BadInput, decode_utf8
from bot.domain.booking_events import BookingEvent, EventOutcome, WebhookSource
from bot.errors import StorageUnavailable
from bot.urls import BOOKING_WEBHOOK_PATH
from bot.usecases.ingest_event import EventResult

FindSource = Callable[[str], WebhookSource | None]
Ingest = Callable[[WebhookSource, BookingEvent, str], EventResult]

_STATUS = {EventOutcome.APPLIED: 202, EventOutcome.STALE: 200, EventOutcome.DUPLICATE: 200}
MAX_SOURCE_ID_CHARS = 64

log = logging.getLogger("meetbot.booking_webhooks")


def booking_webhook_routes(
    find_source: FindSource,
    ingest: Ingest,
    *,
    on_accepted: Callable[[], None] = lambda: None,
    limit: RateLimit | None = None,
) -> list[Route]:
    async def receive(request: Request) -> JSONResponse:
        source_id = request.path_params["source_id"]
        wait = limit.wait_seconds(source_id) if limit else None
        if wait is not None:  # before any lookup: a flood costs no database work
            return too_many("booking events for this source", wait)
        try:
            source = None
            if (
                len(source_id) <= MAX_SOURCE_ID_CHARS
                and source_id.isascii()
                and source_id.isalnum()
            ):
                source = await run_in_threadpool(find_source, source_id)
            if source is None:
                return answer(404, "unknown booking source")
            body = decode_utf8(await request.body())  # capped by the request guard
            webhook_id = verify(body, request.headers, source.secrets)
            event = parse_event(body.encode(), webhook_id=webhook_id)
            result = await run_in_threadpool(ingest, source, event, body)
        except BadInput as bad:
            return answer(400, bad.reason)
        except (BadSignature, InvalidEvent) as refused:
            return answer(refused.status, refused.reason)
        except StorageUnavailable as outage:  # nothing was stored: the retry is whole
            log.warning("a booking event was refused for now: %s", outage)
            return cannot_store_now(outage)
        if result.outcome is EventOutcome.APPLIED:
            on_accepted()
        return answer(_STATUS[result.outcome], result.reason)

    return [Route(BOOKING_WEBHOOK_PATH + "{source_id}", receive, methods=["POST"])]
