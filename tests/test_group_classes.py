"""Group classes (S7): bookings of one class share one meeting, each client has a link of their
own (a Zoom registration), and the provider gets one message listing the seats."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from app.bootstrap import Core
from app.sandbox import Demo, SandboxWorld, add_class_service, book_seat, message_as_text

from .conftest import run_jobs
from .harness import deliver

CLASS_SERVICE = "3"


@pytest.fixture
def with_class(core: Core, demo: Demo, world: SandboxWorld) -> Demo:
    add_class_service(core, world, demo, service_id=CLASS_SERVICE)
    return demo


def _seat_links(message: dict[str, Any], web: str) -> dict[str, str]:
    text = message_as_text(message)
    found = re.findall(r"• (\w+) \(\w+\): (http://meetbot\.test/m/[\w-]+)", text)
    return {client: link.replace("http://meetbot.test", web) for client, link in found}


def test_a_class_of_three_shares_one_meeting_with_a_link_each(
    core: Core, with_class: Demo, world: SandboxWorld, web: str
) -> None:
    demo = with_class
    start = (datetime.now(ZoneInfo("Europe/Kyiv")) + timedelta(minutes=5)).replace(
        second=0, microsecond=0
    )
    bookings = [book_seat(world, demo, start, name) for name in ("Iryna", "Petro", "Oksana")]
    for booking in bookings:
        deliver(web, world, demo, booking["id"], "create")
    run_jobs(core)

    [meeting] = world.zoom.live_meetings()
    assert meeting["settings"]["approval_type"] == 0, "registration on, approved automatically"
    registrants = {r["email"]: r for r in world.zoom.meeting(meeting["id"])["registrants"]}
    assert len(registrants) == 3
    [message] = world.slack.messages(demo.channel_id)
    assert message_as_text(message).startswith("Group class: Group yoga")
    assert "Seats: 3" in message_as_text(message)
    links = _seat_links(message, web)
    assert set(links) == {"Iryna", "Petro", "Oksana"} and len(set(links.values())) == 3
    for client, link in links.items():
        target = httpx.get(link).headers["location"]
        registrant = registrants[f"{client.lower()}@example.test"]
        assert target.endswith(f"/w/{meeting['id']}?tk={registrant['token']}"), (
            "the client's own registration, leading to the one meeting"
        )

    world.simplybook.update_booking(demo.login, bookings[1]["id"], status="cancelled")
    deliver(web, world, demo, bookings[1]["id"], "cancel")
    run_jobs(core)

    assert [m["id"] for m in world.zoom.live_meetings()] == [meeting["id"]], "the class goes on"
    [message] = world.slack.messages(demo.channel_id)
    assert "Seats: 2" in message_as_text(message) and "Petro" not in message_as_text(message)
    assert len(message["edits"]) >= 1, "the same message, edited"
    assert httpx.get(links["Petro"]).status_code == 410
    for client in ("Iryna", "Oksana"):
        assert httpx.get(links[client]).status_code == 303
    statuses = {r["email"]: r["status"] for r in world.zoom.meeting(meeting["id"])["registrants"]}
    assert statuses["petro@example.test"] == "denied", "the seat is cancelled on Zoom too"
    assert world.zoom.created_count() == 1


def test_the_class_meeting_goes_when_its_last_seat_does(
    core: Core, with_class: Demo, world: SandboxWorld, web: str
) -> None:
    demo = with_class
    start = (datetime.now(ZoneInfo("Europe/Kyiv")) + timedelta(days=1)).replace(
        hour=18, minute=0, second=0, microsecond=0
    )
    bookings = [book_seat(world, demo, start, name) for name in ("Iryna", "Petro")]
    for booking in bookings:
        deliver(web, world, demo, booking["id"], "create")
    run_jobs(core)
    for booking in bookings:
        world.simplybook.update_booking(demo.login, booking["id"], status="cancelled")
        deliver(web, world, demo, booking["id"], "cancel")
    run_jobs(core)
    assert world.zoom.live_meetings() == []
    message, told = world.slack.messages(demo.channel_id)
    assert message_as_text(message).startswith("Cancelled: Group yoga")
    assert told["thread_ts"] == message["ts"] and told["reply_broadcast"], "the last seat tells"

    again = book_seat(world, demo, start, "Oksana")
    deliver(web, world, demo, again["id"], "create")
    run_jobs(core)
    assert len(world.zoom.live_meetings()) == 1, "a new booking of the class opens a new meeting"


def test_a_class_booking_moved_to_another_time_is_held_not_lost(
    core: Core, with_class: Demo, world: SandboxWorld, web: str
) -> None:
    demo = with_class
    start = (datetime.now(ZoneInfo("Europe/Kyiv")) + timedelta(days=1)).replace(
        hour=18, minute=0, second=0, microsecond=0
    )
    booking = book_seat(world, demo, start, "Iryna")
    deliver(web, world, demo, booking["id"], "create")
    run_jobs(core)
    later = start + timedelta(days=1)
    world.simplybook.update_booking(
        demo.login,
        booking["id"],
        start=f"{later:%Y-%m-%d %H:%M:%S}",
        end=f"{later + timedelta(hours=1):%Y-%m-%d %H:%M:%S}",
    )
    deliver(web, world, demo, booking["id"], "change")
    run_jobs(core)
    assert {job.state for job in core.queue.jobs(kind="sync_booking")} == {"done"}
    held = core.booking_records.booking(company_id=demo.company_id, external_id=booking["id"])
    assert held is not None and "moved away from its group class" in (held[1] or "")
    assert len(world.zoom.live_meetings()) == 1, "the class keeps its time for the others"
