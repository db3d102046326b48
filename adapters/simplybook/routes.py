"""`POST /webhooks/simplybook/{token}`: validate at the edge, hand over to the core, answer fast."""

from __future__ import annotations

from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.simplybook.webhook import MAX_BODY_BYTES, InvalidCallback, parse_callback
from bot.domain import BookingCallback
from bot.usecases.ingest import IngestResult, Verdict

Ingest = Callable[[str, BookingCallback, str], IngestResult]

_STATUS = {Verdict.ACCEPTED: 202, Verdict.UNKNOWN_TOKEN: 404, Verdict.WRONG_COMPANY: 403}


class BodyTooLarge(Exception):
    pass


async def read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge
    return bytes(body)


def _answer(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"ok": status < 300, "reason": reason}, status_code=status)


def simplybook_routes(
    ingest: Ingest, *, on_accepted: Callable[[], None] = lambda: None
) -> list[Route]:
    async def callback(request: Request) -> JSONResponse:
        try:
            body = await read_limited(request, MAX_BODY_BYTES)
            parsed = parse_callback(body)
        except BodyTooLarge:
            return _answer(413, f"body is larger than {MAX_BODY_BYTES // 1024} KiB")
        except InvalidCallback as invalid:
            return _answer(invalid.status, invalid.reason)
        raw = body.decode(
            "utf-8"
        )  # kept as received, for audit and replay (valid JSON, checked above)
        result = await run_in_threadpool(ingest, request.path_params["token"], parsed, raw)
        if result.verdict is Verdict.ACCEPTED:
            on_accepted()
        return _answer(_STATUS[result.verdict], result.reason)

    return [Route("/webhooks/simplybook/{token}", callback, methods=["POST"])]
