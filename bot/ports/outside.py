"""The outside parties the core talks to: the booking system, meeting platforms and chats."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from bot.domain import (
    BookingDetails,
    CatalogEntry,
    ChatTarget,
    CompanyInfo,
    MeetingHostRef,
    MeetingRequest,
    MsConnection,
    MsConnectRefused,
    MsSignInFor,
    PlatformMeeting,
    PlatformUser,
    PostedMessage,
    SimplyBookCredentials,
    ZoomConnection,
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

    async def company_info(self, *, credentials: SimplyBookCredentials) -> CompanyInfo:
        """Also proves the credentials work."""
        ...

    async def plugin_active(self, *, credentials: SimplyBookCredentials, plugin: str) -> bool: ...


class MeetingPlatformPort(Protocol):
    """A video meeting platform (Zoom; Microsoft Teams through Graph)."""

    async def create_meeting(
        self, *, host: MeetingHostRef, request: MeetingRequest
    ) -> PlatformMeeting: ...

    async def find_meeting(
        self,
        *,
        host: MeetingHostRef,
        marker: str,
        start: datetime,
        request: MeetingRequest | None = None,
    ) -> PlatformMeeting | None:
        """The meeting carrying `marker`, if an earlier attempt created it (`request`: what that
        attempt asked for, for platforms that can only look up by asking again)."""
        ...

    async def fresh_host_url(self, *, host: MeetingHostRef, external_id: str) -> str: ...

    async def move_meeting(
        self, *, host: MeetingHostRef, external_id: str, start: datetime, duration_minutes: int
    ) -> None:
        """Raises MeetingGone if the platform no longer has it."""
        ...

    async def delete_meeting(self, *, host: MeetingHostRef, external_id: str) -> None:
        """Deleting a meeting that is already gone is not an error."""
        ...

    async def add_registrant(
        self, *, host: MeetingHostRef, external_id: str, name: str, email: str
    ) -> tuple[str, str] | None:
        """A class client's own registration: (registrant id, personal join URL); None where the
        platform has no registrations (everyone joins by the meeting's URL). Repeating it for the
        same e-mail gives the same registration."""
        ...

    async def cancel_registrant(
        self, *, host: MeetingHostRef, external_id: str, registrant_id: str, email: str
    ) -> None: ...


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

    async def reply(
        self, *, target: ChatTarget, thread_id: str, message: ChatMessage, marker: str
    ) -> PostedMessage:
        """Posts `message` in the thread of the message `thread_id`."""
        ...

    async def find_reply(
        self, *, target: ChatTarget, thread_id: str, marker: str
    ) -> PostedMessage | None:
        """The reply carrying `marker` in that thread, if an earlier attempt posted it."""
        ...

    async def post_file(
        self, *, target: ChatTarget, filename: str, content: bytes, title: str, comment: str
    ) -> None:
        """Uploads a file into a conversation (a direct message when `target` is a user)."""
        ...


class ZoomDirectory(Protocol):
    async def users(self, *, account_id: str) -> list[PlatformUser]: ...

    async def exchange_code(self, *, code: str) -> ZoomConnection: ...


class TeamsSignIn(Protocol):
    """Microsoft's sign-in (authorization code flow) for connecting an account."""

    async def authorize_url(
        self, *, signing_in: MsSignInFor, browser_nonce: str, login_hint: str = ""
    ) -> str: ...

    async def complete(
        self, form: Mapping[str, str], *, browser_nonce: str
    ) -> MsConnection | MsConnectRefused: ...
