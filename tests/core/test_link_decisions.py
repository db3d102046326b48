"""What a click on a client's or host's link leads to, decided at click time."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import (
    BookingDetails,
    BookingStatus,
    Company,
    Meeting,
    MeetingHostRef,
    MeetingPlatform,
    MeetingRequest,
    MeetingState,
    PaymentState,
)
from bot.errors import MeetingPlatformRejected, StorageUnavailable
from bot.usecases.links import (
    OVER_GRACE,
    LinkDecision,
    LinkOutcome,
    MeetingSummary,
    client_link,
    host_link,
    opening_time,
)
from tests.core.fakes import EPOCH, FakeLinkStore, FakeMeetingPlatform, booking_details

START = EPOCH + timedelta(days=1)
COMPANY = Company("c1", "studio", "Studio", "UTC", True, open_minutes_before=10)
HOST = MeetingHostRef(MeetingPlatform.ZOOM, "acc1", "host@studio.com")
MEETING = Meeting(
    "meet1",
    "c1",
    "b1",
    HOST,
    "marker-1",
    MeetingState.SCHEDULED,
    START,
    START + timedelta(hours=1),
    "zoom-1",
    "https://zoom.example/j/1",
    "client-token",
    "host-token",
)
BOOKING = booking_details(start=START)
OPENS = START - timedelta(minutes=10)


def click(
    now: datetime,
    *,
    meeting: Meeting = MEETING,
    booking: BookingDetails = BOOKING,
    company: Company = COMPANY,
) -> LinkOutcome:
    store = FakeLinkStore()
    store.client_views["client-token"] = (meeting, booking, company)
    return client_link(store, token="client-token", now=now).outcome


CLIENT_CASES = [
    # (what differs, when the client clicks, what they get)
    ({}, OPENS, LinkOutcome.REDIRECT),
    ({}, OPENS - timedelta(seconds=1), LinkOutcome.WAIT),
    ({}, START + timedelta(hours=1) + OVER_GRACE, LinkOutcome.REDIRECT),  # a late client
    ({}, START + timedelta(hours=1) + OVER_GRACE + timedelta(seconds=1), LinkOutcome.OVER),
    ({"meeting": replace(MEETING, opened_at=EPOCH)}, EPOCH, LinkOutcome.REDIRECT),  # started early
    ({"meeting": replace(MEETING, join_url=None)}, OPENS, LinkOutcome.NOT_READY),
    ({"meeting": replace(MEETING, state=MeetingState.CANCELLED)}, OPENS, LinkOutcome.CANCELLED),
    ({"meeting": replace(MEETING, state=MeetingState.GONE)}, OPENS, LinkOutcome.CANCELLED),
    ({"booking": replace(BOOKING, status=BookingStatus.CANCELLED)}, OPENS, LinkOutcome.CANCELLED),
    (
        {"booking": replace(BOOKING, payment=PaymentState.PENDING)},
        OPENS,
        LinkOutcome.PAYMENT_PENDING,
    ),
    ({"booking": replace(BOOKING, payment=PaymentState.PAID)}, OPENS, LinkOutcome.REDIRECT),
    # cancelled wins over unpaid: nothing to pay for any more
    (
        {"booking": replace(BOOKING, status=BookingStatus.CANCELLED, payment=PaymentState.PENDING)},
        OPENS,
        LinkOutcome.CANCELLED,
    ),
    # unpaid wins over not ready: the link never tells an unpaid client anything more
    (
        {
            "meeting": replace(MEETING, join_url=None),
            "booking": replace(BOOKING, payment=PaymentState.PENDING),
        },
        OPENS,
        LinkOutcome.PAYMENT_PENDING,
    ),
    (
        {"company": replace(COMPANY, open_minutes_before=30)},
        START - timedelta(minutes=20),
        LinkOutcome.REDIRECT,
    ),
    (
        {"company": replace(COMPANY, open_minutes_before=0)},
        START - timedelta(minutes=5),
        LinkOutcome.WAIT,
    ),
    # the booking's own times count, even while the meeting is still moving to them
    (
        {
            "booking": replace(
                BOOKING, start=START + timedelta(hours=2), end=START + timedelta(hours=3)
            )
        },
        OPENS,
        LinkOutcome.WAIT,
    ),
    # a booking that ends at the end of time: no arithmetic on its end may overflow
    (
        {"booking": replace(BOOKING, end=datetime.max.replace(tzinfo=UTC))},
        OPENS,
        LinkOutcome.REDIRECT,
    ),
]


@pytest.mark.parametrize(("differs", "now", "outcome"), CLIENT_CASES)
def test_client_link_decision(
    differs: dict[str, object], now: datetime, outcome: LinkOutcome
) -> None:
    assert click(now, **differs) == outcome  # type: ignore[arg-type]


def test_a_client_who_is_early_is_told_when_it_opens() -> None:
    store = FakeLinkStore()
    store.client_views["t"] = (MEETING, BOOKING, COMPANY)
    decision = client_link(store, token="t", now=OPENS - timedelta(minutes=5))
    assert (decision.opens_at, decision.starts_at) == (OPENS, START)
    assert decision.summary == MeetingSummary("Studio", "Yoga", "Olena", START, BOOKING.end)
    assert decision.seconds_left == 301  # rounded up: never "opens in 0 seconds" while closed
    assert decision.url is None


@pytest.mark.parametrize(
    ("differs", "outcome", "in_calendar"),
    [
        ({"booking": replace(BOOKING, payment=PaymentState.PENDING)}, "payment_pending", True),
        ({"booking": replace(BOOKING, status=BookingStatus.CANCELLED)}, "cancelled", False),
        ({"meeting": replace(MEETING, join_url=None)}, "not_ready", True),
        ({}, "wait", True),
    ],
)
def test_every_page_of_a_known_link_says_which_meeting_but_nothing_of_the_client(
    differs: dict[str, object], outcome: str, in_calendar: bool
) -> None:
    store = FakeLinkStore()
    view = {"meeting": MEETING, "booking": BOOKING, "company": COMPANY, **differs}
    store.client_views["t"] = (view["meeting"], view["booking"], view["company"])  # type: ignore[assignment]
    decision = client_link(store, token="t", now=OPENS - timedelta(minutes=5))
    assert decision.outcome == outcome and decision.in_calendar is in_calendar
    assert decision.summary is not None
    assert (decision.summary.business, decision.summary.service) == ("Studio", "Yoga")
    shown = repr(decision.summary)
    assert BOOKING.client_name not in shown and BOOKING.client_email not in shown


def test_an_unknown_or_finished_link_offers_no_calendar() -> None:
    assert not LinkDecision(LinkOutcome.NOT_FOUND).in_calendar
    store = FakeLinkStore()
    store.client_views["t"] = (MEETING, BOOKING, COMPANY)
    over = client_link(store, token="t", now=START + timedelta(hours=2))
    assert over.outcome is LinkOutcome.OVER and not over.in_calendar


def test_a_client_at_the_right_time_is_sent_to_the_platform() -> None:
    store = FakeLinkStore()
    store.client_views["t"] = (MEETING, BOOKING, COMPANY)
    assert client_link(store, token="t", now=START).url == MEETING.join_url


def test_an_unknown_client_token_is_not_found() -> None:
    assert client_link(FakeLinkStore(), token="nope", now=START).outcome is LinkOutcome.NOT_FOUND


def test_a_database_outage_asks_the_client_to_try_again() -> None:
    store = FakeLinkStore()
    store.broken = StorageUnavailable("the database is locked")
    assert client_link(store, token="t", now=START).outcome is LinkOutcome.TRY_AGAIN


def test_opening_time_is_the_start_less_the_companys_lead() -> None:
    assert opening_time(START, COMPANY) == START - timedelta(minutes=10)


def open_host(
    meeting: Meeting | None, platform: FakeMeetingPlatform, store: FakeLinkStore | None = None
) -> LinkDecision:
    store = store or FakeLinkStore()
    if meeting is not None:
        store.host_meetings["host-token"] = meeting
    platforms = {MeetingPlatform.ZOOM: platform}
    return asyncio.run(host_link(store, platforms, token="host-token"))


def zoom_with_meeting() -> FakeMeetingPlatform:
    zoom = FakeMeetingPlatform("zoom")
    zoom.meetings["zoom-1"] = MeetingRequest("Yoga", START, 60, "UTC", "", "marker-1")
    return zoom


def test_the_host_gets_a_fresh_host_url_on_every_click() -> None:
    zoom = zoom_with_meeting()
    first = open_host(MEETING, zoom)
    second = open_host(MEETING, zoom)
    assert first.outcome is LinkOutcome.REDIRECT
    assert first.url != second.url
    assert zoom.calls == ["host_url zoom-1", "host_url zoom-1"]


@pytest.mark.parametrize(
    ("meeting", "outcome"),
    [
        (None, LinkOutcome.NOT_FOUND),
        (replace(MEETING, state=MeetingState.CANCELLED), LinkOutcome.CANCELLED),
        (replace(MEETING, state=MeetingState.GONE), LinkOutcome.CANCELLED),
        (replace(MEETING, external_id=None, state=MeetingState.CREATING), LinkOutcome.NOT_READY),
    ],
)
def test_host_link_without_asking_the_platform(
    meeting: Meeting | None, outcome: LinkOutcome
) -> None:
    zoom = zoom_with_meeting()
    assert open_host(meeting, zoom).outcome is outcome
    assert zoom.calls == []


def test_a_meeting_the_platform_lost_reads_as_cancelled() -> None:
    decision = open_host(MEETING, FakeMeetingPlatform("zoom"))
    assert decision.outcome is LinkOutcome.CANCELLED
    assert "no longer exists" in decision.detail


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (MeetingPlatformRejected("Zoom said no"), LinkOutcome.UNAVAILABLE),
        (StorageUnavailable("tokens unreadable"), LinkOutcome.TRY_AGAIN),
    ],
)
def test_platform_trouble_on_a_host_click(error: Exception, outcome: LinkOutcome) -> None:
    zoom = zoom_with_meeting()
    zoom.fail_next(error)
    assert open_host(MEETING, zoom).outcome is outcome


def test_a_database_outage_on_a_host_click_asks_to_try_again() -> None:
    store = FakeLinkStore()
    store.broken = StorageUnavailable("locked")
    assert open_host(None, zoom_with_meeting(), store).outcome is LinkOutcome.TRY_AGAIN
