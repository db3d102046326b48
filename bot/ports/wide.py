"""The transitional wide port, kept until every use case takes the narrow ones in `records`."""

from __future__ import annotations

from typing import Protocol

from bot.domain import (
    Actor,
    CatalogEntry,
    ChatTarget,
    Company,
    Meeting,
    MeetingPlatform,
    Provider,
    Service,
    SimplyBookCredentials,
    StaffMember,
    ZoomAccount,
    ZoomConnection,
)


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
