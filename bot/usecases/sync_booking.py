"""Reconcile one booking: make what should exist exist, exactly once.

A callback only says "booking X may have changed". This job reads the booking's current state and
applies the difference with what meetbot already did. The state comes from SimplyBook.me's API,
or from a generic source's latest applied event (`booking_state`); no later step knows which.
Every outside effect that the platform cannot de-duplicate (Zoom create, Slack post) is recorded
as intended before it is attempted, and a retry after an ambiguous failure looks for the effect
(by its marker) before repeating it: the meeting in `platform_meetings`, every chat message in
`bot.outbox`.

This module holds the order of the steps and what stops them; each decision has its own module:
who hosts (`meeting_hosts`), the meeting on its platform (`platform_meetings`), group classes
(`class_meetings`), the message and where it goes (`booking_messages`), and the replies in its
thread (`reminders`). Each step can be repeated, so a job retried after any failure finishes what
is left and repeats nothing.
"""

from __future__ import annotations

from dataclasses import replace

from bot.domain import (
    Booking,
    BookingEntries,
    BookingStatus,
    Company,
    Meeting,
    MeetingPlatform,
    MeetingState,
    Provider,
    Service,
)
from bot.errors import BookingUnknown, HostDailyLimit, MeetingAccountRevoked
from bot.usecases import alerts
from bot.usecases.booking_messages import Names, ensure_provider_message, provider_message
from bot.usecases.booking_state import current_details, simplybook_credentials
from bot.usecases.class_meetings import (
    cancel_seat,
    class_key,
    class_message_for,
    register_seats,
    wait_for_class,
)
from bot.usecases.meeting_hosts import meeting_host
from bot.usecases.platform_meetings import delete_on_platform, ensure_platform_meeting, follow_time
from bot.usecases.reminders import schedule_reminder, tell_cancelled, tell_ended, tell_moved
from bot.usecases.sync_deps import NeedsAttention, SyncDeps, TakeTurn, reference


async def sync_booking(
    deps: SyncDeps, *, company_id: str, booking_id: str, booking_hash: str, take_turn: TakeTurn
) -> str:
    """Returns a short, plain description of what was done (kept on the finished job)."""
    company, credentials = deps.companies.company_with_credentials(company_id=company_id)
    try:
        details = await current_details(
            deps, company, credentials, booking_id=booking_id, booking_hash=booking_hash
        )
    except BookingUnknown as unknown:  # not a failed job: a callback nothing can come of
        deps.alerts.raise_alert(
            company_id=company_id, spec=alerts.unknown_bookings(), booking=booking_id
        )
        return str(unknown)
    records = deps.booking_records
    booking, first_seen = records.save_booking(
        company_id=company_id, details=details, booking_hash=booking_hash
    )
    meeting = None if first_seen else deps.meetings.meeting_for_booking(booking=booking)
    if meeting is not None and meeting.class_key is not None:
        wait_for_class(take_turn, meeting.class_key)
        meeting = deps.meetings.meeting_for_booking(booking=booking)  # as the previous turn left it
    if details.status is BookingStatus.CANCELLED:
        booking = _note_problem(deps, booking, None)
        if meeting is None:
            return "booking is cancelled; no meeting to cancel"
        try:
            return await _cancel(deps, company, booking, meeting)
        except MeetingAccountRevoked as revoked:
            return _hold(deps, company, booking, _revoked(revoked, meeting.host.platform))
    if meeting is None and not company.online_meetings_enabled:
        _note_problem(deps, booking, None)
        return "online meetings are off for this company"
    return await _set_up(deps, company, booking, meeting, take_turn)


