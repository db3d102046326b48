"""Company set-up: the writes that admins' commands (and the sandbox's seeding) make."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import Engine, or_, select, update
from sqlalchemy.orm import Session, aliased
from sqlmodel import col

from bot.clock import Clock
from bot.domain import (
    AccountState,
    Actor,
    ChatPlatform,
    ChatTarget,
    Company,
    Meeting,
    MeetingPlatform,
    Provider,
    Service,
    StaffMember,
    ZoomAccount,
    ZoomConnection,
)
from bot.errors import MeetbotError, NotFound
from bot.jobs import SyncBooking
from storage.accounts import SqlZoomAccounts
from storage.crypto import SecretBox
from storage.jobs import defer_in
from storage.repository import (
    SqlStore,
    company_from_row,
    meeting_from_row,
    provider_from_row,
    service_from_row,
    token_digest,
)
from storage.tables import (
    BookingRow,
    ChatWorkspaceRow,
    CompanyRow,
    JobRow,
    MeetingRow,
    ProviderRow,
    SeatRow,
    ServiceRow,
    StaffMemberRow,
    ZoomAccountRow,
)

DISCONNECTED = "disconnected"


def _staff(row: StaffMemberRow) -> StaffMember:
    return StaffMember(
        row.company_id,
        ChatPlatform(row.platform),
        row.workspace_id,
        row.user_id,
        row.role,
        row.provider_external_id,
    )


class SqlSetup(SqlStore):
    """Implements the core's SetupStore on top of the booking repository."""

    def __init__(self, engine: Engine, box: SecretBox, clock: Clock) -> None:
        super().__init__(engine, box, clock)
        self._zoom = SqlZoomAccounts(engine, box, clock)

    # -- companies and workspaces -------------------------------------------------------------

    def create_company(
        self, *, login: str, api_key: str, api_secret: str, name: str = "", timezone: str = "UTC"
    ) -> tuple[Company, str]:
        """Returns the company and its secret webhook token."""
        token = secrets.token_urlsafe(32)
        with self._session() as session, session.begin():
            row = CompanyRow(
                simplybook_login=login,
                name=name or login,
                timezone=timezone,
                api_key_enc="",
                api_secret_enc="",
                webhook_token_enc="",
                webhook_token_hash=token_digest(token),
            )
            self._seal_credentials(row, api_key, api_secret)
            row.webhook_token_enc = self._box.encrypt(
                token, context=f"company.webhook_token:{row.id}"
            )
            session.add(row)
        return company_from_row(row), token

    def _seal_credentials(self, row: CompanyRow, api_key: str, api_secret: str) -> None:
        row.api_key_enc = self._box.encrypt(api_key, context=f"company.api_key:{row.id}")
        row.api_secret_enc = self._box.encrypt(api_secret, context=f"company.api_secret:{row.id}")

    def company_for_workspace(self, *, platform: str, workspace_id: str) -> Company | None:
        with self._read_session() as session:
            row = session.scalars(
                select(CompanyRow)
                .join(ChatWorkspaceRow, col(ChatWorkspaceRow.company_id) == CompanyRow.id)
                .where(
                    col(ChatWorkspaceRow.platform) == platform,
                    col(ChatWorkspaceRow.external_id) == workspace_id,
                )
            ).first()
        return company_from_row(row) if row else None

    def connect_simplybook(
        self, *, actor: Actor, login: str, api_key: str, api_secret: str, name: str, timezone: str
    ) -> tuple[Company, str]:
        """Credentials were verified against SimplyBook.me: whoever holds them owns the company."""
        with self._session() as session, session.begin():
            row = session.scalars(
                select(CompanyRow).where(col(CompanyRow.simplybook_login) == login)
            ).first()
            if row is None:
                token = secrets.token_urlsafe(32)
                row = CompanyRow(
                    simplybook_login=login,
                    name=name,
                    timezone=timezone,
                    api_key_enc="",
                    api_secret_enc="",
                    webhook_token_hash=token_digest(token),
                    webhook_token_enc="",
                )
                row.webhook_token_enc = self._box.encrypt(
                    token, context=f"company.webhook_token:{row.id}"
                )
                session.add(row)
            elif self._bound_elsewhere(session, row.id, actor):
                raise MeetbotError(
                    "This SimplyBook.me company is already connected to another chat workspace. "
                    "meetbot serves each company from one workspace; ask that workspace's admins."
                )
            row.name, row.timezone = name, timezone
            self._seal_credentials(row, api_key, api_secret)
            session.flush()
            self._bind(session, row.id, actor)
            company = company_from_row(row)
        return company, self.webhook_token(company_id=company.id)

    def _bound_elsewhere(self, session: Session, company_id: str, actor: Actor) -> bool:
        bound = session.execute(
            select(col(ChatWorkspaceRow.platform), col(ChatWorkspaceRow.external_id)).where(
                col(ChatWorkspaceRow.company_id) == company_id
            )
        ).all()
        return any(
            (platform, workspace) != (actor.platform.value, actor.workspace_id)
            for platform, workspace in bound
        )

    def _bind(self, session: Session, company_id: str, actor: Actor) -> None:
        workspace = session.scalars(
            select(ChatWorkspaceRow).where(
                col(ChatWorkspaceRow.platform) == actor.platform.value,
                col(ChatWorkspaceRow.external_id) == actor.workspace_id,
            )
        ).first()
        if workspace is None:
            workspace = ChatWorkspaceRow(
                platform=actor.platform.value, external_id=actor.workspace_id
            )
            session.add(workspace)
        workspace.company_id = company_id
        # Without an install record (single-workspace mode) the person who connected the booking
        # system is the admin meetbot knows to tell about problems.
        workspace.installed_by = workspace.installed_by or actor.user_id

    def webhook_token(self, *, company_id: str) -> str:
        with self._read_session() as session:
            row = session.get(CompanyRow, company_id)
        if row is None:
            raise NotFound("company not found")
        return self._box.decrypt(row.webhook_token_enc, context=f"company.webhook_token:{row.id}")

    def set_online_meetings(self, *, company_id: str, enabled: bool) -> None:
        with self._session() as session, session.begin():
            row = session.get(CompanyRow, company_id)
            if row is None:
                raise NotFound("company not found")
            row.online_meetings_enabled = enabled

    # -- staff --------------------------------------------------------------------------------

    def _staff_row(
        self, session: Session, company_id: str, actor: Actor, user_id: str
    ) -> StaffMemberRow:
        row = session.scalars(
            select(StaffMemberRow).where(
                col(StaffMemberRow.platform) == actor.platform.value,
                col(StaffMemberRow.workspace_id) == actor.workspace_id,
                col(StaffMemberRow.user_id) == user_id,
            )
        ).first()
        if row is None:
            row = StaffMemberRow(
                company_id=company_id,
                platform=actor.platform.value,
                workspace_id=actor.workspace_id,
                user_id=user_id,
            )
            session.add(row)
        row.company_id, row.updated_at = company_id, self._clock.now()
        return row

    def staff_member(self, *, company_id: str, actor: Actor) -> StaffMember | None:
        with self._read_session() as session:
            row = session.scalars(
                select(StaffMemberRow).where(
                    col(StaffMemberRow.company_id) == company_id,
                    col(StaffMemberRow.platform) == actor.platform.value,
                    col(StaffMemberRow.workspace_id) == actor.workspace_id,
                    col(StaffMemberRow.user_id) == actor.user_id,
                )
            ).first()
        return _staff(row) if row else None

    def staff(self, *, company_id: str) -> list[StaffMember]:
        with self._read_session() as session:
            rows = session.scalars(
                select(StaffMemberRow).where(col(StaffMemberRow.company_id) == company_id)
            )
            return [_staff(row) for row in rows]

    def set_role(self, *, company_id: str, actor: Actor, user_id: str, role: str | None) -> None:
        with self._session() as session, session.begin():
            self._staff_row(session, company_id, actor, user_id).role = role

    def tie_staff(
        self, *, company_id: str, actor: Actor, user_id: str, provider_external_id: str
    ) -> None:
        with self._session() as session, session.begin():
            row = self._staff_row(session, company_id, actor, user_id)
            row.provider_external_id = provider_external_id
            row.role = row.role or "junior"

    # -- services and providers ---------------------------------------------------------------

    def services(self, *, company_id: str) -> list[Service]:
        with self._read_session() as session:
            rows = session.scalars(
                select(ServiceRow)
                .where(col(ServiceRow.company_id) == company_id)
                .order_by(col(ServiceRow.name))
            )
            return [service_from_row(row) for row in rows]

    def providers(self, *, company_id: str) -> list[Provider]:
        with self._read_session() as session:
            rows = session.scalars(
                select(ProviderRow)
                .where(col(ProviderRow.company_id) == company_id)
                .order_by(col(ProviderRow.name))
            )
            return [provider_from_row(row) for row in rows]

    def set_service_online(self, *, company_id: str, external_id: str, enabled: bool) -> None:
        with self._session() as session, session.begin():
            row = session.scalars(
                select(ServiceRow).where(
                    col(ServiceRow.company_id) == company_id,
                    col(ServiceRow.external_id) == external_id,
                )
            ).first()
            if row is None:
                raise NotFound("service not found")
            row.online_meetings = enabled

    def _provider_row(self, session: Session, company_id: str, external_id: str) -> ProviderRow:
        row = session.scalars(
            select(ProviderRow).where(
                col(ProviderRow.company_id) == company_id,
                col(ProviderRow.external_id) == external_id,
            )
        ).first()
        if row is None:
            raise NotFound("provider not found")
        return row

    def set_provider_zoom(self, *, company_id: str, external_id: str, zoom_user: str) -> None:
        with self._session() as session, session.begin():
            row = self._provider_row(session, company_id, external_id)
            row.platform, row.zoom_user = MeetingPlatform.ZOOM.value, zoom_user

    def set_provider_platform(
        self, *, company_id: str, external_id: str, platform: MeetingPlatform
    ) -> None:
        with self._session() as session, session.begin():
            row = self._provider_row(session, company_id, external_id)
            row.platform = platform.value

    def set_provider_channel(
        self, *, company_id: str, external_id: str, channel: ChatTarget
    ) -> None:
        with self._session() as session, session.begin():
            row = self._provider_row(session, company_id, external_id)
            row.chat_platform, row.chat_workspace_id = channel.platform.value, channel.workspace_id
            row.chat_channel_id = channel.channel_id

    def map_provider(
        self,
        *,
        company_id: str,
        external_id: str,
        platform: MeetingPlatform | None,
        zoom_user: str | None = None,
        channel: ChatTarget | None = None,
    ) -> None:
        with self._session() as session, session.begin():
            row = self._provider_row(session, company_id, external_id)
            row.platform = platform.value if platform else None
            row.zoom_user = zoom_user
            if channel is not None:
                row.chat_platform, row.chat_workspace_id = (
                    channel.platform.value,
                    channel.workspace_id,
                )
                row.chat_channel_id = channel.channel_id

    # -- Zoom ---------------------------------------------------------------------------------

    def zoom_account(self, *, company_id: str) -> ZoomAccount | None:
        with self._read_session() as session:
            row = session.scalars(
                select(ZoomAccountRow).where(
                    col(ZoomAccountRow.company_id) == company_id,
                    col(ZoomAccountRow.state) != DISCONNECTED,
                )
            ).first()
        if row is None:
            return None
        return ZoomAccount(
            row.id,
            row.company_id,
            row.zoom_account_id,
            AccountState(row.state),
            row.state_reason,
            row.connected_by,
        )

    def save_zoom_account(
        self, *, company_id: str, connection: ZoomConnection, connected_by: str
    ) -> None:
        self._zoom.connect(
            company_id=company_id,
            zoom_account_id=connection.zoom_account_id,
            access_token=connection.access_token,
            refresh_token=connection.refresh_token,
            expires_at=self._clock.now() + timedelta(seconds=connection.expires_in),
            connected_by=connected_by,
        )

    def _forget_tokens(self, row: ZoomAccountRow, reason: str) -> None:
        # The row stays, so meetings it hosts keep their account; a reconnect fills it again.
        row.access_token_enc = row.refresh_token_enc = ""
        row.state, row.state_reason, row.refresh_lease_until = DISCONNECTED, reason, None

    def disconnect_zoom(self, *, company_id: str) -> bool:
        with self._session() as session, session.begin():
            row = session.scalars(
                select(ZoomAccountRow).where(col(ZoomAccountRow.company_id) == company_id)
            ).first()
            if row is None or row.state == DISCONNECTED:
                return False
            self._forget_tokens(row, "disconnected by an admin")
            return True

    def zoom_account_elsewhere(self, *, company_id: str, zoom_account_id: str) -> bool:
        """Whether that Zoom account is connected to another company."""
        with self._read_session() as session:
            found = session.scalars(
                select(col(ZoomAccountRow.id)).where(
                    col(ZoomAccountRow.zoom_account_id) == zoom_account_id,
                    col(ZoomAccountRow.company_id) != company_id,
                    col(ZoomAccountRow.state) != DISCONNECTED,
                )
            ).first()
        return found is not None

    def drop_zoom_account(self, *, zoom_account_id: str) -> list[tuple[str, str]]:
        with self._session() as session, session.begin():
            rows = session.scalars(
                select(ZoomAccountRow).where(
                    col(ZoomAccountRow.zoom_account_id) == zoom_account_id,
                    col(ZoomAccountRow.state) != DISCONNECTED,
                )
            ).all()
            for row in rows:
                self._forget_tokens(row, "the app was removed from the Zoom account")
            return [(row.company_id, row.connected_by) for row in rows]

    def meeting_to_start(self, *, company_id: str, meeting_id: str) -> tuple[Meeting, str] | None:
        with self._read_session() as session:
            found = session.execute(
                select(MeetingRow, col(BookingRow.provider_external_id), SeatRow)
                .join(BookingRow, col(BookingRow.id) == MeetingRow.booking_id)
                .join(SeatRow, col(SeatRow.booking_id) == MeetingRow.booking_id)
                .where(col(MeetingRow.company_id) == company_id, col(MeetingRow.id) == meeting_id)
            ).first()
        return (meeting_from_row(found[0], found[2], self._box), found[1]) if found else None

    def meeting_id_for_booking(self, *, company_id: str, reference: str) -> str | None:
        with self._read_session() as session:
            return session.scalars(
                select(col(MeetingRow.id))
                .join(BookingRow, col(BookingRow.id) == MeetingRow.booking_id)
                .where(
                    col(MeetingRow.company_id) == company_id,
                    or_(
                        col(BookingRow.code) == reference, col(BookingRow.external_id) == reference
                    ),
                )
            ).first()

    # -- attention ----------------------------------------------------------------------------

    def resync_blocked_bookings(self, *, company_id: str) -> int:
        now = self._clock.now()
        with self._engine.begin() as connection:
            blocked = connection.execute(
                select(col(BookingRow.external_id), col(BookingRow.booking_hash)).where(
                    col(BookingRow.company_id) == company_id,
                    col(BookingRow.problem).is_not(None),
                    col(BookingRow.status) != "cancelled",
                    col(BookingRow.end_at) > now,
                    col(BookingRow.booking_hash) != "",
                )
            ).all()
            for external_id, booking_hash in blocked:
                defer_in(
                    connection,
                    SyncBooking(booking_id=external_id, booking_hash=booking_hash),
                    company_id=company_id,
                    run_at=now,
                )
        return len(blocked)

    def hold_bookings_for_chat(
        self, *, company_id: str, platform: str, workspace_id: str, problem: str
    ) -> int:
        """Notes `problem` on every upcoming booking posted into that chat workspace (those
        already held keep their reason); returns how many. Fixing it re-syncs them."""
        in_workspace = select(col(ProviderRow.external_id)).where(
            col(ProviderRow.company_id) == company_id,
            col(ProviderRow.chat_platform) == platform,
            col(ProviderRow.chat_workspace_id) == workspace_id,
        )
        with self._session() as session, session.begin():
            held = session.execute(
                update(BookingRow)
                .where(
                    col(BookingRow.company_id) == company_id,
                    col(BookingRow.provider_external_id).in_(in_workspace),
                    col(BookingRow.problem).is_(None),
                    col(BookingRow.status) != "cancelled",
                    col(BookingRow.end_at) > self._clock.now(),
                )
                .values(problem=problem)
            )
            return int(held.rowcount)  # type: ignore[attr-defined]

    def open_problems(self, *, company_id: str) -> list[str]:
        problems = []
        zoom = self.zoom_account(company_id=company_id)
        if zoom is not None and zoom.state is not AccountState.ACTIVE:
            problems.append(
                f"Zoom needs reconnecting ({zoom.state_reason}): `/meetings connect zoom`"
            )
        for provider in self.providers(company_id=company_id):
            if provider.platform is MeetingPlatform.ZOOM and not provider.zoom_user:
                problems.append(
                    f"{provider.name} has no Zoom host: `/meetings provider {provider.name} zoom EMAIL`"
                )
            if provider.platform is not None and provider.channel is None:
                problems.append(
                    f"{provider.name} has no channel: `/meetings provider {provider.name} channel #channel`"
                )
        with self._read_session() as session:
            noted = session.scalars(
                select(BookingRow)
                .where(
                    col(BookingRow.company_id) == company_id,
                    col(BookingRow.problem).is_not(None),
                    col(BookingRow.start_at) > self._clock.now(),
                )
                .order_by(col(BookingRow.start_at))
                .limit(5)
            ).all()
            later = aliased(JobRow)
            went_through_later = (
                select(col(later.id))
                .where(
                    col(later.dedupe_key) == JobRow.dedupe_key,
                    col(later.id) > JobRow.id,
                    col(later.state) == "done",
                )
                .exists()
            )
            dead = session.scalars(
                select(JobRow.id).where(  # type: ignore[call-overload]
                    col(JobRow.company_id) == company_id,
                    col(JobRow.state) == "dead",
                    ~went_through_later,
                )
            ).all()
        problems.extend(f"Booking {row.code or row.external_id}: {row.problem}" for row in noted)
        if dead:
            problems.append(f"{len(dead)} booking update(s) failed for good; see the worker log")
        return problems
