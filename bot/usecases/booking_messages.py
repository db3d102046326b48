"""The booking's message: what it says, and where it goes.

It goes to the provider's channel; when that cannot be used (none chosen, meetbot not in it) it
goes to the company's admins by direct message, so no booking is lost, and the admins are told
what to fix. Posting itself, exactly once, is the outbox's (`bot.outbox`).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import NamedTuple

from bot import templates
from bot.domain import AlertSpec, Booking, ChatPlatform, ChatTarget, Company, Meeting, Provider
from bot.errors import ChatAuthRevoked, ChatChannelUnavailable, PermanentFailure
from bot.messages import ChatMessage, Segment, booking_message, format_time_range
from bot.outbox import Delivered
from bot.usecases import alerts
from bot.usecases.class_meetings import class_message_for
from bot.usecases.sync_deps import SyncDeps, reference

log = logging.getLogger("meetbot.sync")


class Names(NamedTuple):
    service: str
    provider: str


OUTCOMES = {
    Delivered.UNCHANGED: "meeting and message already in place",
    Delivered.EDITED: "provider's message updated",
    Delivered.POSTED: "meeting created and provider notified",
    Delivered.POSTED_AGAIN: "the provider's message had been deleted; posted again",
}


async def ensure_provider_message(
    deps: SyncDeps,
    company: Company,
    booking: Booking,
    names: Names,
    provider: Provider,
    meeting: Meeting,
) -> tuple[str, str | None]:
    """What was done, and the set-up problem still holding the booking up, if any."""
    message = provider_message(deps, company, booking, names, meeting)
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
    admins = deps.outbox.admin_inboxes(company_id=company.id)
    if not admins:  # noted, so fixing the set-up re-queues it; dead, so `status` shows it
        deps.booking_records.note_booking_problem(
            booking_id=booking.id, problem=f"{why}, and no admin is known to tell"
        )
        raise PermanentFailure(f"{why}, and no admin is known to tell. {alert.fix}")
    deps.alerts.raise_alert(company_id=company.id, spec=alert, booking=reference(booking))
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
    done = await deps.outbox.bring_up_to_date(meeting=meeting, target=target, message=message)
    return OUTCOMES[done]


def provider_message(
    deps: SyncDeps,
    company: Company,
    booking: Booking,
    names: Names,
    meeting: Meeting,
    *,
    cancelled: bool = False,
) -> ChatMessage:
    """The booking's message; `names` are the service's and provider's names it shows."""
    if meeting.class_key is not None and not cancelled:
        return class_message_for(deps, company, meeting)
    details = booking.details
    client_link = deps.links.client_link(meeting.client_token)
    host_link = deps.links.host_link(meeting.host_token)
    wording: tuple[Segment, ...] = ()
    client_text: tuple[Segment, ...] = ()
    if not cancelled:
        wording, client_text = _chosen_wording(
            deps, company, booking, names, (client_link, host_link)
        )
    return booking_message(
        details=details,
        service_name=names.service,
        provider_name=names.provider,
        timezone=company.timezone,
        client_link=client_link,
        host_link=host_link,
        meeting_id="" if cancelled else meeting.id,
        cancelled=cancelled,
        wording=wording,
        client_text=client_text,
    )


def _chosen_wording(
    deps: SyncDeps, company: Company, booking: Booking, names: Names, links: tuple[str, str]
) -> tuple[tuple[Segment, ...], tuple[Segment, ...]]:
    """The company's own wording for the provider and for the client, where it chose any."""
    details = booking.details
    values = templates.TemplateValues(
        client_link=links[0],
        host_link=links[1],
        service=names.service,
        provider=names.provider,
        client=details.client_name or "a client",
        start=details.start,
        start_text=format_time_range(details.start, details.end, company.timezone),
    )
    chosen = deps.templates.templates(company_id=company.id)
    wording: tuple[Segment, ...] = ()
    client_text: tuple[Segment, ...] = ()
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
    return wording, client_text
