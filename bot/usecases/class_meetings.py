"""Group classes: one meeting and one message for every booking of the same class.

The bookings' jobs take turns on the class (see `TakeTurn`), so each reconciles the class from the
seats the database holds at that moment. Every step can be repeated: a seat whose own job stopped
half-way is registered (or its message updated) by the next booking of the class.
"""

from __future__ import annotations

import logging

from bot.domain import Booking, Company, Meeting
from bot.errors import MeetingPlatformRejected, WaitingForTurn
from bot.messages import ChatMessage, class_message, format_time_range, time_range
from bot.usecases.sync_deps import SyncDeps, TakeTurn

log = logging.getLogger("meetbot.sync")


def class_key(booking: Booking) -> str:
    details = booking.details
    return f"{booking.company_id}|{details.service_id}|{details.provider_id}|{details.start.isoformat()}"


def wait_for_class(take_turn: TakeTurn, key: str) -> None:
    if not take_turn(f"class:{key}"):
        raise WaitingForTurn(
            "another booking of the same group class is being handled", after_seconds=1.0
        )


async def register_seats(deps: SyncDeps, meeting: Meeting) -> None:
    """Each live seat's own registration on platforms that have them (Zoom), from the database's
    seats: a seat whose own job stopped half-way is registered by the next booking of the class."""
    if meeting.external_id is None:
        return
    for seat in deps.seats.seats(meeting=meeting):
        if seat.cancelled or seat.registrant_id or not seat.client_email:
            continue  # registered, or no e-mail to register with: the meeting's own URL is used
        try:
            registered = await deps.platforms[meeting.host.platform].add_registrant(
                host=meeting.host,
                external_id=meeting.external_id,
                name=seat.client_name,
                email=seat.client_email,
            )
        except MeetingPlatformRejected as refused:  # e.g. a host without registration
            log.warning("class seat not registered, the meeting's own URL is used: %s", refused)
            continue
        if registered is not None:
            deps.seats.record_seat_registered(
                booking_id=seat.booking_id, registrant_id=registered[0], join_url=registered[1]
            )


async def cancel_seat(deps: SyncDeps, booking: Booking, meeting: Meeting) -> int:
    """Frees the booking's seat (and its registration); returns how many seats are left."""
    seat = next(s for s in deps.seats.seats(meeting=meeting) if s.booking_id == booking.id)
    if seat.registrant_id and meeting.external_id is not None and not seat.cancelled:
        await deps.platforms[meeting.host.platform].cancel_registrant(
            host=meeting.host,
            external_id=meeting.external_id,
            registrant_id=seat.registrant_id,
            email=seat.client_email,
        )
    return deps.seats.record_seat_cancelled(booking_id=booking.id)


def class_message_for(deps: SyncDeps, company: Company, meeting: Meeting) -> ChatMessage:
    """A group class: one message listing its seats, edited as clients book and cancel."""
    found = deps.meetings.meeting_with_booking(company_id=company.id, meeting_id=meeting.id)
    assert found is not None
    details = found[1].details
    seats = [seat for seat in deps.seats.seats(meeting=meeting) if not seat.cancelled]
    return class_message(
        service_name=details.service_name,
        provider_name=details.provider_name,
        when=format_time_range(meeting.start, meeting.end, company.timezone),
        seats=[
            (seat.client_name, seat.booking_code, deps.links.client_link(seat.client_token))
            for seat in seats
        ],
        host_link=deps.links.host_link(meeting.host_token),
        meeting_id=meeting.id,
        shown_when=time_range(meeting.start, meeting.end, company.timezone),
    )
