"""What meetbot keeps about companies, their catalog, staff, bookings and meetings.

One small protocol per aggregate; every lookup is keyword-only and scoped by company."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from bot.domain import (
    AcceptedCallback,
    Actor,
    Booking,
    BookingDetails,
    BookingEntries,
    CatalogEntry,
    ChatPlatform,
    ChatTarget,
    Company,
    Meeting,
    MeetingHostRef,
    MeetingPlatform,
    PlatformMeeting,
    Provider,
    Seat,
    Service,
    SimplyBookCredentials,
    StaffMember,
    ZoomAccount,
    ZoomConnection,
)


class Companies(Protocol):
    """A company's own record: found by workspace, its SimplyBook.me connection and switches.

    Essential: `company`, `company_for_workspace`, `company_with_credentials`."""

    def company(self, *, company_id: str) -> Company: ...

    def company_for_workspace(self, *, platform: str, workspace_id: str) -> Company | None: ...

    def company_with_credentials(
        self, *, company_id: str
    ) -> tuple[Company, SimplyBookCredentials | None]:
        """The company and, when it uses SimplyBook.me, its credentials: what a booking job
        needs, read once."""
        ...

    def connect_simplybook(
        self, *, actor: Actor, login: str, api_key: str, api_secret: str, name: str, timezone: str
    ) -> tuple[Company, str]:
        """Creates or updates the workspace's company; returns it and its webhook token."""
        ...

    def start_company(self, *, actor: Actor, name: str, timezone: str = "UTC") -> Company:
        """A company without SimplyBook.me (a generic booking webhook feeds it), bound to the
        actor's chat workspace."""
        ...

    def webhook_token(self, *, company_id: str) -> str: ...

    def rename_company(self, *, company_id: str, name: str) -> None: ...

    def adopt_timezone(self, *, company_id: str, timezone: str) -> bool:
        """A company started without a zone takes this one (once); whether it did."""
        ...

    def set_online_meetings(self, *, company_id: str, enabled: bool) -> None: ...

    def open_problems(self, *, company_id: str) -> list[str]: ...


class Catalog(Protocol):
    """The company's services and providers, with the settings admins give each.

    Essential: `booking_entries`, `provider`, `merge_catalog`."""

    def service(self, *, company_id: str, external_id: str) -> Service | None: ...

    def provider(self, *, company_id: str, external_id: str) -> Provider | None: ...

    def booking_entries(
        self, *, company_id: str, service_id: str, provider_id: str
    ) -> BookingEntries:
        """The booking's service and provider with the company's connected Zoom account: every
        new meeting needs all three, read in one lookup."""
        ...

    def services(self, *, company_id: str) -> list[Service]: ...

    def providers(self, *, company_id: str) -> list[Provider]: ...

    def merge_catalog(
        self, *, company_id: str, services: list[CatalogEntry], providers: list[CatalogEntry]
    ) -> None:
        """Add services and providers the booking system lists; existing settings are kept."""
        ...

    def set_service_online(self, *, company_id: str, external_id: str, enabled: bool) -> None: ...

    def set_provider_zoom(self, *, company_id: str, external_id: str, zoom_user: str) -> None: ...

    def set_provider_platform(
        self, *, company_id: str, external_id: str, platform: MeetingPlatform
    ) -> None: ...

    def set_provider_channel(
        self, *, company_id: str, external_id: str, channel: ChatTarget
    ) -> None: ...


class Staff(Protocol):
    """Who works for the company in chat, their roles and the providers they are.

    Essential: `staff_member`, `admin_targets`."""

    def staff_member(self, *, company_id: str, actor: Actor) -> StaffMember | None: ...

    def staff(self, *, company_id: str) -> list[StaffMember]: ...

    def set_role(
        self, *, company_id: str, actor: Actor, user_id: str, role: str | None
    ) -> None: ...

    def tie_staff(
        self, *, company_id: str, actor: Actor, user_id: str, provider_external_id: str
    ) -> None: ...

    def admin_targets(
        self, *, company_id: str, platform: ChatPlatform, workspace_id: str
    ) -> list[ChatTarget]:
        """Direct-message targets of the company's admins in that workspace."""
        ...


class ZoomAccounts(Protocol):
    """The Zoom account a company connected (its tokens live with the Zoom adapter).

    Essential: `zoom_account_id`, `zoom_account`."""

    def zoom_account_id(self, *, company_id: str) -> str | None: ...

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


class Bookings(Protocol):
    """Bookings as meetbot last saw them, and the problems that hold them up.

    Essential: `save_booking`, `note_booking_problem`."""

    def save_booking(
        self, *, company_id: str, details: BookingDetails, booking_hash: str = ""
    ) -> tuple[Booking, bool]:
        """The booking as saved, and whether this save recorded it first (a booking seen for
        the first time has no meeting yet: nothing needs to look)."""
        ...

    def note_booking_problem(self, *, booking_id: str, problem: str | None) -> None: ...

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


class Meetings(Protocol):
    """Each booking's meeting: the intent recorded before the platform call, then its life.

    Essential: `ensure_meeting`, `record_meeting_created`, `meeting_for_booking`."""

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

    def record_meeting_created(self, *, meeting: Meeting, created: PlatformMeeting) -> Meeting:
        """`meeting` as the intent was read or recorded; returned as created."""
        ...

    def meeting_for_booking(self, *, booking: Booking) -> Meeting | None: ...

    def meeting_with_booking(
        self, *, company_id: str, meeting_id: str
    ) -> tuple[Meeting, Booking] | None: ...

    def record_meeting_moved(
        self, *, meeting_id: str, start: datetime, end: datetime
    ) -> Meeting: ...

    def record_meeting_cancelled(self, *, meeting_id: str) -> Meeting: ...

    def restart_meeting(
        self, *, meeting_id: str, marker_prefix: str, start: datetime, end: datetime
    ) -> Meeting: ...

    def meeting_to_start(self, *, company_id: str, meeting_id: str) -> tuple[Meeting, str] | None:
        """The company's meeting and its booking's provider id."""
        ...

    def open_early(self, *, meeting_id: str) -> Meeting: ...

    def schedule_reminder(self, *, meeting: Meeting, at: datetime) -> None:
        """Queues the "starting now" reply for the meeting's opening time."""
        ...


class Seats(Protocol):
    """The seats of a class meeting, one per booking.

    Essential: all three."""

    def seats(self, *, meeting: Meeting) -> list[Seat]: ...

    def record_seat_registered(
        self, *, booking_id: str, registrant_id: str, join_url: str
    ) -> None: ...

    def record_seat_cancelled(self, *, booking_id: str) -> int:
        """Returns how many seats of the meeting are still taken."""
        ...


class CallbackInbox(Protocol):
    """Essential: both. Batches, so that callbacks arriving together cost one commit."""

    def companies_for_webhook_tokens(self, *, tokens: Collection[str]) -> dict[str, Company]:
        """The company of each known token (an unknown token is left out)."""
        ...

    def record_callbacks(self, *, accepted: Sequence[AcceptedCallback]) -> None:
        """Store every callback and make sure one sync job for each booking is pending, all in
        one transaction: every one of them, or none."""
        ...


class LinkStore(Protocol):
    def client_view(self, *, token: str) -> tuple[Meeting, BookingDetails, Company] | None: ...

    def meeting_for_host_token(self, *, token: str) -> Meeting | None: ...