async def _set_up(
    deps: SyncDeps, company: Company, booking: Booking, meeting: Meeting | None, take_turn: TakeTurn
) -> str:
    """The booking is live: its meeting exists at its time, and its message shows it."""
    try:
        service, provider, zoom_account_id = await _catalog_entries(deps, company, booking)
        if meeting is None and not service.online_meetings:
            return f"service {service.name!r} does not have online meetings enabled"
        if meeting is None and booking.details.end <= deps.clock.now():
            return await tell_ended(deps, company, booking, provider)
        if meeting is None and service.is_class:
            wait_for_class(take_turn, class_key(booking))
        host = (
            meeting.host
            if meeting is not None
            else meeting_host(deps, company, provider, zoom_account_id)
        )
    except NeedsAttention as problem:
        return _hold(deps, company, booking, problem)
    try:
        before = await ensure_platform_meeting(deps, booking, service, provider, host, meeting)
        meeting, moved = await follow_time(deps, booking, service, provider, before)
        if meeting.class_key is not None:
            await register_seats(deps, meeting)
    except MeetingAccountRevoked as revoked:
        return _hold(deps, company, booking, _revoked(revoked, host.platform))
    except NeedsAttention as problem:
        return _hold(deps, company, booking, problem)
    except HostDailyLimit:
        spec = alerts.daily_limit(host.host_user, f"the Zoom host of {provider.name}")
        deps.alerts.raise_alert(company_id=company.id, spec=spec, booking=reference(booking))
        raise
    names = Names(service.name, provider.name)
    outcome, holdup = await ensure_provider_message(
        deps, company, booking, names, provider, meeting
    )
    _note_problem(deps, booking, holdup)
    if moved:
        await tell_moved(
            deps, company, booking, meeting, old_start=before.start, old_end=before.end
        )
    schedule_reminder(deps, company, meeting)
    return f"meeting moved to the new time; {outcome}" if moved else outcome


def _hold(deps: SyncDeps, company: Company, booking: Booking, problem: NeedsAttention) -> str:
    _note_problem(deps, booking, str(problem))
    if problem.alert is not None:
        deps.alerts.raise_alert(
            company_id=company.id, spec=problem.alert, booking=reference(booking)
        )
    return str(problem)


def _note_problem(deps: SyncDeps, booking: Booking, problem: str | None) -> Booking:
    """Written only when it changes: most bookings had none and still have none. Returns the
    booking as now stored, for a later note in the same job to compare against."""
    if problem != booking.problem:
        deps.booking_records.note_booking_problem(booking_id=booking.id, problem=problem)
    return replace(booking, problem=problem)


def _revoked(revoked: MeetingAccountRevoked, platform: MeetingPlatform) -> NeedsAttention:
    if platform is MeetingPlatform.TEAMS:
        return NeedsAttention(str(revoked), alerts.teams_revoked(str(revoked)))
    return NeedsAttention(str(revoked), alerts.zoom_revoked(str(revoked)))


async def _catalog_entries(
    deps: SyncDeps, company: Company, booking: Booking
) -> tuple[Service, Provider, str | None]:
    """The booking's service and provider, and the company's connected Zoom account (if any)."""
    entries = _booking_entries(deps, company, booking)
    if (entries.service is None or entries.provider is None) and company.uses_simplybook:
        # Lists are fetched only when something new appears: the booking system's daily quota is small.
        credentials = simplybook_credentials(deps.companies, company)
        deps.catalog.merge_catalog(
            company_id=company.id,
            services=await deps.bookings.services(credentials=credentials),
            providers=await deps.bookings.providers(credentials=credentials),
        )
        entries = _booking_entries(deps, company, booking)
    service, provider = entries.service, entries.provider
    if service is None or provider is None:
        missing = "service" if service is None else "provider"
        raise NeedsAttention(f"the booking system does not list the booking's {missing}")
    return service, provider, entries.zoom_account_id


def _booking_entries(deps: SyncDeps, company: Company, booking: Booking) -> BookingEntries:
    details = booking.details
    return deps.catalog.booking_entries(
        company_id=company.id, service_id=details.service_id, provider_id=details.provider_id
    )


async def _cancel(deps: SyncDeps, company: Company, booking: Booking, meeting: Meeting) -> str:
    """Each step can be repeated: a retry after any failure finishes what is left."""
    outbox = deps.outbox
    if meeting.class_key is not None:
        remaining = await cancel_seat(deps, booking, meeting)
        if remaining:
            seats_left = class_message_for(deps, company, meeting)
            edited = await outbox.edit_everywhere(meeting=meeting, message=seats_left)
            return f"class seat cancelled; {remaining} seat(s) left, {edited} message(s) updated"
    if meeting.state is not MeetingState.CANCELLED:
        meeting = await delete_on_platform(deps, meeting)
    names = Names(booking.details.service_name, booking.details.provider_name)
    cancelled = provider_message(deps, company, booking, names, meeting, cancelled=True)
    edited = await outbox.edit_everywhere(meeting=meeting, message=cancelled)
    replied = await tell_cancelled(deps, company, booking, meeting)
    return f"booking cancelled; meeting deleted, {edited} message(s) updated, {replied} told"
