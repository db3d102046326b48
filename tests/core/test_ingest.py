"""Accepting a booking callback: the webhook address names the company; one sync per booking."""

from __future__ import annotations

from bot.domain import BookingCallback, Company, NotificationType
from bot.usecases.ingest import Delivery, Verdict, accept_booking_callback, accept_booking_callbacks
from tests.core.fakes import RecordFakes, record_fakes

STUDIO = Company("c1", "Studio-Login", "Studio", "UTC", True)


def setup() -> RecordFakes:
    fakes = record_fakes()
    fakes.companies.add(STUDIO)
    return fakes


def callback(login: str = "studio-login", booking: str = "1001") -> BookingCallback:
    return BookingCallback(login, booking, "hash", NotificationType.CREATE)


def test_a_callback_to_a_known_address_is_recorded_and_queued() -> None:
    fakes = setup()
    result = accept_booking_callback(
        fakes.callbacks, token="hook-c1", callback=callback(), raw_body="{}"
    )
    assert (result.verdict, result.reason) == (Verdict.ACCEPTED, "queued")
    assert fakes.records.callbacks == [("c1", callback(), "{}")]
    assert fakes.records.queued_syncs == [("c1", "1001")]


def test_the_company_login_is_compared_without_case() -> None:
    fakes = setup()
    result = accept_booking_callback(
        fakes.callbacks, token="hook-c1", callback=callback("STUDIO-LOGIN"), raw_body=""
    )
    assert result.verdict is Verdict.ACCEPTED


def test_an_unknown_address_records_nothing() -> None:
    fakes = setup()
    result = accept_booking_callback(
        fakes.callbacks, token="hook-other", callback=callback(), raw_body=""
    )
    assert result.verdict is Verdict.UNKNOWN_TOKEN
    assert fakes.records.callbacks == [] and fakes.records.queued_syncs == []


def test_another_companys_callback_on_this_address_records_nothing() -> None:
    fakes = setup()
    result = accept_booking_callback(
        fakes.callbacks, token="hook-c1", callback=callback("someone-else"), raw_body=""
    )
    assert result.verdict is Verdict.WRONG_COMPANY
    assert fakes.records.callbacks == []


def test_repeated_callbacks_for_one_booking_queue_one_sync() -> None:
    fakes = setup()
    for _ in range(3):
        accept_booking_callback(fakes.callbacks, token="hook-c1", callback=callback(), raw_body="")
    accept_booking_callback(
        fakes.callbacks, token="hook-c1", callback=callback(booking="1002"), raw_body=""
    )
    assert len(fakes.records.callbacks) == 4
    assert fakes.records.queued_syncs == [("c1", "1001"), ("c1", "1002")]


def test_callbacks_accepted_together_get_each_its_own_verdict_and_one_sync_per_booking() -> None:
    fakes = setup()
    deliveries = [
        Delivery("hook-c1", callback(booking="1001"), "a"),
        Delivery("hook-other", callback(booking="1002"), "b"),
        Delivery("hook-c1", callback("someone-else", booking="1003"), "c"),
        Delivery("hook-c1", callback(booking="1001"), "d"),
    ]
    verdicts = [r.verdict for r in accept_booking_callbacks(fakes.callbacks, deliveries)]
    assert verdicts == [
        Verdict.ACCEPTED,
        Verdict.UNKNOWN_TOKEN,
        Verdict.WRONG_COMPANY,
        Verdict.ACCEPTED,
    ]
    assert [raw for _, _, raw in fakes.records.callbacks] == ["a", "d"]
    assert fakes.records.queued_syncs == [("c1", "1001")]
