"""The short JSON answers of the webhook routes: `{"ok": …, "reason": …}`, which a sender's log
shows as it is."""

from __future__ import annotations

from starlette.responses import JSONResponse

RETRY_AFTER_SECONDS = 30  # senders retry a delivery that was not accepted; sooner only adds load


def answer(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"ok": status < 300, "reason": reason}, status_code=status)


def too_many(what: str, wait: int) -> JSONResponse:
    return JSONResponse(
        {"ok": False, "reason": f"too many {what}; retry in {wait} s"},
        status_code=429,
        headers={"Retry-After": str(wait)},
    )


def cannot_store_now(outage: Exception) -> JSONResponse:
    """Nothing was stored: the sender's retry is whole."""
    return JSONResponse(
        {"ok": False, "reason": f"cannot store this right now ({outage}); retry later"},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
