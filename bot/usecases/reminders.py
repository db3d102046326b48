"""Replies in a booking's thread: "starting soon" at the opening time, and "moved" on a reschedule.

Each is told once under each posted message of the meeting, even when its job is retried (the
outbox's `reply_once`). A reminder is a job per meeting time: a moved meeting queues its own, and
the old one finds the time changed and does nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain import Company, Meeting, MeetingState
from bot.messages import rescheduled_message, starting_message
from bot.usecases.sync_deps import SyncDeps


def schedule_reminder(deps: SyncDeps, company: Company, meeting: Meeting) -> None:
    opening = meeting.start - timedelta(minutes=company.open_minutes_before)
    if opening > deps.clock.now():  # booked inside the window: the message itself is the notice
        deps.meetings.schedule_reminder(meeting=meeting, at=opening)


async def remind(deps: SyncDeps, *, company_id: str, meeting_id: str, start: str) -> str:
    """At the opening time: a "starting soon" reply with the host link under each message."""
    found = deps.meetings.meeting_with_booking(company_id=company_id, meeting_id=meeting_id)
    if found is None:
        return "the meeting no longer exists"
    meeting, booking = found
    if meeting.state is not MeetingState.SCHEDULED or meeting.start.isoformat() != start:
        return "the meeting was cancelled or moved; its own reminder is queued"
    if deps.clock.now() > meeting.end:
        return "the meeting is over; no reminder"
    details = booking.details
    said = starting_message(
        service_name=details.service_name,
        provider_name=details.provider_name,
        client=details.client_name,
        host_link=deps.links.host_link(meeting.host_token),
    )
    replied = await deps.outbox.reply_under_each(
        meeting=meeting, key=f"starting:{start}", message=said
    )
    return f"reminder posted under {replied} message(s)"


async def tell_moved(
    deps: SyncDeps, company: Company, meeting: Meeting, *, old_start: datetime, old_end: datetime
) -> None:
    """A rescheduled booking: a reply under each of its messages says from when to when."""
    said = rescheduled_message(
        old_start=old_start,
        old_end=old_end,
        start=meeting.start,
        end=meeting.end,
        timezone=company.timezone,
    )
    key = f"moved:{meeting.start.isoformat()}"
    await deps.outbox.reply_under_each(meeting=meeting, key=key, message=said)
