"""What reconciling a booking needs (its ports), and how it stops when a person must act."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.clock import Clock
from bot.domain import AlertSpec, Booking, MeetingPlatform
from bot.outbox import ChatOutbox
from bot.ports import (
    AlertStore,
    Bookings,
    BookingSource,
    BookingWebhooks,
    Catalog,
    Companies,
    MeetingPlatformPort,
    Meetings,
    Seats,
    Staff,
    TeamsAccounts,
    TemplateStore,
    ZoomAccounts,
)
from bot.urls import PublicUrls

TakeTurn = Callable[[str], bool]
"""Takes the running job's turn on a shared message; False while another job has it.

A group class's message (and its meeting and seats) is written by the jobs of several bookings: they
take turns, so each one reconciles the class from the seats the database holds at that moment, and
whichever runs last leaves the message showing every live seat.
"""


@dataclass(frozen=True, slots=True)
class SyncDeps:
    companies: Companies
    catalog: Catalog
    zoom_accounts: ZoomAccounts
    booking_records: Bookings
    meetings: Meetings
    seats: Seats
    outbox: ChatOutbox
    bookings: BookingSource
    platforms: Mapping[MeetingPlatform, MeetingPlatformPort]
    links: PublicUrls
    alerts: AlertStore
    templates: TemplateStore
    clock: Clock
    staff: Staff  # whom a change in a provider's bookings mentions
    teams_accounts: TeamsAccounts | None = None  # None: Microsoft Teams is not configured here
    booking_webhooks: BookingWebhooks | None = None  # generic sources' bookings (None: none here)


class NeedsAttention(Exception):
    """Set-up is incomplete for this booking; recorded on the booking and told to the admins.

    Not retried: fixing the set-up re-queues the bookings it held up.
    """

    def __init__(self, problem: str, alert: AlertSpec | None = None) -> None:
        super().__init__(problem)
        self.alert = alert


def reference(booking: Booking) -> str:
    """How people know the booking: its code, else the booking system's id."""
    return booking.details.code or booking.details.external_id
