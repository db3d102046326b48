"""What the core needs from the outside, as small keyword-only protocols.

Adapters implement these; tests use the same adapters against simulated platforms.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from bot.domain import (
    Booking,
    BookingCallback,
    BookingDetails,
    CatalogEntry,
    ChatTarget,
    Company,
    Job,
    Meeting,
    MeetingHostRef,
    MeetingRequest,
    Notification,
    PlatformMeeting,
    PostedMessage,
    Provider,
    Service,
    SimplyBookCredentials,
)
from bot.messages import ChatMessage


class BookingSource(Protocol):
    """The booking system's API (SimplyBook.me)."""

    async def booking_details(
        self,
        *,
        credentials: SimplyBookCredentials,
        booking_id: str,
        booking_hash: str,
        timezone: str,
    ) -> BookingDetails: ...

    async def services(self, *, credentials: SimplyBookCredentials) -> list[CatalogEntry]: ...

    async def providers(self, *, credentials: SimplyBookCredentials) -> list[CatalogEntry]: ...


class MeetingPlatformPort(Protocol):
    """A video meeting platform (Zoom; Microsoft Teams through Graph)."""

    async def create_meeting(
        self, *, host: MeetingHostRef, request: MeetingRequest
    ) -> PlatformMeeting: ...

    async def find_meeting(
        self, *, host: MeetingHostRef, marker: str, start: datetime
    ) -> PlatformMeeting | None:
        """The meeting carrying `marker`, if an earlier attempt created it."""
        ...

    async def fresh_host_url(self, *, host: MeetingHostRef, external_id: str) -> str: ...


class ChatSender(Protocol):
    async def post(
        self, *, target: ChatTarget, message: ChatMessage, marker: str
    ) -> PostedMessage: ...

    async def find_posted(
        self, *, target: ChatTarget, marker: str, since: datetime
    ) -> PostedMessage | None:
        """The message carrying `marker`, if an earlier attempt posted it."""
        ...

    async def update(
        self, *, target: ChatTarget, message_id: str, message: ChatMessage
    ) -> None: ...


class CallbackInbox(Protocol):
    def company_for_webhook_token(self, *, token: str) -> Company | None: ...

    def record_callback(self, *, company_id: str, callback: BookingCallback, raw_body: str) -> None:
        """Store the callback and make sure one sync job for its booking is pending, atomically."""
        ...


class BookingStore(Protocol):
    """The state the sync job reconciles against. Every call is scoped by company."""

    def company(self, *, company_id: str) -> Company: ...

    def simplybook_credentials(self, *, company_id: str) -> SimplyBookCredentials: ...

    def save_booking(self, *, company_id: str, details: BookingDetails) -> Booking: ...

    def note_booking_problem(self, *, booking_id: str, problem: str | None) -> None: ...

    def service(self, *, company_id: str, external_id: str) -> Service | None: ...

    def provider(self, *, company_id: str, external_id: str) -> Provider | None: ...

    def merge_catalog(
        self, *, company_id: str, services: list[CatalogEntry], providers: list[CatalogEntry]
    ) -> None:
        """Add services and providers the booking system lists; existing settings are kept."""
        ...

    def zoom_account_id(self, *, company_id: str) -> str | None: ...

    def ensure_meeting(
        self, *, booking: Booking, host: MeetingHostRef, marker_prefix: str
    ) -> tuple[Meeting, bool]:
        """The booking's meeting, recording the intent (with fresh link tokens) if there is none.

        Returns the meeting and whether this call created the intent.
        """
        ...

    def record_meeting_created(self, *, meeting_id: str, created: PlatformMeeting) -> Meeting: ...

    def ensure_notification(
        self, *, meeting: Meeting, target: ChatTarget
    ) -> tuple[Notification, bool]: ...

    def record_notification_posted(
        self, *, notification_id: str, posted: PostedMessage, digest: str
    ) -> Notification: ...

    def notification_started_at(self, *, notification_id: str) -> datetime: ...


class LinkStore(Protocol):
    def meeting_for_client_token(self, *, token: str) -> Meeting | None: ...

    def meeting_for_host_token(self, *, token: str) -> Meeting | None: ...


class JobQueue(Protocol):
    def claim(self, *, worker_id: str, lease_seconds: float) -> Job | None: ...

    def complete(self, *, job: Job, note: str | None = None) -> None: ...

    def retry(self, *, job: Job, run_at: datetime, error: str) -> None: ...

    def bury(self, *, job: Job, error: str) -> None:
        """The job is dead: recorded, never silently dropped."""
        ...

    def counts(self) -> Mapping[str, int]: ...
