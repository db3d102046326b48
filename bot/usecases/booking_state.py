"""Where a booking's current state comes from: the booking system's API (SimplyBook.me), or the
latest applied event of a generic booking source. After this, the core sees a booking, not its
source."""

from __future__ import annotations

from bot.domain import BookingDetails, Company
from bot.domain.booking_events import namespaced, senders_id, source_of
from bot.errors import BookingUnknown
from bot.usecases.sync_deps import SyncDeps


async def current_details(
    deps: SyncDeps, company: Company, *, booking_id: str, booking_hash: str
) -> BookingDetails:
    """Raises BookingUnknown when the source knows no such booking."""
    source_id = source_of(booking_hash)
    if source_id is None:
        return await deps.bookings.booking_details(
            credentials=deps.companies.simplybook_credentials(company_id=company.id),
            booking_id=booking_id,
            booking_hash=booking_hash,
            timezone=company.timezone,
        )
    webhooks, sent_as = deps.booking_webhooks, senders_id(source_id, booking_id)
    latest = (
        webhooks.latest_event(company_id=company.id, source_id=source_id, booking_id=sent_as)
        if webhooks is not None
        else None
    )
    if latest is None:
        raise BookingUnknown(f"no event of booking {sent_as} was received from its webhook")
    event = namespaced(source_id, latest)
    # A generic source has no catalog to ask: its events bring services and providers, which
    # appear with online meetings off until staff enable them (S5).
    deps.catalog.merge_catalog(
        company_id=company.id, services=[event.service], providers=[event.provider]
    )
    return event.details
