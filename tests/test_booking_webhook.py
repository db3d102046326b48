"""The generic booking webhook over HTTP (issue 17): a signed event makes one meeting and one
message; redeliveries, bursts and events out of order end in the latest state, exactly once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.bootstrap import Core
from app.sandbox import Demo, SandboxWorld, book, message_as_text
from app.webhook_example import signed
from bot.domain.booking_events import in_namespace
from storage.tables import BookingEventRow, BookingRow, JobRow, MeetingRow, NotificationRow

from .booking_webhook_sender import BookingSender, connected_sender, in_days
from .conftest import count_rows, run_jobs


@pytest.fixture
def sender(core: Core, demo: Demo, web: str) -> BookingSender:
    return connected_sender(core, demo, web)


def _one_meeting_one_message(core: Core, world: SandboxWorld, demo: Demo) -> str:
    assert world.zoom.created_count() == 1
    assert len(world.zoom.live_meetings()) == 1
    [message] = world.slack.messages(demo.channel_id)
    assert count_rows(core, MeetingRow) == 1 and count_rows(core, NotificationRow) == 1
    return message_as_text(message)


def test_a_signed_booking_created_makes_one_meeting_and_one_message_with_both_links(
    core: Core, demo: Demo, world: SandboxWorld, sender: BookingSender
) -> None:
    answer = sender.post(sender.event("web-1"))
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"ok": True, "reason": "queued"}

    run_jobs(core)

    text = _one_meeting_one_message(core, world, demo)
    assert "/m/" in text and "/h/" in text, "the client's link and the provider's link"
    assert "Grace Hopper" in text


def test_the_same_webhook_id_five_times_is_one_event_one_job_one_meeting(
    core: Core, demo: Demo, world: SandboxWorld, sender: BookingSender
) -> None:
    body, headers = signed(sender.event("web-2"), secret=sender.secret, now=core.clock.now())

    statuses = [sender.resend(body, headers) for _ in range(5)]

    assert statuses == [202, 200, 200, 200, 200]
    assert count_rows(core, BookingEventRow) == 1 and count_rows(core, JobRow) == 1
    run_jobs(core)
    _one_meeting_one_message(core, world, demo)


def test_the_same_webhook_id_twenty_times_concurrently_is_one(
    core: Core, demo: Demo, world: SandboxWorld, sender: BookingSender
) -> None:
    body, headers = signed(sender.event("web-3"), secret=sender.secret, now=core.clock.now())

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(lambda _: sender.resend(body, headers), range(20)))

    assert sorted(statuses) == [200] * 19 + [202]
    assert count_rows(core, BookingEventRow) == 1 and count_rows(core, JobRow) == 1
    run_jobs(core)
    _one_meeting_one_message(core, world, demo)


def test_an_update_with_a_new_time_moves_the_meeting_and_a_cancel_cancels_it(
    core: Core, demo: Demo, world: SandboxWorld, sender: BookingSender
) -> None:
    assert sender.post(sender.event("web-4", sequence=1)).status_code == 202
    run_jobs(core)
    [meeting] = world.zoom.live_meetings()

    later = in_days(4, hour=13)
    moved = sender.event("web-4", sequence=2, event_type="booking.updated", start=later, minutes=45)
    assert sender.post(moved).status_code == 202
    run_jobs(core)

    found = world.zoom.meeting(meeting["id"])
    assert found is not None and found["duration"] == 45
    assert found["start_time"] == later.strftime("%Y-%m-%dT%H:%M:%SZ")
    message = world.slack.messages(demo.channel_id)[0]
    local = later.astimezone(ZoneInfo("Europe/Kyiv"))
    assert f"{local:%H:%M}–{local + timedelta(minutes=45):%H:%M}" in message_as_text(message)

    cancel = sender.event("web-4", sequence=3, event_type="booking.cancelled", start=later)
    assert sender.post(cancel).status_code == 202
    run_jobs(core)

    assert world.zoom.live_meetings() == []
    assert "Cancelled" in message_as_text(world.slack.messages(demo.channel_id)[0])
    assert world.zoom.created_count() == 1


@pytest.mark.parametrize(
    "order",
    [(3, 2, 1), (1, 3, 2), (2, 1, 3)],
    ids=["cancel-update-create", "create-cancel-update", "update-create-cancel"],
)
def test_events_out_of_order_end_in_the_latest_state_with_at_most_one_meeting(
    core: Core, demo: Demo, world: SandboxWorld, sender: BookingSender, order: tuple[int, ...]
) -> None:
    events = {
        1: sender.event("web-5", sequence=1),
        2: sender.event("web-5", sequence=2, event_type="booking.updated", start=in_days(5)),
        3: sender.event("web-5", sequence=3, event_type="booking.cancelled", start=in_days(5)),
    }
    for sequence in order:
        answer = sender.post(events[sequence])
        assert answer.status_code in (200, 202), answer.text
        run_jobs(core)

    assert world.zoom.created_count() <= 1
    assert world.zoom.live_meetings() == []
    state = core.booking_webhooks.latest_event(
        company_id=demo.company_id, source_id=sender.source_id, booking_id="web-5"
    )
    assert state is not None and state.sequence == 3


def test_an_older_sequence_changes_nothing_and_says_so(
    core: Core, demo: Demo, world: SandboxWorld, sender: BookingSender
) -> None:
    later = in_days(6, hour=12)
    assert sender.post(sender.event("web-6", sequence=7, start=later)).status_code == 202
    stale = sender.post(sender.event("web-6", sequence=6, start=in_days(2)))
    run_jobs(core)

    assert stale.status_code == 200 and "nothing changes" in stale.json()["reason"]
    [meeting] = world.zoom.live_meetings()
    assert meeting["start_time"] == later.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert count_rows(core, BookingEventRow) == 2, "both are kept for audit"


def test_services_and_providers_first_seen_in_events_start_with_online_meetings_off(
    core: Core, demo: Demo, world: SandboxWorld, web: str, sender: BookingSender
) -> None:
    event = sender.event("web-7")
    event["data"]["service"] = {"id": "pilates", "name": "Pilates online", "is_class": False}
    event["data"]["provider"] = {"id": "taras", "name": "Taras Bondar", "email": "t@x.test"}
    assert sender.post(event).status_code == 202
    run_jobs(core)

    own = partial(in_namespace, sender.source_id)
    service = core.catalog.service(company_id=demo.company_id, external_id=own("pilates"))
    provider = core.catalog.provider(company_id=demo.company_id, external_id=own("taras"))
    assert service is not None and not service.online_meetings, "S5: off until enabled"
    assert provider is not None and provider.name == "Taras Bondar"
    assert world.zoom.created_count() == 0


def test_a_company_fed_by_simplybook_and_a_webhook_with_the_same_ids_keeps_both_bookings(
    core: Core, demo: Demo, world: SandboxWorld, web: str, sender: BookingSender
) -> None:
    simplybook = book(world, demo, client_name="Iryna", starts_in=timedelta(days=2))
    callback = world.simplybook.callback(demo.login, simplybook["id"])
    webhook = sender.event(str(simplybook["id"]))  # the same booking id, service "1", provider "1"
    assert webhook["data"]["service"]["id"] == demo.service_id

    assert httpx.post(f"{web}/webhooks/simplybook/{demo.webhook_token}", json=callback).is_success
    assert sender.post(webhook).status_code == 202
    run_jobs(core)

    assert world.zoom.created_count() == 2 and count_rows(core, BookingRow) == 2
    texts = [message_as_text(message) for message in world.slack.messages(demo.channel_id)]
    assert len(texts) == 2 and any("Iryna" in t for t in texts)
    assert any("Grace Hopper" in t for t in texts)
    with Session(core.engine) as session:
        rows = session.scalars(select(BookingRow)).all()
    by_code = {row.booking_hash.startswith("webhook-source:"): row for row in rows}
    assert by_code[True].code == str(simplybook["id"]), "chat shows the sender's own id"
    assert by_code[False].booking_hash == callback["booking_hash"], "SimplyBook.me's stays its own"
    assert by_code[False].client_name == "Iryna" and by_code[True].client_name == "Grace Hopper"
    service = core.catalog.service(company_id=demo.company_id, external_id=demo.service_id)
    assert service is not None and service.online_meetings, "SimplyBook.me's service is untouched"
