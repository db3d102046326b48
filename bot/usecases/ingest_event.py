"""Accepting an event from a generic booking source: like a SimplyBook.me callback, it is safe to
acknowledge only once the event, the booking's new state and its sync job are committed.

Unlike a callback, the event carries the booking's whole state, so the order of deliveries
matters: the `sequence` decides, and an event older than the one applied changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.booking_events import BookingEvent, EventOutcome, WebhookSource
from bot.ports import BookingWebhooks, Companies

REASONS = {
    EventOutcome.APPLIED: "queued",
    EventOutcome.STALE: "a later event of this booking was applied already; nothing changes",
    EventOutcome.DUPLICATE: "already received (same webhook-id)",
}


@dataclass(frozen=True, slots=True)
class EventResult:
    outcome: EventOutcome
    reason: str


def accept_booking_event(
    webhooks: BookingWebhooks,
    companies: Companies,
    *,
    source: WebhookSource,
    event: BookingEvent,
    raw_body: str,
) -> EventResult:
    outcome = webhooks.record_event(source=source, event=event, raw_body=raw_body)
    if outcome is EventOutcome.APPLIED and event.time_zone:
        # A company started from chat has no zone of its own: its bookings' zone is the best
        # guess for reports, the digest and the times chat shows, until SimplyBook.me sets one.
        companies.adopt_timezone(company_id=source.company_id, timezone=event.time_zone)
    return EventResult(outcome, REASONS[outcome])
