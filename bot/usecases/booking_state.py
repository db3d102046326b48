"""Where a booking's current state comes from: the booking system's API (SimplyBook.me), or the
latest applied event of a generic booking source. After this, the core sees a booking, not its
source."""

from __future__ import annotations

from bot.domain import BookingDetails, Company, SimplyBookCredentials
from bot.domain.booking_events import namespaced, senders_id, source_of
from bot.errors import BookingUnknown, MeetbotError
from bot.ports import Companies
from bot.usecases.sync_deps import SyncDeps


def simplybook_credentials(companies: Companies, company: Company) -> SimplyBookCredentials:
    """The SimplyBook.me credentials of a company that uses it."""
    _, credentials = companies.company_with_credentials(company_id=company.id)
    if credentials is None:
        raise MeetbotError(f"company {company.name!r} is not connected to SimplyBook.me")
    return credentials


async def current_details(
    deps: SyncDeps,
    company: Company,
    credentials: SimplyBookCredentials | None,
    *,
    booking_id: str,
    booking_hash: str,
) -> BookingDetails:
    """Raises BookingUnknown when the source knows no such booking. `credentials` are the
    company's SimplyBook.me credentials (None: it has none)."""
    source_id = source_of(booking_hash)
    if source_id is None:
        if credentials is None:
            raise BookingUnknown(f"booking {booking_id}: the company has no SimplyBook.me account")
        return await deps.bookings.booking_details(
            credentials=credentials,
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
