"""Booking details are read tolerantly: ids as numbers or strings, local times, payment spellings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.simplybook.client import booking_sign
from adapters.simplybook.parsing import UnreadableBooking, booking_details, catalog
from bot.domain import BookingStatus, PaymentState

RAW = {
    "id": 2262,
    "code": "x7k2",
    "event_id": 3,
    "event_name": "Consultation",
    "unit_id": "5",
    "unit_name": "Olena",
    "client_name": "Iryna",
    "client_email": "i@example.test",
    "start_date_time": "2026-03-29 10:00:00",
    "end_date_time": "2026-03-29 11:30:00",
    "status": "confirmed",
    "is_confirmed": "1",
}


def test_local_times_become_utc_across_a_dst_change() -> None:
    details = booking_details(RAW, timezone="Europe/Kyiv")  # Kyiv moved to UTC+3 on 29 March 2026
    assert details.start == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert details.duration_minutes == 90
    assert (details.external_id, details.service_id, details.provider_id) == ("2262", "3", "5")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, PaymentState.NOT_REQUIRED),
        ({"payment_status": "paid"}, PaymentState.PAID),
        ({"payment_status": "not_paid"}, PaymentState.PENDING),
        ({"payment_received": "1"}, PaymentState.PAID),
        ({"is_paid": 0}, PaymentState.PENDING),
        ({"invoice_status": "approved"}, PaymentState.PAID),
    ],
)
def test_payment_is_read_from_several_spellings(
    extra: dict[str, object], expected: PaymentState
) -> None:
    assert booking_details({**RAW, **extra}, timezone="UTC").payment is expected


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"status": "cancelled"}, BookingStatus.CANCELLED),
        ({"status": "canceled"}, BookingStatus.CANCELLED),
        ({"is_confirmed": "0", "status": ""}, BookingStatus.PENDING),
        ({}, BookingStatus.CONFIRMED),
    ],
)
def test_status(extra: dict[str, object], expected: BookingStatus) -> None:
    assert booking_details({**RAW, **extra}, timezone="UTC").status is expected


def test_unreadable_details_are_refused_plainly() -> None:
    with pytest.raises(UnreadableBooking, match="without an id"):
        booking_details({"code": "x"}, timezone="UTC")
    with pytest.raises(UnreadableBooking, match="unreadable time"):
        booking_details({**RAW, "start_date_time": "tomorrow"}, timezone="UTC")


def test_catalog_accepts_maps_and_lists() -> None:
    as_map = catalog({"1": {"id": "1", "name": "Yoga"}, "2": {"id": 2, "name": ""}})
    assert [(e.external_id, e.name) for e in as_map] == [("1", "Yoga"), ("2", "#2")]
    assert catalog([{"id": 7, "name": "Pilates", "email": "p@x"}])[0].email == "p@x"
    assert catalog(None) == []


def test_sign_is_md5_of_id_hash_and_secret() -> None:
    # md5("2262" + "abc" + "secret"), the platform notes' formula
    assert booking_sign("2262", "abc", "secret") == "af4316f01cd1c6cf5c7df15657fa84f4"
