"""Generic booking sources: their signing secrets, the events they send, and the booking state
those events leave."""

from __future__ import annotations

from typing import Protocol

from bot.domain.booking_events import BookingEvent, EventOutcome, WebhookSource


class BookingWebhooks(Protocol):
    """A company's generic booking source (one per company) and what it sent.

    Essential: `source`, `record_event` (the event, its state and its sync job in one
    transaction) and `latest_event`."""

    def source(self, *, source_id: str) -> WebhookSource | None: ...

    def record_event(
        self, *, source: WebhookSource, event: BookingEvent, raw_body: str
    ) -> EventOutcome:
        """Keeps the event; when its sequence is the booking's highest yet, it becomes the
        booking's state and a sync of the booking is queued, all in one transaction."""
        ...

    def latest_event(
        self, *, company_id: str, source_id: str, booking_id: str
    ) -> BookingEvent | None: ...

    def company_source(self, *, company_id: str) -> WebhookSource | None: ...

    def connect(self, *, company_id: str) -> tuple[WebhookSource, str]:
        """A new source with a new secret; returns the source and the secret (shown once).
        Raises AlreadyConnected when the company has a source."""
        ...

    def disconnect(self, *, company_id: str) -> bool: ...

    def rotate(self, *, company_id: str) -> str:
        """Adds a new secret (returned) in front of the old ones, which keep verifying."""
        ...

    def retire_old(self, *, company_id: str) -> int:
        """Removes every secret but the newest; returns how many were removed."""
        ...
