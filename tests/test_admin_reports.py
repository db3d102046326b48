"""The online-meetings report (S15), the admins' daily digest and the audit trail, through Slack."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.bootstrap import Core
from app.jobs import schedule_routine
from app.sandbox import Demo, SandboxWorld, message_as_text, wait_for
from bot.domain import Actor, CatalogEntry, ChatPlatform, ChatTarget, MeetingPlatform
from storage.tables import BookingRow

from .conftest import SteppingClock, run_jobs
from .harness import ADMIN, SlackCompany
from .slack_platform import reply_text

SENIOR, JUNIOR = "USENIOR1", "UJUNIOR1"
KYIV = ZoneInfo("Europe/Kyiv")


@dataclass
class Studio(SlackCompany):
    clock: SteppingClock

    def as_admin(self) -> Actor:
        return Actor(ChatPlatform.SLACK, self.demo.team_id, ADMIN)


@pytest.fixture
def studio(slack_company: SlackCompany, clock: SteppingClock) -> Iterator[Studio]:
    core, world, demo, actor = (
        slack_company.core,
        slack_company.world,
        slack_company.demo,
        slack_company.admin,
    )
    for user in (SENIOR, JUNIOR):
        world.slack.add_user(demo.team_id, id=user, name=user.lower(), is_admin=False)
    core.staff.set_role(company_id=demo.company_id, actor=actor, user_id=SENIOR, role="senior")
    core.staff.set_role(company_id=demo.company_id, actor=actor, user_id=JUNIOR, role="junior")
    core.staff.tie_staff(
        company_id=demo.company_id, actor=actor, user_id=JUNIOR, provider_external_id="2"
    )
    _add_second_provider(core, world, demo)
    yield Studio(core, slack_company.slack, demo, world, actor, clock)


def _add_second_provider(core: Core, world: SandboxWorld, demo: Demo) -> None:
    world.simplybook.add_provider(demo.login, id=2, name="Maria Petrenko", email="maria@x.test")
    world.simplybook.add_service(demo.login, id=2, name="Pilates", duration=45)
    maria = world.zoom.add_user(
        account_id=f"acct-{demo.login}", email="maria@x.test", first_name="Maria", last_name="P"
    )
    channel = world.slack.add_channel(demo.team_id, name="maria-bookings")
    core.catalog.merge_catalog(
        company_id=demo.company_id,
        services=[CatalogEntry("2", "Pilates")],
        providers=[CatalogEntry("2", "Maria Petrenko", email="maria@x.test")],
    )
    core.catalog.set_service_online(company_id=demo.company_id, external_id="2", enabled=True)
    core.catalog.map_provider(
        company_id=demo.company_id,
        external_id="2",
        platform=MeetingPlatform.ZOOM,
        zoom_user=maria["id"],
        channel=ChatTarget(ChatPlatform.SLACK, demo.team_id, channel),
    )


def _seed_month(studio: Studio) -> list[dict[str, Any]]:
    """30 days of bookings from tomorrow, for two providers; some cancelled, some unpaid."""
    world, demo = studio.world, studio.demo
    first_day = (datetime.now(KYIV) + timedelta(days=1)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    made = []
    for day in range(30):
        provider = "1" if day % 3 else "2"
        start = first_day + timedelta(days=day, hours=day % 5)
        extra = {"payment_status": "not_paid"} if day % 7 == 3 else {}
        booking = world.simplybook.add_booking(
            demo.login,
            service_id=provider,
            provider_id=provider,
            client_name='=HYPERLINK("http://x")' if day == 4 else f"Client {day}",
            start=f"{start:%Y-%m-%d %H:%M:%S}",
            end=f"{start + timedelta(minutes=45):%Y-%m-%d %H:%M:%S}",
            **extra,
        )
        made.append({**booking, "start": start, "provider": provider})
    for booking in made:
        studio.deliver(booking)
    run_jobs(studio.core, timeout=60)
    for booking in made[5:30:6]:
        world.simplybook.update_booking(demo.login, booking["id"], status="cancelled")
        studio.deliver(booking, "cancel")
    run_jobs(studio.core, timeout=60)
    return made


def _report(studio: Studio, text: str, user: str) -> tuple[str, list[dict[str, str]]]:
    files_before = len(studio.world.slack.dm_files(user))
    reply = studio.say(text, user=user)
    assert "Report sent" in reply, reply
    assert wait_for(lambda: len(studio.world.slack.dm_files(user)) > files_before)
    file = studio.world.slack.dm_files(user)[-1]
    assert file["name"].startswith("online-meetings-") and file["name"].endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(file["content"].decode("utf-8"))))
    summaries = [
        message_as_text(m)
        for m in studio.world.slack.dm_messages(user)
        if message_as_text(m).startswith("Online meetings")
    ]
    return summaries[-1], rows


def test_report_over_a_month_matches_the_database(studio: Studio) -> None:
    made = _seed_month(studio)
    first = made[0]["start"].date()
    last = made[-1]["start"].date()
    summary, rows = _report(studio, f"report {first} {last}", ADMIN)

    with Session(studio.core.engine) as session:
        stored = session.scalars(
            select(BookingRow).where(BookingRow.company_id == studio.demo.company_id)
        ).all()
    assert len(rows) == len(stored) == 30
    by_status = Counter(row["status"] for row in rows)
    cancelled = sum(1 for b in stored if b.status == "cancelled")
    unpaid = sum(1 for b in stored if b.payment == "pending" and b.status != "cancelled")
    assert by_status == {
        "cancelled": cancelled,
        "awaiting payment": unpaid,
        "scheduled": 30 - cancelled - unpaid,
    }
    assert cancelled == 5 and unpaid > 0
    assert "Bookings: 30" in summary and f"Cancelled: {cancelled}" in summary
    assert f"Awaiting payment: {unpaid}" in summary and "Failed: 0" in summary
    assert "Maria Petrenko: 10" in summary and "Olena Koval: 20" in summary
    assert [row["time"][:16] for row in rows] == [
        f"{b['start']:%Y-%m-%dT%H:%M}" for b in sorted(made, key=lambda b: b["start"])
    ]
    assert all(row["client link"].startswith(studio.slack.meetbot_url + "/m/") for row in rows)
    assert all(row["provider link"].startswith(studio.slack.meetbot_url + "/h/") for row in rows)
    assert '\'=HYPERLINK("http://x")' in {row["client"] for row in rows}, "no formula injection"

    today = datetime.now(KYIV).date()
    in_week = [b for b in made if today <= b["start"].date() <= today + timedelta(days=6)]
    week, _ = _report(studio, "report", ADMIN)
    assert f"Bookings: {len(in_week)}\n" in week, "default: the next 7 days"
    assert week.startswith(f"Online meetings, {today:%d %b} – {today + timedelta(days=6):%d %b %Y}")

    _, marias = _report(studio, f"report {first} {last} provider maria", SENIOR)
    assert len(marias) == 10 and {row["provider"] for row in marias} == {"Maria Petrenko"}
    _, pilates = _report(studio, f"report {first} {last} service pilates provider olena", ADMIN)
    assert pilates == [], "filters combine"


def test_a_junior_sees_only_their_own_providers_rows(studio: Studio) -> None:
    made = _seed_month(studio)
    first, last = made[0]["start"].date(), made[-1]["start"].date()
    summary, rows = _report(studio, f"report {first} {last}", JUNIOR)
    assert len(rows) == 10 and {row["provider"] for row in rows} == {"Maria Petrenko"}
    assert "Only your own provider's bookings." in summary


def test_report_refuses_wrong_input_in_plain_words(studio: Studio) -> None:
    assert "the end date 2026-01-01 is before the start date 2026-02-01" in studio.say(
        "report 2026-02-01 2026-01-01"
    )
    assert "2026-02-30 is not a date on the calendar" in studio.say("report 2026-02-30")
    assert "`soon` is not a date" in studio.say("report soon")
    assert "No provider is called" in studio.say("report provider nobody-at-all")
    outsider = studio.slack.command("report", user="UNOBODY1")
    assert "needs the *junior* role" in reply_text(outsider)


def test_digest_runs_at_the_configured_hour_in_the_company_zone_once_a_day(
    studio: Studio,
) -> None:
    core, demo, clock = studio.core, studio.demo, studio.clock
    assert "at 7:00 (Europe/Kyiv)" in studio.say("digest at 7")
    today = datetime.now(KYIV)
    booking = studio.world.simplybook.add_booking(
        demo.login,
        service_id="1",
        provider_id="1",
        client_name="Morning Client",
        start=f"{today + timedelta(days=1):%Y-%m-%d} 10:00:00",
        end=f"{today + timedelta(days=1):%Y-%m-%d} 11:00:00",
    )
    studio.deliver({"id": booking["id"]})
    run_jobs(core)

    def run_at(local: datetime) -> list[str]:
        clock.offset = local.astimezone(UTC) - datetime.now(UTC)
        schedule_routine(core, demo.company_id)
        run_jobs(core)
        return [
            message_as_text(m)
            for m in studio.world.slack.dm_messages(ADMIN)
            if message_as_text(m).startswith("Today at")
        ]

    tomorrow = (today + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    assert run_at(tomorrow.replace(hour=6, minute=59)) == [], "not before 7:00 Kyiv time"
    [digest] = run_at(tomorrow.replace(hour=7, minute=0))
    assert "Today at Demo Yoga Studio: 1 online meeting(s)" in digest
    assert "10:00 Online yoga consultation with Olena Koval, Morning Client: scheduled" in digest
    assert len(run_at(tomorrow.replace(hour=9))) == 1, "once a day"
    assert len(run_at(tomorrow.replace(hour=23, minute=30))) == 1
    assert len(run_at(tomorrow.replace(hour=7) + timedelta(days=1))) == 2, "the next morning"

    routine = [j for j in core.queue.jobs(kind="company_routine") if j.state == "pending"]
    [next_run] = [j.run_at for j in routine]
    assert next_run.astimezone(KYIV).minute == 0, "the routine keeps to the company's full hours"

    assert "Daily digest off" in studio.say("digest off")
    assert len(run_at(tomorrow.replace(hour=8) + timedelta(days=2))) == 2


def test_audit_trail_of_a_scripted_setup_session(studio: Studio) -> None:
    say = studio.say
    say("disable")
    say("enable")
    say("service disable online yoga")
    say("service enable online yoga")
    say(f"provider olena zoom olena@{studio.demo.login}.test")
    say(f"provider olena channel <#{studio.demo.channel_id}|olena-bookings>")
    say(f"provider maria staff <@{JUNIOR}>")
    say(f"role <@{SENIOR}> junior")
    say("digest at 9")

    audit = say("audit")
    lines = [line for line in audit.splitlines() if line.startswith("• ")]
    expected = [
        "set the daily digest (at 9:00)",
        f"changed a role (<@{SENIOR}>: junior)",
        f"tied staff to a provider (<@{JUNIOR}>: Maria Petrenko)",
        "chose a provider's channel (Olena Koval: <#",
        "chose a provider's Zoom host (Olena Koval: olena@demo-studio.test)",
        "turned online meetings on for a service (Online yoga consultation)",
        "turned online meetings off for a service (Online yoga consultation)",
        "turned online meetings on",
        "turned online meetings off",
    ]
    assert len(lines) == len(expected)
    for line, action in zip(lines, expected, strict=True):
        assert f"<@{ADMIN}> {action}" in line, (line, action)
    assert "Newest first, times in Europe/Kyiv." in audit
    refused = studio.slack.command("audit", user=SENIOR)
    assert "needs the *admin* role" in reply_text(refused)
