"""Booking details as SimplyBook.me returns them, read tolerantly.

Ids may come as numbers or strings; times are company-local "YYYY-MM-DD HH:MM:SS" without offset.
Payment keys are not documented consistently, so several spellings are accepted (see README).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain import BookingDetails, BookingStatus, CatalogEntry, PaymentState

CANCELLED_WORDS = {"cancelled", "canceled", "cancel", "deleted"}
PAID_WORDS = {"paid", "approved", "received", "complete", "completed"}
UNPAID_WORDS = {"not_paid", "unpaid", "pending", "waiting", "hold", "error"}


class UnreadableBooking(ValueError):
    pass


def text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def truthy(value: Any) -> bool:
    return text(value).lower() in {"1", "true", "yes", "y", "on"}


def local_time(value: Any, timezone: str) -> datetime:
    raw = text(value).replace("T", " ")
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError as error:
        raise UnreadableBooking(f"unreadable time {raw!r}") from error
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(timezone))
    return parsed.astimezone(UTC)


def booking_status(raw: Mapping[str, Any]) -> BookingStatus:
    status = text(raw.get("status")).lower()
    if (
        status in CANCELLED_WORDS
        or truthy(raw.get("is_cancelled"))
        or truthy(raw.get("is_deleted"))
    ):
        return BookingStatus.CANCELLED
    if "is_confirmed" in raw and not truthy(raw.get("is_confirmed")) and status != "confirmed":
        return BookingStatus.PENDING
    return BookingStatus.CONFIRMED


def payment_state(raw: Mapping[str, Any]) -> PaymentState:
    for key in ("payment_status", "invoice_status", "payment_received", "is_paid", "paid"):
        if key not in raw or raw[key] in (None, ""):
            continue
        value = text(raw[key]).lower()
        if value in PAID_WORDS or (key != "payment_status" and truthy(value)):
            return PaymentState.PAID
        if value in UNPAID_WORDS or value in {"0", "false", "no"}:
            return PaymentState.PENDING
    return PaymentState.NOT_REQUIRED


def booking_details(raw: Mapping[str, Any], *, timezone: str) -> BookingDetails:
    if not isinstance(raw, Mapping) or not text(raw.get("id")):
        raise UnreadableBooking("booking details without an id")
    start = local_time(raw.get("start_date_time") or raw.get("start_date"), timezone)
    end_raw = raw.get("end_date_time") or raw.get("end_date")
    end = local_time(end_raw, timezone) if end_raw else start
    return BookingDetails(
        external_id=text(raw.get("id")),
        code=text(raw.get("code")),
        service_id=text(raw.get("event_id") or raw.get("service_id")),
        service_name=text(raw.get("event_name") or raw.get("event") or raw.get("service_name")),
        provider_id=text(raw.get("unit_id") or raw.get("provider_id")),
        provider_name=text(raw.get("unit_name") or raw.get("unit") or raw.get("provider_name")),
        client_name=text(raw.get("client_name")),
        client_email=text(raw.get("client_email")),
        client_phone=text(raw.get("client_phone")),
        start=start,
        end=max(end, start),
        status=booking_status(raw),
        payment=payment_state(raw),
    )


def catalog(raw: Any) -> list[CatalogEntry]:
    """getEventList / getUnitList answer a map of id → entry (sometimes a list)."""
    entries = raw.values() if isinstance(raw, Mapping) else raw or []
    result = []
    for entry in entries:
        if isinstance(entry, Mapping) and text(entry.get("id")):
            result.append(
                CatalogEntry(
                    external_id=text(entry.get("id")),
                    name=text(entry.get("name")) or f"#{text(entry.get('id'))}",
                    email=text(entry.get("email")),
                    is_class=truthy(entry.get("is_class")),
                )
            )
    return result
