"""Repositories that return domain types. Every query is scoped by company."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from bot.clock import Clock
from bot.domain import (
    Booking,
    BookingCallback,
    BookingDetails,
    BookingStatus,
    CatalogEntry,
    ChatPlatform,
    ChatTarget,
    Company,
    Meeting,
    MeetingHostRef,
    MeetingPlatform,
    MeetingState,
    PaymentState,
    PlatformMeeting,
    Provider,
    Seat,
    Service,
    SimplyBookCredentials,
)
from bot.errors import NotFound
from bot.jobs import MeetingReminder, SyncBooking
from storage.availability import reads_only
from storage.crypto import SecretBox
from storage.jobs import defer_in
from storage.secret_columns import secret_context
from storage.tables import (
    BookingRow,
    ChatWorkspaceRow,
    CompanyRow,
    MeetingRow,
    ProviderRow,
    ReceivedEventRow,
    SeatRow,
    ServiceRow,
    StaffMemberRow,
    ZoomAccountRow,
    new_id,
)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_link_token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits: unguessable, and says nothing about the meeting


def seal_link_token(box: SecretBox, *, table: str, column: str, row_id: str) -> tuple[str, str]:
    """A new link token as stored: its digest (to find the row) and its ciphertext (to write the
    link into a message again). The token itself is never stored in the clear."""
    token = new_link_token()
    return token_digest(token), box.encrypt(token, context=secret_context(table, column, row_id))


def host_token(box: SecretBox, row: MeetingRow) -> str:
    context = secret_context("meeting", "host_token_enc", row.id)
    return box.decrypt(row.host_token_enc, context=context)


def client_token(box: SecretBox, seat: SeatRow) -> str:
    return box.decrypt(
        seat.client_token_enc, context=secret_context("seat", "client_token_enc", seat.id)
    )


def company_from_row(row: CompanyRow) -> Company:
    return Company(
        id=row.id,
        simplybook_login=row.simplybook_login,
        name=row.name,
        timezone=row.timezone,
        online_meetings_enabled=row.online_meetings_enabled,
        open_minutes_before=row.open_minutes_before,
    )


def service_from_row(row: ServiceRow) -> Service:
    return Service(row.company_id, row.external_id, row.name, row.online_meetings, row.is_class)


def provider_from_row(row: ProviderRow) -> Provider:
    channel = None
    if row.chat_platform and row.chat_workspace_id and row.chat_channel_id:
        channel = ChatTarget(
            ChatPlatform(row.chat_platform), row.chat_workspace_id, row.chat_channel_id
        )
    return Provider(
        company_id=row.company_id,
        external_id=row.external_id,
        name=row.name,
        email=row.email,
        platform=MeetingPlatform(row.platform) if row.platform else None,
        zoom_user=row.zoom_user,
        channel=channel,
    )


def _details(row: BookingRow) -> BookingDetails:
    return BookingDetails(
        external_id=row.external_id,
        code=row.code,
        service_id=row.service_external_id,
        service_name=row.service_name,
        provider_id=row.provider_external_id,
        provider_name=row.provider_name,
        client_name=row.client_name,
        client_email=row.client_email,
        client_phone=row.client_phone,
        start=row.start_at,
        end=row.end_at,
        status=BookingStatus(row.status),
        payment=PaymentState(row.payment),
    )


def meeting_from_row(
    row: MeetingRow, seat: SeatRow, box: SecretBox, join_url: str | None = None
) -> Meeting:
    return Meeting(
        id=row.id,
        company_id=row.company_id,
        booking_id=row.booking_id,
        host=MeetingHostRef(MeetingPlatform(row.platform), row.account_id, row.host_user),
        marker=row.marker,
        state=MeetingState(row.state),
        start=row.start_at,
        end=row.end_at,
        external_id=row.external_id,
        join_url=join_url or row.join_url,
        client_token=client_token(box, seat),
        host_token=host_token(box, row),
        opened_at=row.opened_at,
        class_key=row.class_key,
    )


class SqlStore:
    """Implements the core's CallbackInbox and LinkStore ports and the booking-side record ports."""

    def __init__(self, engine: Engine, box: SecretBox, clock: Clock) -> None:
        self._engine = engine
        self._reader = reads_only(engine)
        self._box = box
        self._clock = clock

    def _session(self) -> Session:
        return Session(self._engine, expire_on_commit=False)

    def _read_session(self) -> Session:
        """For reads alone (a session that never begins a transaction never commits): on SQLite
        it does not wait for the write lock."""
        return Session(self._reader, expire_on_commit=False)

    # -- callbacks ----------------------------------------------------------------------------

    def company_for_webhook_token(self, *, token: str) -> Company | None:
        digest = token_digest(token)
        company = CompanyRow.__table__.c  # type: ignore[attr-defined]
        with self._reader.connect() as connection:
            row = connection.execute(
                select(
                    company.id,
                    company.simplybook_login,
                    company.name,
                    company.timezone,
                    company.online_meetings_enabled,
                    company.webhook_token_hash,
                ).where(company.webhook_token_hash == digest)
            ).first()
        # The lookup is by digest, so timing reveals nothing about the token; compare anyway.
        if row is None or not hmac.compare_digest(row.webhook_token_hash, digest):
            return None
        return Company(
            row.id, row.simplybook_login, row.name, row.timezone, bool(row.online_meetings_enabled)
        )

    def record_callback(self, *, company_id: str, callback: BookingCallback, raw_body: str) -> None:
        now = self._clock.now()
        with self._engine.begin() as connection:  # one transaction: both, or neither
            connection.execute(
                insert(ReceivedEventRow.__table__),  # type: ignore[attr-defined]
                {
                    "company_id": company_id,
                    "source": "simplybook",
                    "booking_external_id": callback.booking_id,
                    "notification_type": callback.notification_type.value,
                    "body": raw_body,
                    "received_at": now,
                },
            )
            defer_in(
                connection,
                SyncBooking(booking_id=callback.booking_id, booking_hash=callback.booking_hash),
                company_id=company_id,
                run_at=now,
            )

    # -- company and catalog ------------------------------------------------------------------

    def company(self, *, company_id: str) -> Company:
        with self._read_session() as session:
            row = session.get(CompanyRow, company_id)
        if row is None:
            raise NotFound("company not found")
        return company_from_row(row)

    def simplybook_credentials(self, *, company_id: str) -> SimplyBookCredentials:
        with self._read_session() as session:
            row = session.get(CompanyRow, company_id)
        if row is None:
            raise NotFound("company not found")
        return SimplyBookCredentials(
            company_login=row.simplybook_login,
            api_key=self._box.decrypt(row.api_key_enc, context=f"company.api_key:{row.id}"),
            api_secret=self._box.decrypt(
                row.api_secret_enc, context=f"company.api_secret:{row.id}"
            ),
        )

    def service(self, *, company_id: str, external_id: str) -> Service | None:
        with self._read_session() as session:
            row = session.scalars(
                select(ServiceRow).where(
                    col(ServiceRow.company_id) == company_id,
                    col(ServiceRow.external_id) == external_id,
                )
            ).first()
        return service_from_row(row) if row else None

    def provider(self, *, company_id: str, external_id: str) -> Provider | None:
        with self._read_session() as session:
            row = session.scalars(
                select(ProviderRow).where(
                    col(ProviderRow.company_id) == company_id,
                    col(ProviderRow.external_id) == external_id,
                )
            ).first()
        return provider_from_row(row) if row else None

    def merge_catalog(
        self, *, company_id: str, services: list[CatalogEntry], providers: list[CatalogEntry]
    ) -> None:
        with self._session() as session, session.begin():
            known_services = {
                row.external_id: row
                for row in session.scalars(
                    select(ServiceRow).where(col(ServiceRow.company_id) == company_id)
                )
            }
            for entry in services:
                row = known_services.get(entry.external_id)
                if row is None:
                    session.add(
                        ServiceRow(
                            company_id=company_id,
                            external_id=entry.external_id,
                            name=entry.name,
                            is_class=entry.is_class,
                        )
                    )
                else:
                    row.name, row.is_class = entry.name, entry.is_class
            known_providers = {
                row.external_id: row
                for row in session.scalars(
                    select(ProviderRow).where(col(ProviderRow.company_id) == company_id)
                )
            }
            for entry in providers:
                prow = known_providers.get(entry.external_id)
                if prow is None:
                    session.add(
                        ProviderRow(
                            company_id=company_id,
                            external_id=entry.external_id,
                            name=entry.name,
                            email=entry.email,
                        )
                    )
                else:
                    prow.name, prow.email = entry.name, entry.email or prow.email

    def zoom_account_id(self, *, company_id: str) -> str | None:
        with self._read_session() as session:
            return session.scalars(
                select(col(ZoomAccountRow.id)).where(
                    col(ZoomAccountRow.company_id) == company_id,
                    col(ZoomAccountRow.state) != "disconnected",
                )
            ).first()

    # -- bookings and meetings ----------------------------------------------------------------

    def save_booking(
        self, *, company_id: str, details: BookingDetails, booking_hash: str = ""
    ) -> Booking:
        with self._session() as session, session.begin():
            row = session.scalars(
                select(BookingRow).where(
                    col(BookingRow.company_id) == company_id,
                    col(BookingRow.external_id) == details.external_id,
                )
            ).first()
            if row is None:
                row = BookingRow(
                    company_id=company_id,
                    external_id=details.external_id,
                    service_external_id=details.service_id,
                    provider_external_id=details.provider_id,
                    status=details.status.value,
                    payment=details.payment.value,
                )
                session.add(row)
            row.booking_hash = booking_hash or row.booking_hash
            row.code, row.service_external_id = details.code, details.service_id
            row.service_name, row.provider_external_id = details.service_name, details.provider_id
            row.provider_name, row.client_name = details.provider_name, details.client_name
            row.client_email, row.client_phone = details.client_email, details.client_phone
            row.start_at, row.end_at = details.start, details.end
            row.status, row.payment = details.status.value, details.payment.value
            row.updated_at = self._clock.now()
            session.flush()
            return Booking(row.id, company_id, _details(row))

    def note_booking_problem(self, *, booking_id: str, problem: str | None) -> None:
        with self._session() as session, session.begin():
            row = session.get(BookingRow, booking_id)
            if row is not None and row.problem != problem:
                row.problem = problem

    def booking(self, *, company_id: str, external_id: str) -> tuple[Booking, str | None] | None:
        with self._read_session() as session:
            row = session.scalars(
                select(BookingRow).where(
                    col(BookingRow.company_id) == company_id,
                    col(BookingRow.external_id) == external_id,
                )
            ).first()
        return (Booking(row.id, company_id, _details(row)), row.problem) if row else None

    def ensure_meeting(
        self,
        *,
        booking: Booking,
        host: MeetingHostRef,
        marker_prefix: str,
        class_key: str | None = None,
    ) -> tuple[Meeting, bool]:
        existing = self._meeting_for_booking(booking)
        if existing is not None:
            return existing, False
        if class_key is not None and self._join_class(booking, class_key):
            joined = self._meeting_for_booking(booking)
            assert joined is not None
            return joined, False
        meeting_id = new_id()
        host_hash, host_sealed = seal_link_token(
            self._box, table="meeting", column="host_token_enc", row_id=meeting_id
        )
        try:
            with self._session() as session, session.begin():
                session.add(
                    MeetingRow(
                        id=meeting_id,
                        company_id=booking.company_id,
                        booking_id=booking.id,
                        platform=host.platform.value,
                        account_id=host.account_id,
                        host_user=host.host_user,
                        marker=f"{marker_prefix}:{meeting_id}",
                        state=MeetingState.CREATING.value,
                        start_at=booking.details.start,
                        end_at=booking.details.end,
                        host_token_hash=host_hash,
                        host_token_enc=host_sealed,
                        class_key=class_key,
                        created_at=self._clock.now(),
                    )
                )
                session.flush()
                session.add(self._new_seat(booking, meeting_id))
        except (
            IntegrityError
        ):  # another process recorded the intent (or the class) first: use theirs
            if class_key is not None:
                self._join_class(booking, class_key)
            existing = self._meeting_for_booking(booking)
            if existing is None:
                raise
            return existing, False
        created = self._meeting_for_booking(booking)
        assert created is not None
        return created, True

    def _join_class(self, booking: Booking, class_key: str) -> bool:
        """A seat for the booking in the class's live meeting, if the class has one."""
        with self._session() as session, session.begin():
            meeting_id = session.scalars(
                select(col(MeetingRow.id)).where(
                    col(MeetingRow.company_id) == booking.company_id,
                    col(MeetingRow.class_key) == class_key,
                )
            ).first()
            if meeting_id is None:
                return False
            taken = session.scalars(
                select(col(SeatRow.id)).where(col(SeatRow.booking_id) == booking.id)
            ).first()
            if taken is None:
                session.add(self._new_seat(booking, meeting_id))
        return True

    def _new_seat(self, booking: Booking, meeting_id: str) -> SeatRow:
        seat_id = new_id()
        digest, sealed = seal_link_token(
            self._box, table="seat", column="client_token_enc", row_id=seat_id
        )
        return SeatRow(
            id=seat_id,
            company_id=booking.company_id,
            meeting_id=meeting_id,
            booking_id=booking.id,
            client_token_hash=digest,
            client_token_enc=sealed,
        )

    def _meeting_for_booking(self, booking: Booking) -> Meeting | None:
        """The booking's meeting (through its seat: a class's meeting has several)."""
        with self._read_session() as session:
            found = session.execute(
                select(MeetingRow, SeatRow)
                .join(SeatRow, col(SeatRow.meeting_id) == MeetingRow.id)
                .where(
                    col(MeetingRow.company_id) == booking.company_id,
                    col(SeatRow.booking_id) == booking.id,
                )
            ).first()
        return meeting_from_row(found[0], found[1], self._box) if found else None

    def seats(self, *, meeting: Meeting) -> list[Seat]:
        with self._read_session() as session:
            rows = session.execute(
                select(SeatRow, BookingRow)
                .join(BookingRow, col(BookingRow.id) == SeatRow.booking_id)
                .where(
                    col(SeatRow.company_id) == meeting.company_id,
                    col(SeatRow.meeting_id) == meeting.id,
                )
                .order_by(col(BookingRow.client_name), col(BookingRow.external_id))
            ).all()
        return [
            Seat(
                booking_id=booking.id,
                booking_code=booking.code or booking.external_id,
                client_name=booking.client_name,
                client_email=booking.client_email,
                client_token=client_token(self._box, seat),
                registrant_id=seat.registrant_id,
                join_url=seat.join_url,
                cancelled=seat.cancelled_at is not None,
            )
            for seat, booking in rows
        ]

    def record_seat_registered(self, *, booking_id: str, registrant_id: str, join_url: str) -> None:
        with self._session() as session, session.begin():
            session.execute(
                update(SeatRow)
                .where(col(SeatRow.booking_id) == booking_id)
                .values(registrant_id=registrant_id, join_url=join_url, cancelled_at=None)
            )

    def record_seat_cancelled(self, *, booking_id: str) -> int:
        """Marks the booking's seat cancelled; returns how many seats of its meeting remain."""
        with self._session() as session, session.begin():
            seat = session.scalars(
                select(SeatRow).where(col(SeatRow.booking_id) == booking_id)
            ).one()
            seat.cancelled_at = seat.cancelled_at or self._clock.now()
            session.flush()
            return len(
                session.scalars(
                    select(col(SeatRow.id)).where(
                        col(SeatRow.meeting_id) == seat.meeting_id,
                        col(SeatRow.cancelled_at).is_(None),
                    )
                ).all()
            )

    def meeting_for_booking(self, *, booking: Booking) -> Meeting | None:
        return self._meeting_for_booking(booking)

    def meeting_with_booking(
        self, *, company_id: str, meeting_id: str
    ) -> tuple[Meeting, Booking] | None:
        with self._read_session() as session:
            found = session.execute(
                select(MeetingRow, SeatRow, BookingRow)
                .join(SeatRow, col(SeatRow.booking_id) == MeetingRow.booking_id)
                .join(BookingRow, col(BookingRow.id) == MeetingRow.booking_id)
                .where(col(MeetingRow.company_id) == company_id, col(MeetingRow.id) == meeting_id)
            ).first()
        if found is None:
            return None
        meeting_row, seat, booking_row = found
        booking = Booking(booking_row.id, company_id, _details(booking_row))
        return meeting_from_row(meeting_row, seat, self._box), booking

    def schedule_reminder(self, *, meeting: Meeting, at: datetime) -> None:
        """One reminder per meeting time: a moved meeting's old reminder finds the time changed."""
        with self._engine.begin() as connection:
            defer_in(
                connection,
                MeetingReminder(meeting_id=meeting.id, start=meeting.start.isoformat()),
                company_id=meeting.company_id,
                run_at=at,
            )

    def _update_meeting(self, meeting_id: str, **values: object) -> Meeting:
        with self._session() as session, session.begin():
            row = session.get(MeetingRow, meeting_id)
            if row is None:
                raise NotFound("meeting not found")
            for name, value in values.items():
                setattr(row, name, value)
            seat = session.scalars(
                select(SeatRow).where(col(SeatRow.booking_id) == row.booking_id)
            ).one()
            return meeting_from_row(row, seat, self._box)

    def record_meeting_moved(self, *, meeting_id: str, start: datetime, end: datetime) -> Meeting:
        # An early start was for the old time; the new time opens on its own schedule.
        return self._update_meeting(meeting_id, start_at=start, end_at=end, opened_at=None)

    def open_early(self, *, meeting_id: str) -> Meeting:
        return self._update_meeting(meeting_id, opened_at=self._clock.now())

    def record_meeting_cancelled(self, *, meeting_id: str) -> Meeting:
        # A class freed of its key: a later booking of the same class gets a new meeting.
        return self._update_meeting(meeting_id, state=MeetingState.CANCELLED.value, class_key=None)

    def restart_meeting(
        self, *, meeting_id: str, marker_prefix: str, start: datetime, end: datetime
    ) -> Meeting:
        """The platform lost the meeting: record a new intent; the links stay the same."""
        return self._update_meeting(
            meeting_id,
            state=MeetingState.CREATING.value,
            external_id=None,
            join_url=None,
            marker=f"{marker_prefix}:{new_id()}",
            start_at=start,
            end_at=end,
            opened_at=None,
        )

    def record_meeting_created(self, *, meeting_id: str, created: PlatformMeeting) -> Meeting:
        with self._session() as session, session.begin():
            row = session.get(MeetingRow, meeting_id)
            if row is None:
                raise NotFound("meeting not found")
            row.external_id, row.join_url = created.external_id, created.join_url
            row.state = MeetingState.SCHEDULED.value
            seat = session.scalars(
                select(SeatRow).where(col(SeatRow.booking_id) == row.booking_id)
            ).one()
            return meeting_from_row(row, seat, self._box)

    def admin_targets(
        self, *, company_id: str, platform: ChatPlatform, workspace_id: str
    ) -> list[ChatTarget]:
        """Admins by role, plus whoever installed meetbot there or connected Zoom."""
        with self._read_session() as session:
            users = set(
                session.scalars(
                    select(col(StaffMemberRow.user_id)).where(
                        col(StaffMemberRow.company_id) == company_id,
                        col(StaffMemberRow.platform) == platform.value,
                        col(StaffMemberRow.workspace_id) == workspace_id,
                        col(StaffMemberRow.role) == "admin",
                    )
                )
            )
            installer = session.scalars(
                select(col(ChatWorkspaceRow.installed_by)).where(
                    col(ChatWorkspaceRow.company_id) == company_id,
                    col(ChatWorkspaceRow.platform) == platform.value,
                    col(ChatWorkspaceRow.external_id) == workspace_id,
                )
            ).first()
            connector = session.scalars(
                select(col(ZoomAccountRow.connected_by)).where(
                    col(ZoomAccountRow.company_id) == company_id
                )
            ).first()
        users.add(installer or "")
        if connector and connector.startswith(f"{platform.value}:{workspace_id}:"):
            users.add(connector.rsplit(":", 1)[1])
        return [ChatTarget(platform, workspace_id, user) for user in sorted(users) if user]

    # -- links --------------------------------------------------------------------------------

    def client_view(self, *, token: str) -> tuple[Meeting, BookingDetails, Company] | None:
        """What a client's link leads to: the meeting, its booking, and the company's rules."""
        with self._read_session() as session:
            digest = token_digest(token)
            found = session.execute(
                select(MeetingRow, BookingRow, CompanyRow, SeatRow)
                .join(SeatRow, col(SeatRow.meeting_id) == MeetingRow.id)
                .join(BookingRow, col(BookingRow.id) == SeatRow.booking_id)
                .join(CompanyRow, col(CompanyRow.id) == MeetingRow.company_id)
                .where(col(SeatRow.client_token_hash) == digest)
            ).first()
        if found is None or not hmac.compare_digest(found[3].client_token_hash, digest):
            return None
        # A class seat on Zoom has a join URL of its own: the client's registration.
        meeting = meeting_from_row(found[0], found[3], self._box, found[3].join_url)
        return meeting, _details(found[1]), company_from_row(found[2])

    def meeting_for_host_token(self, *, token: str) -> Meeting | None:
        digest = token_digest(token)
        with self._read_session() as session:
            found = session.execute(
                select(MeetingRow, SeatRow)
                .join(SeatRow, col(SeatRow.booking_id) == MeetingRow.booking_id)
                .where(col(MeetingRow.host_token_hash) == digest)
            ).first()
        if found is None or not hmac.compare_digest(found[0].host_token_hash, digest):
            return None
        return meeting_from_row(found[0], found[1], self._box)
