"""The core's domain. Times are aware UTC; conversion to a reader's zone happens only when rendering.

This module holds the entities: a company with its catalog and staff, its bookings, the meetings
made for them with their seats and channel messages, the accounts it connects, and the jobs that
do the work. `kinds` holds the closed vocabularies (enumerations) and `oversight` what a company's
admins are told; both are re-exported here, so every caller writes `from bot.domain import X`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.callbacks import AcceptedCallback, BookingCallback
from bot.domain.kinds import (
    AccountState,
    BookingStatus,
    ChatPlatform,
    MeetingPlatform,
    MeetingState,
    NotificationState,
    NotificationType,
    PaymentState,
)
from bot.domain.oversight import Alert, AlertKind, AlertSpec, AuditEntry, DigestSettings, ReportRow

__all__ = [
    "AcceptedCallback",
    "AccountState",
    "Actor",
    "Alert",
    "AlertKind",
    "AlertSpec",
    "AuditEntry",
    "Booking",
    "BookingCallback",
    "BookingDetails",
    "BookingStatus",
    "CatalogEntry",
    "ChatPlatform",
    "ChatTarget",
    "Company",
    "CompanyInfo",
    "DigestSettings",
    "Job",
    "Meeting",
    "MeetingHostRef",
    "MeetingPlatform",
    "MeetingRequest",
    "MeetingState",
    "MsAccount",
    "MsConnectRefused",
    "MsConnection",
    "Notification",
    "NotificationState",
    "NotificationType",
    "PaymentState",
    "PlatformMeeting",
    "PlatformUser",
    "PostedMessage",
    "Provider",
    "ReportRow",
    "Seat",
    "Service",
    "SimplyBookCredentials",
    "StaffMember",
    "ZoomAccount",
    "ZoomConnection",
]


@dataclass(frozen=True, slots=True)
class SimplyBookCredentials:
    company_login: str
    api_key: str
    api_secret: str

    def __repr__(self) -> str:  # keeps secrets out of tracebacks and logs
        return f"SimplyBookCredentials(company_login={self.company_login!r}, ...)"


@dataclass(frozen=True, slots=True)
class Company:
    id: str
    simplybook_login: str
    name: str
    timezone: str
    online_meetings_enabled: bool
    open_minutes_before: int = 10

    @property
    def uses_simplybook(self) -> bool:  # False: bookings come only from a generic webhook
        return bool(self.simplybook_login)


@dataclass(frozen=True, slots=True)
class ChatTarget:
    """Where a message goes: a channel of one chat workspace."""

    platform: ChatPlatform
    workspace_id: str
    channel_id: str


@dataclass(frozen=True, slots=True)
class Service:
    company_id: str
    external_id: str
    name: str
    online_meetings: bool
    is_class: bool = False


@dataclass(frozen=True, slots=True)
class Provider:
    company_id: str
    external_id: str
    name: str
    email: str
    platform: MeetingPlatform | None
    zoom_user: str | None
    channel: ChatTarget | None


@dataclass(frozen=True, slots=True)
class BookingEntries:
    """What setting up a booking's meeting reads at once: its service and provider (None: not
    listed yet) and the id of the company's connected Zoom account (None: none connected)."""

    service: Service | None
    provider: Provider | None
    zoom_account_id: str | None


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """A service or provider as the booking system lists it."""

    external_id: str
    name: str
    email: str = ""
    is_class: bool = False


@dataclass(frozen=True, slots=True)
class BookingDetails:
    """A booking as the booking system reports it now."""

    external_id: str
    code: str
    service_id: str
    service_name: str
    provider_id: str
    provider_name: str
    client_name: str
    client_email: str
    client_phone: str
    start: datetime
    end: datetime
    status: BookingStatus
    payment: PaymentState

    @property
    def duration_minutes(self) -> int:
        return max(1, round((self.end - self.start).total_seconds() / 60))


@dataclass(frozen=True, slots=True)
class Booking:
    id: str
    company_id: str
    details: BookingDetails
    problem: str | None = None  # the set-up problem holding it up, as last noted


@dataclass(frozen=True, slots=True)
class ZoomAccount:
    id: str
    company_id: str
    zoom_account_id: str
    state: AccountState
    state_reason: str = ""
    connected_by: str = ""


@dataclass(frozen=True, slots=True)
class MeetingHostRef:
    """Which connected account hosts a meeting, and as which platform user."""

    platform: MeetingPlatform
    account_id: str
    host_user: str


