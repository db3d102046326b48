"""What the core needs from the outside, as small keyword-only protocols.

Adapters implement these; tests use the same adapters against simulated platforms.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from bot.domain import (
    Actor,
    Alert,
    AlertKind,
    AlertSpec,
    AuditEntry,
    Booking,
    BookingCallback,
    BookingDetails,
    CatalogEntry,
    ChatPlatform,
    ChatTarget,
    Company,
    CompanyInfo,
    DigestSettings,
    Job,
    Meeting,
    MeetingHostRef,
    MeetingPlatform,
    MeetingRequest,
    MsAccount,
    MsConnection,
    MsConnectRefused,
    Notification,
    PlatformMeeting,
    PlatformUser,
    PostedMessage,
    Provider,
    ReportRow,
    Seat,
    Service,
    SimplyBookCredentials,
    StaffMember,
    ZoomAccount,
    ZoomConnection,
)
from bot.messages import ChatMessage
from bot.signin import SignInState, StateProblem
from bot.templates import MessageTemplate, TemplateKind, TemplateScope


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


class CallbackInbox(Protocol):
    def company_for_webhook_token(self, *, token: str) -> Company | None: ...

    def record_callback(self, *, company_id: str, callback: BookingCallback, raw_body: str) -> None:
        """Store the callback and make sure one sync job for its booking is pending, atomically."""
        ...


class BookingStore(Protocol):
    """The state the sync job reconciles against. Every call is scoped by company."""

    def company(self, *, company_id: str) -> Company: ...

    def simplybook_credentials(self, *, company_id: str) -> SimplyBookCredentials: ...

    def save_booking(
        self, *, company_id: str, details: BookingDetails, booking_hash: str = ""
    ) -> Booking: ...

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
        self,
        *,
        booking: Booking,
        host: MeetingHostRef,
        marker_prefix: str,
        class_key: str | None = None,
    ) -> tuple[Meeting, bool]:
        """The booking's meeting, recording the intent (with fresh link tokens) if there is none.

        With `class_key`, the booking takes a seat in the class's meeting when the class has one.
        Returns the meeting (with this booking's client token) and whether this call created the
        meeting's intent.
        """
        ...

    def seats(self, *, meeting: Meeting) -> list[Seat]: ...

    def record_seat_registered(
        self, *, booking_id: str, registrant_id: str, join_url: str
    ) -> None: ...

    def record_seat_cancelled(self, *, booking_id: str) -> int:
        """Returns how many seats of the meeting are still taken."""
        ...

    def record_meeting_created(self, *, meeting_id: str, created: PlatformMeeting) -> Meeting: ...

    def meeting_for_booking(self, *, booking: Booking) -> Meeting | None: ...

    def meeting_with_booking(
        self, *, company_id: str, meeting_id: str
    ) -> tuple[Meeting, Booking] | None: ...

    def schedule_reminder(self, *, meeting: Meeting, at: datetime) -> None:
        """Queues the "starting now" reply for the meeting's opening time."""
        ...

    def record_meeting_moved(
        self, *, meeting_id: str, start: datetime, end: datetime
    ) -> Meeting: ...

    def record_meeting_cancelled(self, *, meeting_id: str) -> Meeting: ...

    def restart_meeting(
        self, *, meeting_id: str, marker_prefix: str, start: datetime, end: datetime
    ) -> Meeting: ...

    def notifications_for_meeting(self, *, meeting: Meeting) -> list[Notification]: ...

    def record_notification_edited(self, *, notification_id: str, digest: str) -> None: ...

    def ensure_notification(
        self, *, meeting: Meeting, target: ChatTarget
    ) -> tuple[Notification, bool]: ...

    def record_notification_posted(
        self, *, notification_id: str, posted: PostedMessage, digest: str
    ) -> Notification: ...

    def notification_started_at(self, *, notification_id: str) -> datetime: ...

    def admin_targets(
        self, *, company_id: str, platform: ChatPlatform, workspace_id: str
    ) -> list[ChatTarget]:
        """Direct-message targets of the company's admins in that workspace."""
        ...


class LinkStore(Protocol):
    def client_view(self, *, token: str) -> tuple[Meeting, BookingDetails, Company] | None: ...

    def meeting_for_host_token(self, *, token: str) -> Meeting | None: ...


class JobQueue(Protocol):
    def claim(self, *, worker_id: str, lease_seconds: float) -> Job | None: ...

    def extend_lease(self, *, job: Job, lease_seconds: float) -> bool:
        """Keeps a running job's claim; False if another worker has taken it over."""
        ...

    def hold(self, *, job: Job, key: str) -> bool:
        """Takes the running job's turn on a shared resource; False while another job has it."""
        ...

    def complete(self, *, job: Job, note: str | None = None) -> None: ...

    def retry(self, *, job: Job, run_at: datetime, error: str, counted: bool = True) -> None:
        """Runs the job again at `run_at`; an uncounted retry does not use up an attempt."""
        ...

    def bury(self, *, job: Job, error: str) -> None:
        """The job is dead: recorded, never silently dropped."""
        ...

    def counts(self) -> Mapping[str, int]: ...


class ZoomDirectory(Protocol):
    async def users(self, *, account_id: str) -> list[PlatformUser]: ...

    async def exchange_code(self, *, code: str) -> ZoomConnection: ...


class OAuthStates(Protocol):
    def issue(
        self,
        *,
        purpose: str,
        company_id: str | None,
        actor: Actor,
        ttl_seconds: float,
        browser_nonce: str = "",
        payload: str = "",
    ) -> str:
        """A new single-use state value (bound to the browser holding `browser_nonce`, if given;
        `payload` is kept encrypted)."""
        ...

    def peek(self, *, purpose: str, state: str) -> SignInState | None:
        """What the state was issued for, without using it up."""
        ...

    def take(self, *, purpose: str, state: str) -> SignInState | None:
        """What the state was issued for, once; None if unknown, used or expired."""
        ...

    def take_bound(
        self, *, purpose: str, state: str, browser_nonce: str
    ) -> SignInState | StateProblem:
        """Like `take`, only from the browser whose nonce the state was bound to."""
        ...

    def take_for(self, *, purpose: str, state: str, actor: Actor) -> SignInState | None:
        """Like `take`, only for the person who started it."""
        ...

    def consume(self, *, purpose: str, state: str) -> tuple[str | None, Actor] | None:
        """The company and actor the state was issued for, once; None if unknown, used or expired."""
        ...


class SetupStore(Protocol):
    """Company set-up as admins change it from chat. Every call is scoped by company."""

    def company_for_workspace(self, *, platform: str, workspace_id: str) -> Company | None: ...

    def simplybook_credentials(self, *, company_id: str) -> SimplyBookCredentials: ...

    def connect_simplybook(
        self, *, actor: Actor, login: str, api_key: str, api_secret: str, name: str, timezone: str
    ) -> tuple[Company, str]:
        """Creates or updates the workspace's company; returns it and its webhook token."""
        ...

    def webhook_token(self, *, company_id: str) -> str: ...

    def staff_member(self, *, company_id: str, actor: Actor) -> StaffMember | None: ...

    def staff(self, *, company_id: str) -> list[StaffMember]: ...

    def set_role(
        self, *, company_id: str, actor: Actor, user_id: str, role: str | None
    ) -> None: ...

    def tie_staff(
        self, *, company_id: str, actor: Actor, user_id: str, provider_external_id: str
    ) -> None: ...

    def set_online_meetings(self, *, company_id: str, enabled: bool) -> None: ...

    def services(self, *, company_id: str) -> list[Service]: ...

    def providers(self, *, company_id: str) -> list[Provider]: ...

    def merge_catalog(
        self, *, company_id: str, services: list[CatalogEntry], providers: list[CatalogEntry]
    ) -> None: ...

    def set_service_online(self, *, company_id: str, external_id: str, enabled: bool) -> None: ...

    def set_provider_zoom(self, *, company_id: str, external_id: str, zoom_user: str) -> None: ...

    def set_provider_platform(
        self, *, company_id: str, external_id: str, platform: MeetingPlatform
    ) -> None: ...

    def set_provider_channel(
        self, *, company_id: str, external_id: str, channel: ChatTarget
    ) -> None: ...

    def zoom_account(self, *, company_id: str) -> ZoomAccount | None: ...

    def save_zoom_account(
        self, *, company_id: str, connection: ZoomConnection, connected_by: str
    ) -> None: ...

    def disconnect_zoom(self, *, company_id: str) -> bool: ...

    def zoom_account_elsewhere(self, *, company_id: str, zoom_account_id: str) -> bool:
        """Whether that Zoom account is connected to another company."""
        ...

    def drop_zoom_account(self, *, zoom_account_id: str) -> list[tuple[str, str]]:
        """Deletes every connection to that Zoom account; returns (company id, connected by)."""
        ...

    def open_problems(self, *, company_id: str) -> list[str]: ...

    def meeting_to_start(self, *, company_id: str, meeting_id: str) -> tuple[Meeting, str] | None:
        """The company's meeting and its booking's provider id."""
        ...

    def open_early(self, *, meeting_id: str) -> Meeting: ...

    def meeting_id_for_booking(self, *, company_id: str, reference: str) -> str | None:
        """The meeting of the company's booking with that code or number."""
        ...

    def hold_bookings_for_chat(
        self, *, company_id: str, platform: str, workspace_id: str, problem: str
    ) -> int:
        """Notes `problem` on the upcoming bookings posted into that chat workspace."""
        ...

    def resync_blocked_bookings(self, *, company_id: str) -> int:
        """Queues a sync of every upcoming booking held up by a set-up problem; returns how many."""
        ...


class AlertStore(Protocol):
    def raise_alert(self, *, company_id: str, spec: AlertSpec, booking: str = "") -> bool:
        """Records the problem; True when the admins will be told (new, or a day since)."""
        ...

    def resolve(
        self, *, company_id: str, kind: AlertKind, subject: str | None = None, resolution: str
    ) -> int:
        """Closes open alerts of that kind (and subject); the admins told are told it is fixed."""
        ...

    def alert(self, *, company_id: str, alert_id: str) -> Alert | None: ...

    def open_alerts(self, *, company_id: str) -> list[Alert]: ...


class AdminInbox(Protocol):
    """Direct messages to a company's admins, each recorded before it is sent."""

    def admin_inboxes(self, *, company_id: str) -> list[ChatTarget]: ...

    def ensure_admin_message(
        self, *, company_id: str, key: str, target: ChatTarget
    ) -> tuple[str, str, str | None, bool]:
        """(row id, marker, message id once posted, whether this call recorded the intent)."""
        ...

    def admin_message_started_at(self, *, row_id: str) -> datetime: ...

    def record_admin_message_posted(self, *, row_id: str, posted: PostedMessage) -> None: ...


class AuditLog(Protocol):
    def record(self, *, company_id: str, actor: str, action: str, detail: str = "") -> None: ...

    def latest(self, *, company_id: str, limit: int = 20) -> list[AuditEntry]: ...


class AdminRecords(AuditLog, Protocol):
    """The audit trail, the report's rows and the digest's schedule."""

    def report_rows(
        self, *, company_id: str, start: datetime, end: datetime
    ) -> list[ReportRow]: ...

    def digest_settings(self, *, company_id: str) -> DigestSettings: ...

    def set_digest(self, *, company_id: str, enabled: bool, hour: int | None = None) -> None: ...

    def claim_digest(self, *, company_id: str, local_date: str) -> bool:
        """Marks the day's digest as sent; False if it already was."""
        ...


class TemplateStore(Protocol):
    def templates(self, *, company_id: str) -> list[MessageTemplate]: ...

    def save_template(self, *, company_id: str, template: MessageTemplate, actor: str) -> None: ...

    def reset_template(
        self, *, company_id: str, kind: TemplateKind, scope: TemplateScope, scope_id: str
    ) -> bool: ...


class TeamsAccounts(Protocol):
    """Microsoft work accounts that host Teams meetings (the company's, and providers' own)."""

    def account(self, *, company_id: str, provider_external_id: str = "") -> MsAccount | None: ...

    def accounts(self, *, company_id: str) -> list[MsAccount]: ...

    def save_account(
        self,
        *,
        company_id: str,
        provider_external_id: str,
        tenant_id: str,
        object_id: str,
        username: str,
        display_name: str,
        home_account_id: str,
        token_cache: str,
        connected_by: str = "",
    ) -> MsAccount: ...

    def disconnect(self, *, company_id: str, provider_external_id: str = "") -> bool: ...

    def linked_elsewhere(self, *, company_id: str, tenant_id: str, object_id: str) -> bool:
        """Whether that Microsoft account is connected to another company."""
        ...


class TeamsSignIn(Protocol):
    """Microsoft's sign-in (authorization code flow) for connecting an account."""

    async def authorize_url(
        self,
        *,
        company_id: str,
        provider_external_id: str,
        actor: Actor,
        browser_nonce: str,
        login_hint: str = "",
    ) -> str: ...

    async def complete(
        self, form: Mapping[str, str], *, browser_nonce: str
    ) -> MsConnection | MsConnectRefused: ...
