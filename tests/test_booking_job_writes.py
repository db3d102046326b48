"""What a booking's sync job asks of the database: each record read once, and nothing written
that would not change (every booking pays for each statement; `make bench` measures the cost).

A new booking's job sends, on PostgreSQL: the claim; the company (with its message templates and
bot tokens); the booking's upsert (saying whether it was new, so no meeting is looked for, and
whether its status changed); its service, provider and Zoom account (with the account's tokens);
the meeting's intent and its seat; the meeting as created (with whether anyone watches Home); the
message's intent (a new meeting has no message to look for), the channel's pace and the message
as posted; the finish. SQLite has no shared pace and begins each write."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime

import httpx
from sqlalchemy import event

from app.bootstrap import Core
from app.sandbox import Demo, SandboxWorld, book
from bot.domain import (
    Actor,
    BookingDetails,
    BookingStatus,
    ChatPlatform,
    ChatTarget,
    MeetingHostRef,
    MeetingPlatform,
    PaymentState,
)
from bot.ports import OutboxEntry
from storage.sessions import one_connection

from .conftest import run_jobs


@contextmanager
def _statements(core: Core) -> Iterator[list[str]]:
    sent: list[str] = []

    def keep(_c: object, _k: object, sql: str, *_rest: object) -> None:
        sent.append(" ".join(sql.split()))

    event.listen(core.engine, "before_cursor_execute", keep)
    try:
        yield sent
    finally:
        event.remove(core.engine, "before_cursor_execute", keep)


def _deliver(web: str, world: SandboxWorld, demo: Demo, booking: dict[str, object]) -> None:
    body = world.simplybook.callback(demo.login, str(booking["id"]), "create")
    answer = httpx.post(f"{web}/webhooks/simplybook/{demo.webhook_token}", json=body, timeout=30)
    assert answer.status_code == 202


def _count(sent: list[str], pattern: str) -> int:
    return sum(1 for sql in sent if re.match(pattern, sql))


def _the_jobs_own(sent: list[str]) -> list[str]:
    """From the claim to the finish (what the worker does after a job is not the job's)."""
    finish = next(n for n, sql in enumerate(sent) if re.match(r"UPDATE job .*finished_at", sql))
    return sent[: finish + 1]


DETAILS = BookingDetails(
    external_id="B-1",
    code="",
    service_id="1",
    service_name="Yoga",
    provider_id="1",
    provider_name="Ana",
    client_name="Client",
    client_email="",
    client_phone="",
    start=datetime(2030, 1, 1, 10, tzinfo=UTC),
    end=datetime(2030, 1, 1, 11, tzinfo=UTC),
    status=BookingStatus.CONFIRMED,
    payment=PaymentState.PENDING,
)

# Each statement costs about 0.1 ms of CPU: the count is kept from growing unnoticed.
NEW_BOOKING_STATEMENTS = {"postgresql": 11, "sqlite": 17}


def test_a_new_booking_reads_its_company_once_looks_for_no_meeting_and_notes_no_problem(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    _deliver(web, world, demo, book(world, demo))
    with _statements(core) as sent:
        run_jobs(core)

    assert len(world.slack.messages(demo.channel_id)) == 1
    assert _count(sent, r"SELECT company\..* FROM company ") == 1
    assert _count(sent, r"SELECT meeting\..* FROM meeting JOIN seat") == 0, "first seen: none"
    assert _count(sent, r"SELECT seat\.") == 0, "the created meeting keeps the tokens it had"
    assert _count(sent, r"SELECT notification\.") == 0, "a new meeting has no message yet"
    assert _count(sent, r"UPDATE booking SET problem") == 0, "no problem before, none now"
    own = _the_jobs_own(sent)
    assert len(own) == NEW_BOOKING_STATEMENTS[core.engine.dialect.name], "\n".join(own)


def test_a_home_opened_in_another_company_queues_no_refresh_here(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    other = core.companies.start_company(
        actor=Actor(ChatPlatform.SLACK, "T-other", "U-admin", True), name="Other studio"
    )
    core.home.remember_viewer(
        company_id=other.id, viewer=Actor(ChatPlatform.SLACK, "T-other", "U-admin", True)
    )
    _deliver(web, world, demo, book(world, demo))
    with _statements(core) as sent:
        run_jobs(core)

    assert len(world.slack.messages(demo.channel_id)) == 1
    assert _count(sent, r"INSERT INTO job") == 0, "nobody opened this company's Home"


def test_a_held_booking_is_released_when_its_problem_is_gone(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    booking = book(world, demo)
    _deliver(web, world, demo, booking)
    run_jobs(core)
    saved = core.booking_records.booking(company_id=demo.company_id, external_id=str(booking["id"]))
    assert saved is not None
    core.booking_records.note_booking_problem(booking_id=saved[0].id, problem="held by a test")

    _deliver(web, world, demo, booking)
    run_jobs(core)

    again = core.booking_records.booking(company_id=demo.company_id, external_id=str(booking["id"]))
    assert again is not None and again[1] is None


def test_a_saved_booking_carries_the_problem_last_noted(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    booking = book(world, demo)
    _deliver(web, world, demo, booking)
    run_jobs(core)
    found = core.booking_records.booking(company_id=demo.company_id, external_id=str(booking["id"]))
    assert found is not None
    core.booking_records.note_booking_problem(booking_id=found[0].id, problem="no channel")

    saved, first = core.booking_records.save_booking(
        company_id=demo.company_id, details=found[0].details
    )

    assert saved.problem == "no channel" and not first


def test_a_company_fed_only_by_a_webhook_has_no_credentials_to_decrypt(
    core: Core, demo: Demo
) -> None:
    generic = core.companies.start_company(
        actor=Actor(ChatPlatform.SLACK, "T-generic", "U-admin", True), name="Generic studio"
    )

    assert core.companies.company_with_credentials(company_id=generic.id) == (generic, None)
    company, credentials = core.companies.company_with_credentials(company_id=demo.company_id)
    assert company.id == demo.company_id
    assert credentials is not None and credentials.company_login == demo.login


def test_a_save_queues_a_home_refresh_only_when_the_status_or_payment_changed(
    core: Core, demo: Demo
) -> None:
    viewer = Actor(ChatPlatform.SLACK, demo.team_id, "U-viewer", False)
    core.home.remember_viewer(company_id=demo.company_id, viewer=viewer)
    details = DETAILS

    def refreshes_after(saved: BookingDetails) -> int:
        core.booking_records.save_booking(company_id=demo.company_id, details=saved)
        return len(core.queue.jobs(kind="refresh_home"))

    _booking, first = core.booking_records.save_booking(company_id=demo.company_id, details=details)
    assert first and refreshes_after(details) == 0, "a new booking: its meeting refreshes Home"
    assert refreshes_after(replace(details, client_name="Renamed")) == 0
    assert refreshes_after(replace(details, payment=PaymentState.PAID)) == 1


def test_a_new_meetings_first_message_meets_one_recorded_meanwhile(core: Core, demo: Demo) -> None:
    """The job records a new meeting's first message without looking for one; another process's
    intent recorded meanwhile is still found, through the unique key."""
    booking, _first = core.booking_records.save_booking(company_id=demo.company_id, details=DETAILS)
    host = MeetingHostRef(MeetingPlatform.ZOOM, "account", "host@example.com")
    target = ChatTarget(ChatPlatform.SLACK, demo.team_id, "C-channel")
    elsewhere: list[tuple[OutboxEntry, bool]] = []
    with one_connection(core.engine):
        meeting, _new = core.meetings.ensure_meeting(
            booking=booking, host=host, marker_prefix="test"
        )
        another_process = threading.Thread(  # a thread of its own: outside the job's context
            target=lambda: elsewhere.append(
                core.outbox.ensure_meeting_message(meeting=meeting, target=target)
            )
        )
        another_process.start()
        another_process.join()
        here = core.outbox.ensure_meeting_message(meeting=meeting, target=target)

    assert elsewhere[0][1] is True, "the other process recorded the intent"
    assert here == (elsewhere[0][0], False), "the job adopts it, and looks for its post"
