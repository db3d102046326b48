"""Booking events from a generic booking source (the signed booking webhook).

SimplyBook.me's callbacks are hints that make meetbot ask the booking system; a generic source has
no API to ask, so its latest applied event *is* the booking's state. Each event carries a
`sequence` that grows with every change of its booking: an event older than the one applied
changes nothing, so deliveries out of order end in the latest state.

A sync job for such a booking carries `source_reference(source_id)` where a SimplyBook.me job
carries the booking's hash (32 hexadecimal characters, so the two never look alike): the job, and
any later re-sync of the booking, knows where the booking's state is kept.

A company may be fed by SimplyBook.me and a generic source at once, and both may number their
bookings, services and providers "1001": inside the core a generic source's ids are
`wh:<source id>:<sender's id>` (`in_namespace`), while the booking's code, which chat shows,
stays the sender's id.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from bot.domain import BookingDetails, CatalogEntry

SOURCE_PREFIX = "webhook-source:"


class BookingEventType(StrEnum):
    CREATED = "booking.created"
    UPDATED = "booking.updated"
    CANCELLED = "booking.cancelled"


@dataclass(frozen=True, slots=True)
class BookingEvent:
    """One event as the source sent it: the booking's whole state after a change."""

    webhook_id: str
    type: BookingEventType
    sequence: int
    details: BookingDetails
    service: CatalogEntry
    provider: CatalogEntry
    client_language: str = ""
    notes: str = ""
    time_zone: str = ""  # the booking's IANA zone, as the sender named it


@dataclass(frozen=True, slots=True)
class WebhookSource:
    """A company's generic booking source: its id (in the webhook address) and its signing
    secrets, newest first; while a secret is rotated, the older ones still verify."""

    id: str
    company_id: str
    secrets: tuple[str, ...]

    def __repr__(self) -> str:  # keeps secrets out of tracebacks and logs
        return f"WebhookSource(id={self.id!r}, company_id={self.company_id!r}, ...)"


class EventOutcome(StrEnum):
    APPLIED = "applied"  # the booking's state is this event now; its sync job is queued
    STALE = "stale"  # an event with a higher sequence was applied already: nothing changes
    DUPLICATE = "duplicate"  # this webhook-id was received before


NAMESPACE_PREFIX = "wh:"


def in_namespace(source_id: str, external_id: str) -> str:
    """A generic source's id as the core keeps it, apart from SimplyBook.me's ids."""
    return f"{NAMESPACE_PREFIX}{source_id}:{external_id}"


def senders_id(source_id: str, core_id: str) -> str:
    """The id the sender gave (source ids hold no ':', so the prefix is unambiguous)."""
    return core_id.removeprefix(in_namespace(source_id, ""))


def namespaced(source_id: str, event: BookingEvent) -> BookingEvent:
    """The event with its booking, service and provider ids in the source's namespace."""
    details = event.details
    return replace(
        event,
        details=replace(
            details,
            external_id=in_namespace(source_id, details.external_id),
            service_id=in_namespace(source_id, details.service_id),
            provider_id=in_namespace(source_id, details.provider_id),
        ),
        service=replace(
            event.service, external_id=in_namespace(source_id, event.service.external_id)
        ),
        provider=replace(
            event.provider, external_id=in_namespace(source_id, event.provider.external_id)
        ),
    )


def source_reference(source_id: str) -> str:
    return f"{SOURCE_PREFIX}{source_id}"


def source_of(booking_hash: str) -> str | None:
    """The generic source a sync job's booking comes from; None for SimplyBook.me."""
    return (
        booking_hash.removeprefix(SOURCE_PREFIX) if booking_hash.startswith(SOURCE_PREFIX) else None
    )
