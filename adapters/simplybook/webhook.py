"""SimplyBook.me's callback body, validated. Authenticity comes from the secret token in the URL,
the company matching the tenant, and the follow-up API call (there is no signature header)."""

from __future__ import annotations

import re

from adapters.edge.strict import BadInput, parse_json_object
from bot.domain import BookingCallback, NotificationType

MAX_BODY_BYTES = 64 * 1024
_BOOKING_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_BOOKING_HASH = re.compile(r"^[0-9a-fA-F]{32}$")
REQUIRED = ("booking_id", "booking_hash", "company", "notification_type")


class InvalidCallback(ValueError):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def parse_callback(body: bytes) -> BookingCallback:
    try:
        data = parse_json_object(body)
    except BadInput as error:
        raise InvalidCallback(400, error.reason) from error
    missing = [name for name in REQUIRED if data.get(name) in (None, "")]
    if missing:
        raise InvalidCallback(422, f"missing field(s): {', '.join(missing)}")
    booking_id = data["booking_id"]
    if isinstance(booking_id, bool) or not isinstance(booking_id, str | int):
        raise InvalidCallback(422, "booking_id must be a string or an integer")
    if not _BOOKING_ID.fullmatch(str(booking_id)):  # `$` would let a final newline in
        raise InvalidCallback(422, "booking_id is not a booking id")
    if not isinstance(data["booking_hash"], str) or not _BOOKING_HASH.match(data["booking_hash"]):
        raise InvalidCallback(422, "booking_hash must be 32 hexadecimal characters")
    if not isinstance(data["company"], str) or len(data["company"]) > 100:
        raise InvalidCallback(422, "company must be a company login")
    try:
        kind = NotificationType(str(data["notification_type"]).lower())
    except ValueError as error:
        allowed = ", ".join(t.value for t in NotificationType)
        raise InvalidCallback(422, f"notification_type must be one of: {allowed}") from error
    return BookingCallback(
        company_login=data["company"].strip(),
        booking_id=str(booking_id),
        booking_hash=data["booking_hash"].lower(),
        notification_type=kind,
    )
