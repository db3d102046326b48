"""The booking's meeting on Zoom or Teams: created once, moved with the booking, deleted with it.

Zoom's create has no idempotency key, so the meeting is recorded as intended (state CREATING, with
a marker of its own) before it is created, the marker goes into the meeting's agenda, and a retry
after an ambiguous failure looks for the marker among the host's meetings before creating again.
"""

from __future__ import annotations

from bot.domain import (
    Booking,
    Meeting,
    MeetingHostRef,
    MeetingRequest,
    MeetingState,
    Provider,
    Service,
)
from bot.errors import MeetingGone
from bot.usecases.class_meetings import class_key
from bot.usecases.sync_deps import NeedsAttention, SyncDeps

MARKER_PREFIX = "meetbot-ref"


async def ensure_platform_meeting(
    deps: SyncDeps,
    booking: Booking,
    service: Service,
    provider: Provider,
    host: MeetingHostRef,
    known: Meeting | None,
) -> Meeting:
    """`known` is the booking's meeting as this job read it (None: it had none)."""
    meeting, intent_is_new = known, False
    if meeting is None:
        key = class_key(booking) if service.is_class else None
        meeting, intent_is_new = deps.meetings.ensure_meeting(
            booking=booking, host=host, marker_prefix=MARKER_PREFIX, class_key=key
        )
    if meeting.state is not MeetingState.CREATING:
        return meeting
    # A class whose first booking's job stopped half-way is finished by whichever booking has the
    # class's turn now; it looks first, as that job may have created the meeting.
    look_first = not intent_is_new or meeting.booking_id != booking.id
    return await _create_on_platform(
        deps, booking, service, provider, meeting, look_first=look_first
    )


async def _create_on_platform(
    deps: SyncDeps,
    booking: Booking,
    service: Service,
    provider: Provider,
    meeting: Meeting,
    *,
    look_first: bool,
) -> Meeting:
    platform = deps.platforms[meeting.host.platform]
    request = _meeting_request(booking, service, provider, meeting)
    found = None
    if look_first:  # an earlier attempt may have created it before failing
        found = await platform.find_meeting(
            host=meeting.host, marker=meeting.marker, start=meeting.start, request=request
        )
    created = found or await platform.create_meeting(host=meeting.host, request=request)
    return deps.meetings.record_meeting_created(meeting=meeting, created=created)


async def follow_time(
    deps: SyncDeps, booking: Booking, service: Service, provider: Provider, meeting: Meeting
) -> tuple[Meeting, bool]:
    """A rescheduled booking moves its meeting; the links stay the same."""
    details = booking.details
    if (meeting.start, meeting.end) == (details.start, details.end) or meeting.external_id is None:
        return meeting, False
    if meeting.class_key is not None:  # the class keeps its time for the other clients
        raise NeedsAttention(
            f"booking {details.code or details.external_id} moved away from its group class; "
            "the class meeting keeps its time (cancel and re-book to join another class)"
        )
    platform = deps.platforms[meeting.host.platform]
    try:
        await platform.move_meeting(
            host=meeting.host,
            external_id=meeting.external_id,
            start=details.start,
            duration_minutes=details.duration_minutes,
        )
    except MeetingGone:  # deleted on the platform meanwhile: a new one, behind the same links
        restarted = deps.meetings.restart_meeting(
            meeting_id=meeting.id, marker_prefix=MARKER_PREFIX, start=details.start, end=details.end
        )
        return await _create_on_platform(
            deps, booking, service, provider, restarted, look_first=False
        ), True
    return deps.meetings.record_meeting_moved(
        meeting_id=meeting.id, start=details.start, end=details.end
    ), True


async def delete_on_platform(deps: SyncDeps, meeting: Meeting) -> Meeting:
    platform = deps.platforms[meeting.host.platform]
    if meeting.external_id is not None:
        await platform.delete_meeting(host=meeting.host, external_id=meeting.external_id)
    elif meeting.state is MeetingState.CREATING:  # an earlier attempt may have created it
        found = await platform.find_meeting(
            host=meeting.host, marker=meeting.marker, start=meeting.start
        )
        if found is not None:
            await platform.delete_meeting(host=meeting.host, external_id=found.external_id)
    return deps.meetings.record_meeting_cancelled(meeting_id=meeting.id)


def _meeting_request(
    booking: Booking, service: Service, provider: Provider, meeting: Meeting
) -> MeetingRequest:
    details = booking.details
    is_class = meeting.class_key is not None
    client = "group class" if is_class else details.client_name or "client"
    what = (
        f"Group class with {provider.name}"
        if is_class
        else (f"Booking {details.code or details.external_id} with {provider.name}")
    )
    return MeetingRequest(
        topic=f"{service.name} – {client}"[:200],
        start=meeting.start,
        duration_minutes=details.duration_minutes,
        timezone="UTC",
        agenda=f"{what}.\n{meeting.marker}",
        marker=meeting.marker,
        registration=is_class,
    )
