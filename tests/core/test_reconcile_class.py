"""Group classes: several bookings share one meeting and one message listing their seats; the jobs
of a class take turns, and the meeting goes only with its last seat. Also: a company's own
template shapes the provider's message."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.domain import BookingStatus, MeetingState
from bot.errors import WaitingForTurn
from bot.messages import Link, Text
from bot.templates import MessageTemplate, TemplateKind, TemplateScope
from tests.core.booking_world import CHANNEL, DETAILS, YOGA, World
from tests.core.fakes import FakeClock


@pytest.fixture
def world(clock: FakeClock) -> World:
    class_world = World(clock)
    class_world.records.records.services[("c1", "s1")] = replace(YOGA, is_class=True)
    class_world.source.bookings["1002"] = replace(
        DETAILS, external_id="1002", code="CD34", client_name="Bea", client_email="bea@example.com"
    )
    return class_world


def test_two_bookings_of_one_class_share_one_meeting_and_one_message(world: World) -> None:
    world.sync("1001")
    world.sync("1002")
    assert len(world.zoom.meetings) == 1
    assert len(world.records.records.meetings) == 1
    [post] = world.chat.posts_to(CHANNEL)
    assert post.message.title == "Group class: Yoga"
    [(message_id, edited)] = world.chat.edits
    assert message_id == post.message_id
    assert [s.text for s in edited.body if isinstance(s, Text)] == [
        "• Ann (AB12): ",
        "\n• Bea (CD34): ",
    ]


def test_each_seat_has_its_own_link_and_registration(world: World) -> None:
    world.sync("1001")
    world.sync("1002")
    seats = world.records.records.seats.values()
    assert len({seat.client_token for seat in seats}) == 2
    assert all(seat.registrant_id for seat in seats)
    [request] = world.zoom.meetings.values()
    assert request.registration  # each client registers for a join URL of their own


def test_a_class_booking_waits_while_another_has_the_classs_turn(world: World) -> None:
    with pytest.raises(WaitingForTurn):
        world.sync("1001", has_turn=False)
    assert world.zoom.calls == [] and world.records.records.meetings == {}


def test_one_cancelled_seat_keeps_the_meeting_for_the_others(world: World) -> None:
    world.sync("1001")
    world.sync("1002")
    world.change("1001", status=BookingStatus.CANCELLED)
    assert world.sync("1001") == "class seat cancelled; 1 seat(s) left, 1 message(s) updated"
    assert len(world.zoom.meetings) == 1
    assert world.zoom.registrants and ("zoom-1", "ann@example.com") not in world.zoom.registrants
    last_edit = world.chat.edits[-1][1]
    assert [s.text for s in last_edit.body if isinstance(s, Text)] == ["• Bea (CD34): "]


def test_the_last_cancelled_seat_deletes_the_class_meeting(world: World) -> None:
    world.sync("1001")
    world.sync("1002")
    for booking in ("1001", "1002"):
        world.change(booking, status=BookingStatus.CANCELLED)
        outcome = world.sync(booking)
    assert outcome == "booking cancelled; meeting deleted, 1 message(s) updated, 1 told"
    assert world.zoom.meetings == {}
    assert world.meeting_state() is MeetingState.CANCELLED


def test_a_booking_moved_away_from_its_class_is_held_not_moved(world: World) -> None:
    world.sync("1001")
    world.sync("1002")
    world.change("1002", start=DETAILS.start.replace(hour=18), end=DETAILS.end.replace(hour=19))
    world.sync("1002")
    problems = world.records.records.booking_problems
    assert any("moved away from its group class" in (p or "") for p in problems.values())
    [request] = world.zoom.meetings.values()
    assert request.start == DETAILS.start  # the class keeps its time for the others


def test_a_company_template_replaces_the_standard_facts(clock: FakeClock) -> None:
    world = World(clock)
    world.templates.save_template(
        company_id="c1",
        template=MessageTemplate(
            TemplateKind.PROVIDER,
            TemplateScope.COMPANY,
            "",
            "[client] joins: [online_meeting_link]",
        ),
        actor="admin",
    )
    world.sync()
    [post] = world.chat.messages
    assert post.message.body[0] == Text("Ann")
    assert isinstance(post.message.body[2], Link)
    assert post.message.body[2].url.startswith("https://meetbot.example/m/")
    assert [fact.label for fact in post.message.facts] == []
