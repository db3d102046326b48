"""Reconciling one booking, decision by decision, with every port in memory: what is created,
posted, moved, cancelled or held, and how a retry after a crash finishes the work without doing
any of it twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.domain import Actor, AlertKind, BookingStatus, ChatPlatform, MeetingPlatform, MeetingState
from bot.errors import (
    BookingUnknown,
    ChatChannelUnavailable,
    MeetingAccountRevoked,
    MeetingGone,
    OutcomeUnknown,
    PermanentFailure,
)
from bot.messages import Mentioned
from bot.usecases.reminders import remind
from tests.core.booking_world import ADMIN, CHANNEL, EPOCH, START, STUDIO, World
from tests.core.fakes import FakeClock


@pytest.fixture
def world(clock: FakeClock) -> World:
    return World(clock)


def test_a_new_booking_gets_one_meeting_and_one_message(world: World) -> None:
    assert world.sync() == "meeting created and provider notified"
    assert len(world.zoom.meetings) == 1
    [sent] = world.chat.messages
    assert sent.target == CHANNEL and sent.message.title == "Online meeting: Yoga"
    assert world.meeting_state() is MeetingState.SCHEDULED
    assert world.problem() is None


def test_the_message_carries_meetbots_own_links_not_the_platforms(world: World) -> None:
    world.sync()
    [sent] = world.chat.messages
    urls = [button.url for button in sent.message.buttons]
    assert all(url.startswith("https://meetbot.example/") for url in urls)
    assert not any("zoom.example" in url for url in urls)


def test_a_reminder_is_queued_for_the_opening_time(world: World) -> None:
    world.sync()
    [(_, at)] = world.records.records.reminders
    assert at == START - timedelta(minutes=STUDIO.open_minutes_before)


def test_a_booking_inside_the_opening_window_gets_no_reminder(world: World) -> None:
    world.change(start=EPOCH + timedelta(minutes=5), end=EPOCH + timedelta(minutes=65))
    world.sync()
    assert world.records.records.reminders == []


def test_running_again_with_nothing_changed_does_nothing(world: World) -> None:
    world.sync()
    assert world.sync() == "meeting and message already in place"
    assert len(world.zoom.meetings) == 1
    assert len(world.chat.messages) == 1 and world.chat.edits == []


def test_a_meeting_created_whose_answer_was_lost_is_found_not_made_again(world: World) -> None:
    world.zoom.lose_next_answer(OutcomeUnknown("timed out"))
    with pytest.raises(OutcomeUnknown):
        world.sync()
    assert world.meeting_state() is MeetingState.CREATING  # the intent, recorded before
    world.sync()
    assert len(world.zoom.meetings) == 1
    assert [call.split()[0] for call in world.zoom.calls] == ["create", "find"]
    assert world.meeting_state() is MeetingState.SCHEDULED


def test_a_message_posted_whose_answer_was_lost_is_found_not_posted_again(world: World) -> None:
    world.chat.lose_next_answer(OutcomeUnknown("timed out"))
    with pytest.raises(OutcomeUnknown):
        world.sync()
    world.sync()
    assert len(world.chat.messages) == 1
    [entry] = world.outbox.entries.values()
    assert entry.message_id == world.chat.messages[0].message_id


def test_a_post_that_failed_before_reaching_the_chat_is_made_on_the_retry(world: World) -> None:
    world.chat.fail_next(OutcomeUnknown("connection refused"))
    with pytest.raises(OutcomeUnknown):
        world.sync()
    assert world.chat.messages == []
    world.sync()
    assert len(world.chat.messages) == 1
    assert len(world.zoom.meetings) == 1  # the meeting was made once, on the first run


def test_a_rescheduled_booking_moves_the_meeting_edits_the_message_and_says_so(
    world: World,
) -> None:
    world.sync()
    later = START + timedelta(hours=3)
    world.change(start=later, end=later + timedelta(hours=1))
    outcome = world.sync()
    assert outcome.startswith("meeting moved to the new time")
    [request] = world.zoom.meetings.values()
    assert request.start == later
    assert len(world.chat.edits) == 1
    [reply] = [sent for sent in world.chat.messages if sent.thread_id]
    assert reply.message.title == "Rescheduled"
    assert reply.thread_id == world.chat.messages[0].message_id


def _tie(world: World, platform: ChatPlatform, workspace: str, user: str) -> None:
    world.records.staff.tie_staff(
        company_id="c1",
        actor=Actor(platform, workspace, user),
        user_id=user,
        provider_external_id="p1",
    )


def test_a_move_and_a_cancel_mention_the_providers_staff_in_that_chat_and_are_broadcast(
    world: World,
) -> None:
    _tie(world, ChatPlatform.SLACK, "T1", "U-olena")
    _tie(world, ChatPlatform.SLACK, "T-other", "U-elsewhere")  # another workspace: not there
    _tie(world, ChatPlatform.TEAMS, "tenant", "aad-olena")  # another chat: not there
    world.sync()
    world.change(start=START + timedelta(hours=3), end=START + timedelta(hours=4))
    world.sync()
    world.change(status=BookingStatus.CANCELLED)
    world.sync()
    world.sync()  # repeated: nothing more is said
    replies = [sent.message for sent in world.chat.messages if sent.thread_id]
    assert [reply.title for reply in replies] == ["Rescheduled", "Cancelled: Yoga"]
    for reply in replies:
        assert reply.mentions == (Mentioned("U-olena", "Olena"),) and reply.broadcast


def test_without_staff_the_replies_go_out_mentioning_nobody(world: World) -> None:
    world.sync()
    world.change(status=BookingStatus.CANCELLED)
    world.sync()
    [reply] = [sent.message for sent in world.chat.messages if sent.thread_id]
    assert reply.mentions == () and reply.broadcast


def test_a_booking_over_before_meetbot_heard_of_it_gets_no_meeting_and_one_notice(
    world: World, clock: FakeClock
) -> None:
    clock.at = START + timedelta(hours=2)
    assert world.sync() == "the booking had already ended; no meeting made, the provider was told"
    assert world.sync().startswith("the booking had already ended")
    assert world.zoom.meetings == {} and world.records.records.meetings == {}
    [notice] = world.chat.messages
    assert notice.target == CHANNEL and notice.message.title == "Too late for a meeting: Yoga"


def test_an_ended_booking_whose_channel_is_unusable_is_told_to_the_admins_once(
    world: World, clock: FakeClock
) -> None:
    clock.at = START + timedelta(hours=2)
    world.outbox.inboxes["c1"] = [ADMIN]
    archived = ChatChannelUnavailable("the channel is archived", code="is_archived")
    world.chat.fail_next(archived)

    said = world.sync()
    world.chat.fail_next(archived)
    world.sync()  # run again, the channel still archived: the admins are not told twice

    assert said.startswith("the booking had already ended; no meeting made; ")
    assert said.endswith("so 1 admin(s) were told instead")
    [notice] = world.chat.messages
    assert notice.target == ADMIN
    assert notice.message.title == "For Olena: Too late for a meeting: Yoga"
    [alert] = world.alerts.open_alerts(company_id="c1")
    assert alert.spec.kind is AlertKind.CHANNEL_UNUSABLE


def test_an_ended_booking_with_no_channel_and_no_admin_says_nobody_was_told(
    world: World, clock: FakeClock
) -> None:
    clock.at = START + timedelta(hours=2)
    world.set_provider(channel=None)

    said = world.sync()

    assert "the provider was told" not in said
    assert said == (
        "the booking had already ended; no meeting made, and nobody was told: no channel is "
        "chosen for Olena's bookings, and no admin could be reached"
    )
    assert world.chat.messages == []


def test_a_meeting_deleted_on_the_platform_is_made_again_behind_the_same_links(
    world: World,
) -> None:
    world.sync()
    [meeting] = world.records.records.meetings.values()
    world.zoom.meetings.clear()  # someone deleted it in Zoom
    world.change(start=START + timedelta(hours=2), end=START + timedelta(hours=3))
    world.sync()
    [again] = world.records.records.meetings.values()
    assert len(world.zoom.meetings) == 1
    assert (again.client_token, again.host_token) == (meeting.client_token, meeting.host_token)
    assert again.external_id != meeting.external_id


def test_a_changed_booking_edits_the_message_in_place(world: World) -> None:
    world.sync()
    world.change(client_name="Ann Smith")
    assert world.sync() == "provider's message updated"
    assert len(world.chat.posts_to(CHANNEL)) == 1
    [(_, edited)] = world.chat.edits
    assert any(fact.value == "Ann Smith" for fact in edited.facts)


def test_a_message_a_person_deleted_is_posted_again_when_the_booking_changes(
    world: World,
) -> None:
    world.sync()
    world.chat.deleted.add(world.chat.messages[0].message_id)
    world.change(client_name="Ann Smith")
    assert world.sync() == "the provider's message had been deleted; posted again"
    assert len(world.chat.posts_to(CHANNEL)) == 2


def test_a_cancelled_booking_deletes_the_meeting_and_marks_the_message(world: World) -> None:
    world.sync()
    world.change(status=BookingStatus.CANCELLED)
    assert world.sync() == "booking cancelled; meeting deleted, 1 message(s) updated, 1 told"
    assert world.zoom.meetings == {}
    assert world.meeting_state() is MeetingState.CANCELLED
    [(_, edited)] = world.chat.edits
    assert edited.title == "Cancelled: Yoga"


def test_a_booking_cancelled_before_any_meeting_needs_nothing(world: World) -> None:
    world.change(status=BookingStatus.CANCELLED)
    assert world.sync() == "booking is cancelled; no meeting to cancel"
    assert world.zoom.calls == [] and world.chat.messages == []


def test_a_cancel_after_a_create_whose_answer_was_lost_deletes_what_was_made(
    world: World,
) -> None:
    world.zoom.lose_next_answer(OutcomeUnknown("timed out"))
    with pytest.raises(OutcomeUnknown):
        world.sync()
    world.change(status=BookingStatus.CANCELLED)
    world.sync()
    assert world.zoom.meetings == {}
    assert world.meeting_state() is MeetingState.CANCELLED


@pytest.mark.parametrize(
    ("setup", "outcome"),
    [
        (
            lambda w: w.records.companies.set_online_meetings(company_id="c1", enabled=False),
            "online meetings are off for this company",
        ),
        (
            lambda w: w.records.catalog.set_service_online(
                company_id="c1", external_id="s1", enabled=False
            ),
            "service 'Yoga' does not have online meetings enabled",
        ),
    ],
    ids=["company switched off", "service switched off"],
)
def test_no_meeting_where_online_meetings_are_off(
    world: World, setup: object, outcome: str
) -> None:
    setup(world)  # type: ignore[operator]
    assert world.sync() == outcome
    assert world.zoom.calls == [] and world.chat.messages == []


@pytest.mark.parametrize(
    ("provider_changes", "alert_kind", "problem"),
    [
        ({"platform": None}, AlertKind.PROVIDER_UNMAPPED, "has no meeting platform chosen"),
        ({"zoom_user": None}, AlertKind.PROVIDER_UNMAPPED, "has no Zoom host user chosen"),
        (
            {"platform": MeetingPlatform.TEAMS},
            AlertKind.PROVIDER_UNMAPPED,
            "not set up on this server",
        ),
    ],
    ids=["no platform", "no zoom user", "teams not configured"],
)
def test_an_incomplete_set_up_holds_the_booking_and_alerts_the_admins(
    world: World, provider_changes: dict[str, object], alert_kind: AlertKind, problem: str
) -> None:
    world.set_provider(**provider_changes)
    world.sync()
    assert problem in (world.problem() or "")
    [alert] = world.alerts.open_alerts(company_id="c1")
    assert alert.spec.kind is alert_kind and alert.bookings == ("AB12",)
    assert world.zoom.calls == [] and world.chat.messages == []


def test_no_zoom_account_holds_the_booking(world: World) -> None:
    world.records.zoom_accounts.disconnect_zoom(company_id="c1")
    world.sync()
    assert world.problem() == "no Zoom account is connected for this company"
    [alert] = world.alerts.open_alerts(company_id="c1")
    assert alert.spec.kind is AlertKind.ACCOUNT_REVOKED


def test_a_booking_unknown_to_the_booking_system_is_alerted_not_retried(world: World) -> None:
    world.source.fail_next(BookingUnknown("no such booking"))
    assert world.sync() == "no such booking"
    [alert] = world.alerts.open_alerts(company_id="c1")
    assert alert.spec.kind is AlertKind.UNKNOWN_BOOKINGS


def test_a_provider_without_a_channel_is_covered_by_the_admins(world: World) -> None:
    world.set_provider(channel=None)
    world.outbox.inboxes["c1"] = [ADMIN]
    outcome = world.sync()
    assert outcome == "provider's channel unusable; delivered to 1 admin(s) by direct message"
    [sent] = world.chat.messages
    assert sent.target == ADMIN and sent.message.title.startswith("For Olena: ")
    assert "the booking went to the admins instead" in (world.problem() or "")


def test_an_unusable_channel_falls_back_to_the_admins(world: World) -> None:
    world.outbox.inboxes["c1"] = [ADMIN]
    world.chat.fail_next(ChatChannelUnavailable("the channel is archived", code="is_archived"))
    world.sync()
    assert [sent.target for sent in world.chat.messages] == [ADMIN]
    [alert] = world.alerts.open_alerts(company_id="c1")
    assert alert.spec.kind is AlertKind.CHANNEL_UNUSABLE


def test_no_channel_and_no_admin_fails_for_good_and_notes_why(world: World) -> None:
    world.set_provider(channel=None)
    with pytest.raises(PermanentFailure, match="no admin is known to tell"):
        world.sync()
    assert "no admin is known to tell" in (world.problem() or "")


def test_the_catalog_is_fetched_only_when_the_booking_names_something_new(world: World) -> None:
    world.sync()
    assert world.source.calls == ["booking_details 1001"]


def test_the_opening_reminder_replies_once_under_the_message(world: World) -> None:
    world.sync()
    [meeting] = world.records.records.meetings.values()
    args = {"company_id": "c1", "meeting_id": meeting.id, "start": meeting.start.isoformat()}
    assert asyncio.run(remind(world.deps(), **args)) == "reminder posted under 1 message(s)"
    asyncio.run(remind(world.deps(), **args))  # the job ran again
    replies = [sent for sent in world.chat.messages if sent.thread_id]
    assert len(replies) == 1 and replies[0].message.title == "Starting soon: Yoga"


def test_a_reminder_for_a_moved_meeting_is_left_to_the_new_one(world: World) -> None:
    world.sync()
    [meeting] = world.records.records.meetings.values()
    stale = (START - timedelta(days=1)).isoformat()
    said = asyncio.run(remind(world.deps(), company_id="c1", meeting_id=meeting.id, start=stale))
    assert said == "the meeting was cancelled or moved; its own reminder is queued"
    assert [sent for sent in world.chat.messages if sent.thread_id] == []


def test_a_meeting_gone_when_the_host_moves_it_is_not_a_failure(world: World) -> None:
    world.sync()
    world.zoom.fail_next(MeetingGone("deleted"))
    world.change(start=START + timedelta(hours=5), end=START + timedelta(hours=6))
    assert world.sync().startswith("meeting moved to the new time")
    assert world.meeting_state() is MeetingState.SCHEDULED


def test_a_cancel_held_by_a_revoked_account_keeps_the_booking_held(world: World) -> None:
    """The problem noted while it was held must still be there when the cancel is held again by
    the same cause: it is what puts the booking on the admins' report."""
    world.sync()
    world.change(status=BookingStatus.CANCELLED)
    world.zoom.fail_next(MeetingAccountRevoked("the Zoom app was removed"))
    held = world.sync()
    assert world.problem() == held
    world.zoom.fail_next(MeetingAccountRevoked("the Zoom app was removed"))
    assert world.sync() == held
    assert world.problem() == held