@dataclass(frozen=True, slots=True)
class Meeting:
    id: str
    company_id: str
    booking_id: str
    host: MeetingHostRef
    marker: str
    state: MeetingState
    start: datetime
    end: datetime
    external_id: str | None
    join_url: str | None
    client_token: str
    host_token: str
    opened_at: datetime | None = None
    class_key: str | None = None  # a group class: several bookings' seats share this meeting


@dataclass(frozen=True, slots=True)
class Seat:
    """A client's place in a meeting; a class has several."""

    booking_id: str
    booking_code: str
    client_name: str
    client_email: str
    client_token: str
    registrant_id: str | None
    join_url: str | None
    cancelled: bool


@dataclass(frozen=True, slots=True)
class MeetingRequest:
    """What the platform is asked to create. `marker` lets a retry find a meeting that was made."""

    topic: str
    start: datetime
    duration_minutes: int
    timezone: str
    agenda: str
    marker: str
    registration: bool = False  # a class on Zoom: each client registers for a join URL of their own


@dataclass(frozen=True, slots=True)
class PlatformMeeting:
    external_id: str
    join_url: str


@dataclass(frozen=True, slots=True)
class Notification:
    id: str
    meeting_id: str
    target: ChatTarget
    marker: str
    state: NotificationState
    message_id: str | None
    digest: str | None


@dataclass(frozen=True, slots=True)
class PostedMessage:
    channel_id: str
    message_id: str


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    kind: str
    company_id: str | None
    payload: dict[str, str]
    attempts: int
    worker_id: str


@dataclass(frozen=True, slots=True)
class Actor:
    """Who typed a command, as the chat platform vouches for it."""

    platform: ChatPlatform
    workspace_id: str
    user_id: str
    is_workspace_admin: bool = False
    channel_id: str = ""


@dataclass(frozen=True, slots=True)
class StaffMember:
    company_id: str
    platform: ChatPlatform
    workspace_id: str
    user_id: str
    role: str | None
    provider_external_id: str | None


@dataclass(frozen=True, slots=True)
class CompanyInfo:
    login: str
    name: str
    timezone: str


@dataclass(frozen=True, slots=True)
class PlatformUser:
    """A user of a connected meeting account who can host meetings."""

    id: str
    email: str
    name: str


@dataclass(frozen=True, slots=True)
class ZoomConnection:
    """What Zoom's OAuth gave for an authorisation code; tokens stay out of repr."""

    zoom_account_id: str
    user_id: str
    email: str
    access_token: str
    refresh_token: str
    expires_in: int

    def __repr__(self) -> str:
        return f"ZoomConnection(zoom_account_id={self.zoom_account_id!r}, email={self.email!r})"


@dataclass(frozen=True, slots=True)
class ZoomTokens:
    """A connected Zoom account's tokens; `version` counts refreshes (a compare-and-swap)."""

    access_token: str
    refresh_token: str
    expires_at: datetime
    version: int

    def __repr__(self) -> str:
        return f"ZoomTokens(version={self.version}, expires_at={self.expires_at.isoformat()})"


@dataclass(frozen=True, slots=True)
class MsAccount:
    """A Microsoft work account that hosts Teams meetings: the company's or a provider's own."""

    id: str
    company_id: str
    provider_external_id: str  # "" = the company's own account
    tenant_id: str
    object_id: str
    username: str
    display_name: str
    home_account_id: str
    state: AccountState
    state_reason: str = ""
    connected_by: str = ""


@dataclass(frozen=True, slots=True)
class MsSignInFor:
    """Whom a Microsoft sign-in is for: a company, one of its providers ("" = the company's own
    account), and who started it."""

    company_id: str
    provider_external_id: str
    actor: Actor


@dataclass(frozen=True, slots=True)
class MsConnection:
    """A completed sign-in: who signed in, for which company and provider, and msal's cache."""

    company_id: str
    provider_external_id: str  # "" = the company's own account
    actor: Actor
    tenant_id: str
    object_id: str
    username: str
    display_name: str
    home_account_id: str
    token_cache: str

    def __repr__(self) -> str:  # the cache holds refresh tokens
        return (
            f"MsConnection(company_id={self.company_id!r}, "
            f"provider_external_id={self.provider_external_id!r}, username={self.username!r})"
        )


@dataclass(frozen=True, slots=True)
class MsConnectRefused:
    """Why nothing was connected, in words for the person who tried."""

    kind: str  # why, as a short name (personal_account, other_organisation, expired, ...)
    reason: str
    company_id: str | None = None
    provider_external_id: str = ""
    actor: Actor | None = None
