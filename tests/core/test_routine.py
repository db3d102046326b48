"""A company's hourly routine: the Kiosk check, closing daily-limit alerts after midnight UTC, and
one digest a day to the admins, even when the job runs again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import AlertKind, ChatPlatform, ChatTarget, Company, DigestSettings
from bot.errors import BookingSystemError
from bot.outbox import ChatOutbox
from bot.usecases import alerts
from bot.usecases.routine import KIOSK_PLUGIN, RoutineDeps, next_run, run_routine
from tests.core.fakes import (
    FakeAdminRecords,
    FakeAlertStore,
    FakeBookingSource,
    FakeChat,
    FakeClock,
    FakeOutbox,
    build_deps,
    record_fakes,
)

ADMIN = ChatTarget(ChatPlatform.SLACK, "T1", "U-admin")
MORNING = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "timezone", "next_hour"),
    [
        (datetime(2026, 12, 1, 8, 30, tzinfo=UTC), "UTC", datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),
        (datetime(2026, 12, 1, 8, 0, tzinfo=UTC), "UTC", datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),
        # Kolkata is UTC+5:30: its full hours fall on the half hour in UTC
        (
            datetime(2026, 12, 1, 8, 10, tzinfo=UTC),
            "Asia/Kolkata",
            datetime(2026, 12, 1, 8, 30, tzinfo=UTC),
        ),
        (datetime(2026, 12, 1, 23, 59, tzinfo=UTC), "UTC", datetime(2026, 12, 2, 0, 0, tzinfo=UTC)),
    ],
)
def test_the_routine_runs_at_the_next_full_hour_of_the_companys_clock(
    now: datetime, timezone: str, next_hour: datetime
) -> None:
    assert next_run(now, timezone) == next_hour


class Routine:
    def __init__(self, clock: FakeClock, *, online: bool = True) -> None:
        self.records = record_fakes(clock)
        self.records.companies.add(Company("c1", "studio", "Studio", "UTC", online))
        self.source = FakeBookingSource()
        self.alerts = FakeAlertStore(clock)
        self.admin_records = FakeAdminRecords(clock)
        self.outbox = FakeOutbox(clock)
        self.outbox.inboxes["c1"] = [ADMIN]
        self.chat = FakeChat(clock)
        stand_ins = {
            **self.records.named(),
            "bookings": self.source,
            "alerts": self.alerts,
            "records": self.admin_records,
            "outbox": ChatOutbox(records=self.outbox, chats={ChatPlatform.SLACK: self.chat}),
            "clock": clock,
        }
        self.deps = build_deps(RoutineDeps, stand_ins)
        self.admin_records.set_digest(company_id="c1", enabled=False)

    def run(self) -> str:
        return asyncio.run(run_routine(self.deps, company_id="c1"))


def test_nothing_to_do_says_so(clock: FakeClock) -> None:
    assert Routine(clock).run() == "nothing to do"


def test_kiosk_on_raises_an_alert_once(clock: FakeClock) -> None:
    routine = Routine(clock)
    routine.source.plugins.add(KIOSK_PLUGIN)
    assert routine.run() == "Kiosk is on"
    routine.run()
    [alert] = routine.alerts.open_alerts(company_id="c1")
    assert alert.spec.kind is AlertKind.KIOSK_ON


def test_kiosk_off_again_resolves_the_alert(clock: FakeClock) -> None:
    routine = Routine(clock)
    routine.source.plugins.add(KIOSK_PLUGIN)
    routine.run()
    routine.source.plugins.clear()
    routine.run()
    assert routine.alerts.open_alerts(company_id="c1") == []


def test_a_failed_kiosk_check_waits_for_the_next_hour(clock: FakeClock) -> None:
    routine = Routine(clock)
    routine.source.fail_next(BookingSystemError("SimplyBook.me is down"))
    assert routine.run() == "Kiosk not checked"


def test_with_online_meetings_off_the_kiosk_is_not_asked_about(clock: FakeClock) -> None:
    routine = Routine(clock, online=False)
    routine.alerts.raise_alert(company_id="c1", spec=alerts.kiosk_on())
    routine.source.fail_next(AssertionError("the booking system must not be asked"))
    routine.run()
    assert routine.alerts.open_alerts(company_id="c1") == []


def test_daily_limit_alerts_from_before_midnight_utc_are_closed(clock: FakeClock) -> None:
    routine = Routine(clock)
    routine.alerts.raise_alert(company_id="c1", spec=alerts.daily_limit("olena@studio.com", "x"))
    assert routine.run() == "nothing to do"  # raised today: the limit has not reset yet
    clock.advance(timedelta(days=1).total_seconds())
    assert routine.run() == "1 daily-limit alert(s) closed"
    assert routine.alerts.open_alerts(company_id="c1") == []


def test_the_digest_goes_once_a_day_from_its_hour(clock: FakeClock) -> None:
    clock.at = MORNING.replace(hour=7)
    routine = Routine(clock)
    routine.admin_records.set_digest(company_id="c1", enabled=True, hour=8)
    assert routine.run() == "nothing to do"  # before the hour
    clock.at = MORNING
    assert routine.run() == "digest sent to 1 admin(s)"
    clock.advance(3600)
    assert routine.run() == "nothing to do"  # already sent today
    [sent] = routine.chat.messages
    assert sent.target == ADMIN and sent.message.title.startswith("Today at Studio")


def test_a_digest_whose_job_died_before_it_was_marked_is_not_sent_twice(
    clock: FakeClock,
) -> None:
    clock.at = MORNING
    routine = Routine(clock)
    routine.admin_records.set_digest(company_id="c1", enabled=True, hour=8)
    routine.run()
    # The process died after sending, before marking the day as done.
    routine.admin_records.digests["c1"] = DigestSettings(enabled=True, hour=8, last_sent_on="")
    routine.run()
    assert len(routine.chat.messages) == 1
