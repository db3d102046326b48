"""Replies in a booking's thread: "starting soon" at the opening time, "moved" on a reschedule and
"cancelled" on a cancellation; and the one notice for a booking that had already ended.

Each reply is told once under each posted message of the meeting, even when its job is retried
(the outbox's `reply_once`), and mentions the provider's staff (`provider NAME staff @user`), as
nobody follows a bot's thread: a mention notifies them, and a move or a cancellation is also shown
in the channel. A reminder is a job per meeting time: a moved meeting queues its own, and the old
one finds the time changed and does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from bot.domain import AlertSpec, Booking, ChatTarget, Company, Meeting, MeetingState, Provider
from bot.errors import ChatAuthRevoked, ChatChannelUnavailable
from bot.messages import (
    ChatMessage,
    Mentioned,
    cancelled_reply,
    ended_message,
    rescheduled_message,
    starting_message,
)
from bot.usecases import alerts
from bot.usecases.sync_deps import SyncDeps, reference

log = logging.getLogger("meetbot.sync")

MentionsFor = Callable[[ChatTarget], tuple[Mentioned, ...]]


def staff_mentions(deps: SyncDeps, booking: Booking) -> MentionsFor:
    """The staff tied to the booking's provider, as people of the chat a reply goes to."""
    details = booking.details
    tied = [
        member
        for member in deps.staff.staff(company_id=booking.company_id)
        if member.provider_external_id == details.provider_id
    ]

    inboxes = set(deps.outbox.admin_inboxes(company_id=booking.company_id)) if tied else set()

    def in_chat(target: ChatTarget) -> tuple[Mentioned, ...]:
        if target in inboxes:  # a copy in an admin's direct message: nobody else reads it
            return ()
        return tuple(
            Mentioned(member.user_id, details.provider_name)
            for member in tied
            if member.platform == target.platform and member.workspace_id == target.workspace_id
        )

    return in_chat


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
        meeting=meeting,
        key=f"starting:{start}",
        message=said,
        mentions=staff_mentions(deps, booking),
    )
    return f"reminder posted under {replied} message(s)"


async def tell_moved(
    deps: SyncDeps,
    company: Company,
    booking: Booking,
    meeting: Meeting,
    *,
    old_start: datetime,
    old_end: datetime,
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
    await deps.outbox.reply_under_each(
        meeting=meeting, key=key, message=said, mentions=staff_mentions(deps, booking)
    )


async def tell_cancelled(
    deps: SyncDeps, company: Company, booking: Booking, meeting: Meeting
) -> int:
    """A cancelled booking: besides the edited message, a reply that notifies its staff."""
    details = booking.details
    said = cancelled_reply(
        service_name=details.service_name,
        client=details.client_name,
        start=meeting.start,
        end=meeting.end,
        timezone=company.timezone,
    )
    return await deps.outbox.reply_under_each(
        meeting=meeting, key="cancelled", message=said, mentions=staff_mentions(deps, booking)
    )


async def tell_ended(deps: SyncDeps, company: Company, booking: Booking, provider: Provider) -> str:
    """A booking that ended before meetbot heard of it gets no meeting; its provider is told so
    once, or, when their channel is not chosen or cannot be used, the admins (as the booking's
    message would be). The note says who was told, and if nobody could be."""
    details = booking.details
    said = ended_message(
        service_name=details.service_name,
        provider_name=provider.name,
        client=details.client_name,
        reference=reference(booking),
        start=details.start,
        end=details.end,
        timezone=company.timezone,
    )
    done = "the booking had already ended; no meeting made"
    if provider.channel is None:
        spec = alerts.provider_without_channel(provider.name, provider.external_id)
        why = f"no channel is chosen for {provider.name}'s bookings"
    else:
        try:
            await _tell_ended_once(deps, company, booking, provider.channel, said)
            return f"{done}, the provider was told"
        except ChatChannelUnavailable as unusable:
            channel_id = provider.channel.channel_id
            spec = alerts.channel_unusable(
                provider.name, provider.external_id, channel_id, str(unusable)
            )
            why = f"{unusable} (the channel chosen for {provider.name})"
    told = await _tell_admins_ended(deps, company, booking, provider, said, spec, why)
    if not told:
        return f"{done}, and nobody was told: {why}, and no admin could be reached"
    return f"{done}; {why}, so {told} admin(s) were told instead"


async def _tell_admins_ended(
    deps: SyncDeps,
    company: Company,
    booking: Booking,
    provider: Provider,
    said: ChatMessage,
    spec: AlertSpec,
    why: str,
) -> int:
    """How many admins were told; the set-up problem is raised for them as for any booking."""
    admins = deps.outbox.admin_inboxes(company_id=company.id)
    if not admins:
        return 0
    deps.alerts.raise_alert(company_id=company.id, spec=spec, booking=reference(booking))
    fallback = replace(
        said,
        title=f"For {provider.name}: {said.title}",
        text=f"{said.text}\nThis could not be told to {provider.name}: {why}. {spec.fix}",
    )
    told = 0
    for admin in admins:
        try:
            await _tell_ended_once(deps, company, booking, admin, fallback)
            told += 1
        except (ChatChannelUnavailable, ChatAuthRevoked) as unreachable:  # try the others
            log.warning("an admin could not be reached: %s", unreachable)
    return told


async def _tell_ended_once(
    deps: SyncDeps, company: Company, booking: Booking, target: ChatTarget, said: ChatMessage
) -> None:
    await deps.outbox.post_once(
        company_id=company.id,
        key=f"ended:{booking.id}:{target.channel_id}",
        target=target,
        message=said,
    )
