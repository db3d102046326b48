"""Reconcile one booking: make what should exist exist, exactly once.

A callback only says "booking X may have changed". This job reads the booking's current state and
applies the difference with what meetbot already did. Every outside effect that the platform cannot
de-duplicate (Zoom create, Slack post) is recorded as intended before it is attempted, and a retry
after an ambiguous failure looks for the effect (by its marker) before repeating it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta

from bot import templates
from bot.clock import Clock
from bot.domain import (
    AccountState,
    AlertSpec,
    Booking,
    BookingStatus,
    ChatPlatform,
    ChatTarget,
    Company,
    Meeting,
    MeetingHostRef,
    MeetingPlatform,
    MeetingRequest,
    MeetingState,
    NotificationState,
    Provider,
    Service,
)
from bot.errors import (
    BookingUnknown,
    ChatAuthRevoked,
    ChatChannelUnavailable,
    ChatMessageGone,
    HostDailyLimit,
    MeetingAccountRevoked,
    MeetingGone,
    MeetingPlatformRejected,
    PermanentFailure,
    WaitingForTurn,
)
from bot.messages import (
    ChatMessage,
    Segment,
    booking_message,
    class_message,
    format_time_range,
    rescheduled_message,
    starting_message,
)
from bot.ports import (
    AdminInbox,
    AlertStore,
    BookingSource,
    BookingStore,
    ChatSender,
    MeetingPlatformPort,
    TeamsAccounts,
    TemplateStore,
)
from bot.usecases import alerts

log = logging.getLogger("meetbot.sync")

SYNC_BOOKING = "sync_booking"
MARKER_PREFIX = "meetbot-ref"

TakeTurn = Callable[[str], bool]
"""Takes the running job's turn on a shared message; False while another job has it.

