"""The report and the daily digest: each row's status, the period typed, and safe CSV cells."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain import BookingStatus, MeetingState, PaymentState, ReportRow
from bot.messages import Fact, Text
from bot.urls import PublicUrls
from bot.usecases.reports import (
    CSV_COLUMNS,
    MAX_DAYS,
    Period,
    ReportRangeError,
    digest_message,
    report_csv,
    report_message,
    report_period,
    row_status,
    safe_cell,
)

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ROW = ReportRow(
    booking_code="AB12",
    start=NOW + timedelta(hours=2),
    end=NOW + timedelta(hours=3),
    service="Yoga",
    service_external_id="s1",
    provider="Olena",
    provider_external_id="p1",
    client="Ann",
    booking_status=BookingStatus.CONFIRMED,
    payment=PaymentState.NOT_REQUIRED,
    problem=None,
    meeting_state=MeetingState.SCHEDULED,
    opened_at=None,
    client_token="ct",
    host_token="ht",
)

STATUS_CASES = [
    ({}, "scheduled"),
    ({"start": NOW}, "started"),
    ({"start": NOW - timedelta(minutes=5)}, "started"),
    ({"opened_at": NOW}, "started"),  # opened early by hand
    ({"payment": PaymentState.PENDING}, "awaiting payment"),
    ({"payment": PaymentState.PAID}, "scheduled"),
    ({"meeting_state": None}, "failed"),  # held up: no meeting yet
    ({"meeting_state": MeetingState.CREATING}, "failed"),
    ({"meeting_state": MeetingState.GONE}, "failed"),
    ({"booking_status": BookingStatus.CANCELLED}, "cancelled"),
    ({"booking_status": BookingStatus.CANCELLED, "meeting_state": None}, "cancelled"),
    ({"booking_status": BookingStatus.PENDING}, "scheduled"),
    ({"payment": PaymentState.PENDING, "meeting_state": None}, "failed"),
]


@pytest.mark.parametrize(("changes", "status"), STATUS_CASES)
def test_row_status(changes: dict[str, object], status: str) -> None:
    assert row_status(replace(ROW, **changes), NOW) == status  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("start", "end", "first", "last"),
    [
        ("", "", date(2026, 12, 1), date(2026, 12, 7)),  # the next seven days
        ("today", "", date(2026, 12, 1), date(2026, 12, 7)),
        ("tomorrow", "tomorrow", date(2026, 12, 2), date(2026, 12, 2)),
        ("yesterday", "today", date(2026, 11, 30), date(2026, 12, 1)),
        ("2026-12-10", "2026-12-31", date(2026, 12, 10), date(2026, 12, 31)),
        ("2026-01-01", "", date(2026, 1, 1), date(2026, 1, 7)),
    ],
)
def test_the_period_typed(start: str, end: str, first: date, last: date) -> None:
    period = report_period(start, end, now=NOW, timezone="UTC")
    assert (period.first, period.last) == (first, last)


def test_today_is_the_companys_today() -> None:
    late_evening_utc = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    period = report_period("today", "today", now=late_evening_utc, timezone="Europe/Kyiv")
    assert period.first == date(2026, 12, 2)


@pytest.mark.parametrize(
    ("start", "end", "problem"),
    [
        ("2026-02-30", "", "2026-02-30 is not a date on the calendar"),
        ("2026-12-10", "2026-12-01", "is before the start date"),
        ("2026-01-01", "2027-01-02", f"a report covers at most {MAX_DAYS} days"),
    ],
)
def test_a_period_that_cannot_be_is_refused(start: str, end: str, problem: str) -> None:
    with pytest.raises(ReportRangeError, match=problem):
        report_period(start, end, now=NOW, timezone="UTC")


def test_a_period_is_whole_days_in_the_company_zone() -> None:
    start, end = Period(date(2026, 12, 1), date(2026, 12, 1), "Europe/Kyiv").bounds()
    assert start.astimezone(UTC) == datetime(2026, 11, 30, 22, 0, tzinfo=UTC)
    assert end - start == timedelta(days=1)


@pytest.mark.parametrize(
    ("first", "last", "label"),
    [
        (date(2026, 12, 1), date(2026, 12, 1), "Tue 01 Dec 2026"),
        (date(2026, 12, 1), date(2026, 12, 7), "01 Dec – 07 Dec 2026"),
    ],
)
def test_period_label(first: date, last: date, label: str) -> None:
    assert Period(first, last, "UTC").label() == label


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("Ann", "Ann"),
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("+1 555", "'+1 555"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
        ("Ann;=cmd", "Ann;'=cmd"),  # a new cell where ";" separates lists
        ("Ann,+1", "Ann,'+1"),
        ("line\n=1", "line\n'=1"),
        ("a-b", "a-b"),  # a dash inside a cell is harmless
    ],
)
def test_cells_never_start_a_formula(value: str, safe: str) -> None:
    assert safe_cell(value) == safe


def test_report_csv_has_a_row_per_booking_with_links() -> None:
    rows = [ROW, replace(ROW, client="=evil()", client_token=None, host_token=None)]
    content = report_csv(rows, now=NOW, timezone="UTC", links=PublicUrls("https://mb.example/"))
    header, first, second = list(csv.reader(io.StringIO(content.decode())))
    assert tuple(header) == CSV_COLUMNS
    assert first == [
        "2026-12-01T11:00+00:00",
        "Yoga",
        "Olena",
        "Ann",
        "scheduled",
        "https://mb.example/m/ct",
        "https://mb.example/h/ht",
    ]
    assert second[3] == "'=evil()" and second[5:] == ["", ""]


def test_report_message_counts_by_status_and_provider() -> None:
    rows = [ROW, replace(ROW, booking_status=BookingStatus.CANCELLED), replace(ROW, provider="")]
    period = Period(date(2026, 12, 1), date(2026, 12, 7), "UTC")
    message = report_message(rows, now=NOW, period=period, filters="")
    assert Fact("Bookings", "3") in message.facts
    assert Fact("Scheduled", "2") in message.facts and Fact("Cancelled", "1") in message.facts
    assert "• Olena: 2 (1 scheduled, 1 cancelled)" in message.text
    assert "• (no provider): 1 (1 scheduled)" in message.text


def test_an_empty_report_says_so() -> None:
    period = Period(date(2026, 12, 1), date(2026, 12, 1), "UTC")
    assert report_message([], now=NOW, period=period, filters="").text == (
        "No online bookings in this period."
    )


def test_digest_lists_todays_meetings_as_literal_text() -> None:
    rows = [replace(ROW, client="<!channel>")]
    message = digest_message(rows, now=NOW, timezone="UTC", company="Studio", alerts=[])
    assert message.title == "Today at Studio: 1 online meeting(s)"
    assert message.body == (Text("• 11:00 Yoga with Olena, <!channel>: scheduled"),)
    assert message.note.startswith("No open problems")


def test_an_empty_digest_says_so() -> None:
    message = digest_message([], now=NOW, timezone="UTC", company="Studio", alerts=[])
    assert (message.body, message.text) == ((), "No online meetings today.")