A group class's message (and its meeting and seats) is written by the jobs of several bookings: they
take turns, so each one reconciles the class from the seats the database holds at that moment, and
whichever runs last leaves the message showing every live seat.
"""


@dataclass(frozen=True, slots=True)
class LinkBuilder:
    public_url: str

    def client_link(self, token: str) -> str:
        return f"{self.public_url.rstrip('/')}/m/{token}"

    def host_link(self, token: str) -> str:
        return f"{self.public_url.rstrip('/')}/h/{token}"


@dataclass(frozen=True, slots=True)
class SyncDeps:
    store: BookingStore
    bookings: BookingSource
    platforms: Mapping[MeetingPlatform, MeetingPlatformPort]
    chats: Mapping[ChatPlatform, ChatSender]
    links: LinkBuilder
    alerts: AlertStore
    inbox: AdminInbox
    templates: TemplateStore
    clock: Clock
    teams_accounts: TeamsAccounts | None = None  # None: Microsoft Teams is not configured here


class NeedsAttention(Exception):
    """Set-up is incomplete for this booking; recorded on the booking and told to the admins.

    Not retried: fixing the set-up re-queues the bookings it held up.
    """

    def __init__(self, problem: str, alert: AlertSpec | None = None) -> None:
        super().__init__(problem)
        self.alert = alert


def _wait_for_class(take_turn: TakeTurn, class_key: str) -> None:
    if not take_turn(f"class:{class_key}"):
        raise WaitingForTurn(
            "another booking of the same group class is being handled", after_seconds=1.0
        )


def _class_key(booking: Booking) -> str:
    details = booking.details
    return f"{booking.company_id}|{details.service_id}|{details.provider_id}|{details.start.isoformat()}"


async def sync_booking(
    deps: SyncDeps, *, company_id: str, booking_id: str, booking_hash: str, take_turn: TakeTurn
) -> str:
    """Returns a short, plain description of what was done (kept on the finished job)."""
    store = deps.store
    company = store.company(company_id=company_id)
    try:
        details = await deps.bookings.booking_details(
            credentials=store.simplybook_credentials(company_id=company_id),
            booking_id=booking_id,
            booking_hash=booking_hash,
            timezone=company.timezone,
        )
    except BookingUnknown as unknown:  # not a failed job: a callback nothing can come of
        deps.alerts.raise_alert(
            company_id=company_id, spec=alerts.unknown_bookings(), booking=booking_id
        )
        return str(unknown)
    booking = store.save_booking(company_id=company_id, details=details, booking_hash=booking_hash)
    meeting = store.meeting_for_booking(booking=booking)
    if meeting is not None and meeting.class_key is not None:
        _wait_for_class(take_turn, meeting.class_key)
        meeting = store.meeting_for_booking(booking=booking)  # as the previous turn left it
    if details.status is BookingStatus.CANCELLED:
        store.note_booking_problem(booking_id=booking.id, problem=None)
        if meeting is None:
            return "booking is cancelled; no meeting to cancel"
        try:
            return await _cancel(deps, company, booking, meeting)
        except MeetingAccountRevoked as revoked:
            return _hold(deps, company, booking, _revoked(revoked, meeting.host.platform))
    if meeting is None and not company.online_meetings_enabled:
        store.note_booking_problem(booking_id=booking.id, problem=None)
        return "online meetings are off for this company"
    try:
        service, provider = await _catalog_entries(deps, company, booking)
        if meeting is None and not service.online_meetings:
            return f"service {service.name!r} does not have online meetings enabled"
        if meeting is None and service.is_class:
            _wait_for_class(take_turn, _class_key(booking))
        host = meeting.host if meeting is not None else _meeting_host(deps, company, provider)
    except NeedsAttention as problem:
        return _hold(deps, company, booking, problem)
    try:
        before = await _ensure_platform_meeting(deps, booking, service, provider, host)
        meeting, moved = await _follow_time(deps, booking, service, provider, before)
        if meeting.class_key is not None:
            await _register_seats(deps, meeting)
    except MeetingAccountRevoked as revoked:
        return _hold(deps, company, booking, _revoked(revoked, host.platform))
    except NeedsAttention as problem:
        return _hold(deps, company, booking, problem)
    except HostDailyLimit:
        spec = alerts.daily_limit(host.host_user, f"the Zoom host of {provider.name}")
        deps.alerts.raise_alert(company_id=company.id, spec=spec, booking=_reference(booking))
        raise
    outcome, holdup = await _ensure_provider_message(
        deps, company, booking, service, provider, meeting
    )
    store.note_booking_problem(booking_id=booking.id, problem=holdup)
    if moved:
        said = rescheduled_message(
            old_start=before.start,
            old_end=before.end,
            start=meeting.start,
            end=meeting.end,
            timezone=company.timezone,
        )
        await _reply_in_threads(deps, meeting, f"moved:{meeting.start.isoformat()}", said)
    _schedule_reminder(deps, company, meeting)
    return f"meeting moved to the new time; {outcome}" if moved else outcome


def _schedule_reminder(deps: SyncDeps, company: Company, meeting: Meeting) -> None:
    opening = meeting.start - timedelta(minutes=company.open_minutes_before)
    if opening > deps.clock.now():  # booked inside the window: the message itself is the notice
        deps.store.schedule_reminder(meeting=meeting, at=opening)


async def remind(deps: SyncDeps, *, company_id: str, meeting_id: str, start: str) -> str:
    """At the opening time: a "starting soon" reply with the host link under each message."""
    found = deps.store.meeting_with_booking(company_id=company_id, meeting_id=meeting_id)
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
    replied = await _reply_in_threads(deps, meeting, f"starting:{start}", said)
    return f"reminder posted under {replied} message(s)"


async def _reply_in_threads(
    deps: SyncDeps, meeting: Meeting, key: str, message: ChatMessage
) -> int:
    """Replies once under each posted message of the meeting, even when the job is retried."""
    replied = 0
    for notification in deps.store.notifications_for_meeting(meeting=meeting):
        thread = notification.message_id
        if notification.state is not NotificationState.POSTED or thread is None:
            continue
        target, chat = notification.target, deps.chats[notification.target.platform]
        row_id, marker, done, is_new = deps.inbox.ensure_admin_message(
            company_id=meeting.company_id, key=f"{key}:{notification.id}", target=target
        )
        if done is None:
            found = None
            if not is_new:
                found = await chat.find_reply(target=target, thread_id=thread, marker=marker)
            posted = found or await chat.reply(
                target=target, thread_id=thread, message=message, marker=marker
            )
            deps.inbox.record_admin_message_posted(row_id=row_id, posted=posted)
        replied += 1
    return replied


def _reference(booking: Booking) -> str:
    return booking.details.code or booking.details.external_id


def _hold(deps: SyncDeps, company: Company, booking: Booking, problem: NeedsAttention) -> str:
    deps.store.note_booking_problem(booking_id=booking.id, problem=str(problem))
    if problem.alert is not None:
        deps.alerts.raise_alert(
            company_id=company.id, spec=problem.alert, booking=_reference(booking)
        )
    return str(problem)


def _revoked(revoked: MeetingAccountRevoked, platform: MeetingPlatform) -> NeedsAttention:
    if platform is MeetingPlatform.TEAMS:
        return NeedsAttention(str(revoked), alerts.teams_revoked(str(revoked)))
    return NeedsAttention(str(revoked), alerts.zoom_revoked(str(revoked)))


async def _catalog_entries(
    deps: SyncDeps, company: Company, booking: Booking
) -> tuple[Service, Provider]:
    store, details = deps.store, booking.details
    service = store.service(company_id=company.id, external_id=details.service_id)
    provider = store.provider(company_id=company.id, external_id=details.provider_id)
    if service is None or provider is None:
        # Lists are fetched only when something new appears: the booking system's daily quota is small.
        credentials = store.simplybook_credentials(company_id=company.id)
        store.merge_catalog(
            company_id=company.id,
            services=await deps.bookings.services(credentials=credentials),
            providers=await deps.bookings.providers(credentials=credentials),
        )
        service = store.service(company_id=company.id, external_id=details.service_id)
        provider = store.provider(company_id=company.id, external_id=details.provider_id)
    if service is None or provider is None:
        missing = "service" if service is None else "provider"
        raise NeedsAttention(f"the booking system does not list the booking's {missing}")
    return service, provider


def _teams_host(deps: SyncDeps, company: Company, provider: Provider) -> MeetingHostRef:
    """The provider's own Microsoft account when connected, else the company's (S10)."""
    accounts = deps.teams_accounts
    if accounts is None:
        raise NeedsAttention(
            f"provider {provider.name!r} is set to Microsoft Teams, which is not set up on this server",
            alerts.provider_unmapped(
                provider.name, provider.external_id, "Microsoft Teams is not set up on this server"
            ),
        )
    own = accounts.account(company_id=company.id, provider_external_id=provider.external_id)
    usable = [a for a in (own, accounts.account(company_id=company.id)) if a is not None]
    active = [a for a in usable if a.state is AccountState.ACTIVE]
    if not active:
        reason = (
            f"the Microsoft account needs reconnecting ({usable[0].state_reason or usable[0].state})"
            if usable
            else "no Microsoft account is connected for Teams meetings"
        )
        raise NeedsAttention(reason, alerts.teams_revoked(reason))
    host = active[0]
    return MeetingHostRef(MeetingPlatform.TEAMS, host.id, host.object_id)


def _meeting_host(deps: SyncDeps, company: Company, provider: Provider) -> MeetingHostRef:
    name, provider_id = provider.name, provider.external_id
    if provider.platform is None:
        raise NeedsAttention(
            f"provider {name!r} has no meeting platform chosen",
            alerts.provider_unmapped(name, provider_id, "no meeting platform is chosen for them"),
        )
    if provider.platform is MeetingPlatform.TEAMS:
        return _teams_host(deps, company, provider)
    account_id = deps.store.zoom_account_id(company_id=company.id)
    if account_id is None:
        raise NeedsAttention(
            "no Zoom account is connected for this company",
            alerts.zoom_revoked("no Zoom account is connected"),
        )
    if not provider.zoom_user:
        raise NeedsAttention(
            f"provider {name!r} has no Zoom host user chosen",
            alerts.provider_unmapped(name, provider_id, "no Zoom host user is chosen for them"),
        )
    return MeetingHostRef(MeetingPlatform.ZOOM, account_id, provider.zoom_user)


async def _ensure_platform_meeting(
    deps: SyncDeps, booking: Booking, service: Service, provider: Provider, host: MeetingHostRef
) -> Meeting:
    class_key = _class_key(booking) if service.is_class else None
    meeting, intent_is_new = deps.store.ensure_meeting(
        booking=booking, host=host, marker_prefix=MARKER_PREFIX, class_key=class_key
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
    return deps.store.record_meeting_created(meeting_id=meeting.id, created=created)


async def _follow_time(
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
        restarted = deps.store.restart_meeting(
            meeting_id=meeting.id, marker_prefix=MARKER_PREFIX, start=details.start, end=details.end
        )
        return await _create_on_platform(
            deps, booking, service, provider, restarted, look_first=False
        ), True
    return deps.store.record_meeting_moved(
        meeting_id=meeting.id, start=details.start, end=details.end
    ), True


async def _cancel(deps: SyncDeps, company: Company, booking: Booking, meeting: Meeting) -> str:
    """Each step can be repeated: a retry after any failure finishes what is left."""
    if meeting.class_key is not None:
        remaining = await _cancel_seat(deps, booking, meeting)
        if remaining:
            edited = await _edit_messages(deps, meeting, _class_message(deps, company, meeting))
            return f"class seat cancelled; {remaining} seat(s) left, {edited} message(s) updated"
    if meeting.state is not MeetingState.CANCELLED:
        meeting = await _delete_on_platform(deps, meeting)
    cancelled = _provider_message(
        deps,
        company,
        booking,
        booking.details.service_name,
        booking.details.provider_name,
        meeting,
        cancelled=True,
    )
    edited = await _edit_messages(deps, meeting, cancelled)
    return f"booking cancelled; meeting deleted, {edited} message(s) updated"


async def _register_seats(deps: SyncDeps, meeting: Meeting) -> None:
    """Each live seat's own registration on platforms that have them (Zoom), from the database's
    seats: a seat whose own job stopped half-way is registered by the next booking of the class."""
    if meeting.external_id is None:
        return
    for seat in deps.store.seats(meeting=meeting):
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
            deps.store.record_seat_registered(
                booking_id=seat.booking_id, registrant_id=registered[0], join_url=registered[1]
            )


async def _cancel_seat(deps: SyncDeps, booking: Booking, meeting: Meeting) -> int:
    seat = next(s for s in deps.store.seats(meeting=meeting) if s.booking_id == booking.id)
    if seat.registrant_id and meeting.external_id is not None and not seat.cancelled:
        await deps.platforms[meeting.host.platform].cancel_registrant(
            host=meeting.host,
            external_id=meeting.external_id,
            registrant_id=seat.registrant_id,
            email=seat.client_email,
        )
    return deps.store.record_seat_cancelled(booking_id=booking.id)


async def _delete_on_platform(deps: SyncDeps, meeting: Meeting) -> Meeting:
    platform = deps.platforms[meeting.host.platform]
    if meeting.external_id is not None:
        await platform.delete_meeting(host=meeting.host, external_id=meeting.external_id)
    elif meeting.state is MeetingState.CREATING:  # an earlier attempt may have created it
        found = await platform.find_meeting(
            host=meeting.host, marker=meeting.marker, start=meeting.start
        )
        if found is not None:
            await platform.delete_meeting(host=meeting.host, external_id=found.external_id)
    return deps.store.record_meeting_cancelled(meeting_id=meeting.id)


async def _edit_messages(deps: SyncDeps, meeting: Meeting, message: ChatMessage) -> int:
    """Brings every posted message of the meeting to `message`, finding unrecorded posts first."""
    edited = 0
    for notification in deps.store.notifications_for_meeting(meeting=meeting):
        chat = deps.chats[notification.target.platform]
        message_id = notification.message_id
        if notification.state is NotificationState.POSTING:  # posted or not: look before editing
            since = deps.store.notification_started_at(notification_id=notification.id)
            found = await chat.find_posted(
                target=notification.target, marker=notification.marker, since=since
            )
            if found is None:
                continue
            deps.store.record_notification_posted(
                notification_id=notification.id, posted=found, digest=""
            )
            message_id = found.message_id
        if message_id is None:
            continue
        if message.digest() != notification.digest:
            try:
                await chat.update(
                    target=notification.target, message_id=message_id, message=message
                )
            except ChatMessageGone:  # deleted by a person: nothing left to bring up to date
                continue
            deps.store.record_notification_edited(
                notification_id=notification.id, digest=message.digest()
            )
            edited += 1
    return edited


def _provider_message(
    deps: SyncDeps,
    company: Company,
    booking: Booking,
    service_name: str,
    provider_name: str,
    meeting: Meeting,
    *,
    cancelled: bool = False,
) -> ChatMessage:
    if meeting.class_key is not None and not cancelled:
        return _class_message(deps, company, meeting)
    details = booking.details
    client_link = deps.links.client_link(meeting.client_token)
    host_link = deps.links.host_link(meeting.host_token)
    wording: tuple[Segment, ...] = ()
    client_text: tuple[Segment, ...] = ()
    if not cancelled:
        chosen = deps.templates.templates(company_id=company.id)
        values = templates.TemplateValues(
            client_link=client_link,
            host_link=host_link,
            service=service_name,
            provider=provider_name,
            client=details.client_name or "a client",
            start=details.start,
            start_text=format_time_range(details.start, details.end, company.timezone),
        )
        for kind in templates.TemplateKind:
            template = templates.choose(
                chosen, kind, service_id=details.service_id, provider_id=details.provider_id
            )
            if template is None:
                continue
            rendered = templates.render(template.body, values)
            if kind is templates.TemplateKind.PROVIDER:
                wording = rendered
            else:
                client_text = rendered
    return booking_message(
        details=details,
        service_name=service_name,
        provider_name=provider_name,
        timezone=company.timezone,
        client_link=client_link,
        host_link=host_link,
        meeting_id="" if cancelled else meeting.id,
        cancelled=cancelled,
        wording=wording,
        client_text=client_text,
    )


def _class_message(deps: SyncDeps, company: Company, meeting: Meeting) -> ChatMessage:
    """A group class: one message listing its seats, edited as clients book and cancel."""
    found = deps.store.meeting_with_booking(company_id=company.id, meeting_id=meeting.id)
    assert found is not None
    details = found[1].details
    seats = [seat for seat in deps.store.seats(meeting=meeting) if not seat.cancelled]
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
    )


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


async def _ensure_provider_message(
    deps: SyncDeps,
    company: Company,
    booking: Booking,
    service: Service,
    provider: Provider,
    meeting: Meeting,
) -> tuple[str, str | None]:
    """What was done, and the set-up problem still holding the booking up, if any."""
    message = _provider_message(deps, company, booking, service.name, provider.name, meeting)
    if provider.channel is None:
        spec = alerts.provider_without_channel(provider.name, provider.external_id)
        why = f"no channel is chosen for {provider.name}'s bookings"
        return await _deliver_to_admins(
            deps, company, booking, meeting, provider, message, spec, why
        )
    try:
        return await _deliver(deps, meeting, provider.channel, message), None
    except ChatAuthRevoked as removed:
        if provider.channel.platform is not ChatPlatform.SLACK:
            raise
        # meetbot was removed from the workspace: held, and posted when it is installed again.
        return f"held: {removed}", f"{removed}; the booking is posted when meetbot is back"
    except ChatChannelUnavailable as unusable:
        channel_id = provider.channel.channel_id
        spec = alerts.channel_unusable(
            provider.name, provider.external_id, channel_id, str(unusable)
        )
        why = f"{unusable} (the channel chosen for {provider.name})"
        return await _deliver_to_admins(
            deps, company, booking, meeting, provider, message, spec, why
        )


async def _deliver_to_admins(
    deps: SyncDeps,
    company: Company,
    booking: Booking,
    meeting: Meeting,
    provider: Provider,
    message: ChatMessage,
    alert: AlertSpec,
    why: str,
) -> tuple[str, str | None]:
    """The provider's channel cannot be used: the booking still reaches a person (the admins)."""
    admins = deps.inbox.admin_inboxes(company_id=company.id)
    if not admins:  # noted, so fixing the set-up re-queues it; dead, so `status` shows it
        deps.store.note_booking_problem(
            booking_id=booking.id, problem=f"{why}, and no admin is known to tell"
        )
        raise PermanentFailure(f"{why}, and no admin is known to tell. {alert.fix}")
    deps.alerts.raise_alert(company_id=company.id, spec=alert, booking=_reference(booking))
    fallback = replace(
        message,
        title=f"For {provider.name}: {message.title}",
        text=f"This could not be posted for {provider.name}: {why}. Please pass it on. {alert.fix}",
    )
    reached = 0
    for admin in admins:
        try:
            await _deliver(deps, meeting, admin, fallback)
            reached += 1
        except (ChatChannelUnavailable, ChatAuthRevoked) as unreachable:  # try the others
            log.warning("an admin could not be reached: %s", unreachable)
    if not reached:
        raise PermanentFailure(f"{why}, and no admin could be reached. {alert.fix}")
    return (
        f"provider's channel unusable; delivered to {reached} admin(s) by direct message",
        f"{why}; the booking went to the admins instead",
    )


async def _deliver(
    deps: SyncDeps, meeting: Meeting, target: ChatTarget, message: ChatMessage
) -> str:
    """Posts `message` to `target` once, or edits the earlier post when the content changed."""
    store = deps.store
    notification, intent_is_new = store.ensure_notification(meeting=meeting, target=target)
    chat = deps.chats[target.platform]
    deleted = None
    if notification.state is NotificationState.POSTED and notification.message_id is not None:
        if notification.digest == message.digest():
            return "meeting and message already in place"
        try:
            await chat.update(target=target, message_id=notification.message_id, message=message)
        except ChatMessageGone:  # a person deleted it: the booking is posted again, not lost
            deleted = notification.message_id
        else:
            store.record_notification_edited(
                notification_id=notification.id, digest=message.digest()
            )
            return "provider's message updated"
    posted = None
    if not intent_is_new:  # an earlier attempt (or re-post) may have posted it before failing
        posted = await chat.find_posted(
            target=target,
            marker=notification.marker,
            since=store.notification_started_at(notification_id=notification.id),
        )
        posted = None if posted is not None and posted.message_id == deleted else posted
    if posted is not None:  # what it shows is unknown (a class's seats may have changed): edit it
        store.record_notification_posted(notification_id=notification.id, posted=posted, digest="")
        return await _deliver(deps, meeting, target, message)
    posted = await chat.post(target=target, message=message, marker=notification.marker)
    store.record_notification_posted(
        notification_id=notification.id, posted=posted, digest=message.digest()
    )
    if deleted is not None:
        return "the provider's message had been deleted; posted again"
    return "meeting created and provider notified"
