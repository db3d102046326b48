"""What admins look back at: the audit trail, the report's rows, the digest's schedule."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, insert, select, update
from sqlmodel import col

from bot.clock import Clock
from bot.domain import (
    AuditEntry,
    BookingStatus,
    DigestSettings,
    MeetingState,
    PaymentState,
    ReportRow,
)
from storage.crypto import SecretBox
from storage.home import refresh_home_in
from storage.sessions import read_session, write_connection
from storage.tables import AuditEntryRow, BookingRow, CompanyRow, MeetingRow, SeatRow
from storage.tokens import client_token, host_token


class SqlAdminRecords:
    """Implements the core's AuditLog, ReportSource and DigestSchedule ports."""

    def __init__(self, engine: Engine, clock: Clock, box: SecretBox) -> None:
        self._engine = engine
        self._clock = clock
        self._box = box  # the report writes each booking's links

    # -- audit trail --------------------------------------------------------------------------

    def record(self, *, company_id: str, actor: str, action: str, detail: str = "") -> None:
        with write_connection(self._engine) as connection:
            connection.execute(
                insert(AuditEntryRow.__table__),  # type: ignore[attr-defined]
                {
                    "company_id": company_id,
                    "at": self._clock.now(),
                    "actor": actor,
                    "action": action,
                    "detail": detail[:2000],
                },
            )
            # Every audited change is one of set-up or of a meeting, which Home shows.
            refresh_home_in(connection, company_id, self._clock.now())

    def latest(self, *, company_id: str, limit: int = 20) -> list[AuditEntry]:
        with read_session(self._engine) as session:
            rows = session.scalars(
                select(AuditEntryRow)
                .where(col(AuditEntryRow.company_id) == company_id)
                .order_by(col(AuditEntryRow.at).desc(), col(AuditEntryRow.id).desc())
                .limit(limit)
            )
            return [AuditEntry(row.at, row.actor, row.action, row.detail) for row in rows]

    # -- report -------------------------------------------------------------------------------

    def report_rows(self, *, company_id: str, start: datetime, end: datetime) -> list[ReportRow]:
        """The company's bookings starting in [start, end) that have, or should have, a meeting."""
        query = (
            select(BookingRow, MeetingRow, SeatRow)
            .outerjoin(
                SeatRow,
                (col(SeatRow.booking_id) == col(BookingRow.id))
                & (col(SeatRow.company_id) == company_id),
            )
            .outerjoin(
                MeetingRow,
                (col(MeetingRow.id) == col(SeatRow.meeting_id))
                & (col(MeetingRow.company_id) == company_id),
            )
            .where(
                col(BookingRow.company_id) == company_id,
                col(BookingRow.start_at) >= start,
                col(BookingRow.start_at) < end,
                (col(SeatRow.id).is_not(None)) | (col(BookingRow.problem).is_not(None)),
            )
            .order_by(col(BookingRow.start_at), col(BookingRow.external_id))
        )
        with read_session(self._engine) as session:
            return [
                _report_row(self._box, booking, meeting, seat)
                for booking, meeting, seat in session.execute(query).all()
            ]

    # -- digest -------------------------------------------------------------------------------

    def digest_settings(self, *, company_id: str) -> DigestSettings:
        with read_session(self._engine) as session:
            row = session.get(CompanyRow, company_id)
        assert row is not None
        return DigestSettings(row.digest_enabled, row.digest_hour, row.digest_sent_on)

    def set_digest(self, *, company_id: str, enabled: bool, hour: int | None = None) -> None:
        values: dict[str, object] = {"digest_enabled": enabled}
        if hour is not None:
            values["digest_hour"] = hour
        with write_connection(self._engine) as connection:
            connection.execute(
                update(CompanyRow).where(col(CompanyRow.id) == company_id).values(**values)
            )

    def claim_digest(self, *, company_id: str, local_date: str) -> bool:
        """Marks today's digest as sent; False if another run already did (once per day)."""
        with write_connection(self._engine) as connection:
            result = connection.execute(
                update(CompanyRow)
                .where(
                    col(CompanyRow.id) == company_id, col(CompanyRow.digest_sent_on) != local_date
                )
                .values(digest_sent_on=local_date)
            )
            return bool(result.rowcount)

    def company_ids(self) -> list[str]:
        with read_session(self._engine) as session:
            return list(session.scalars(select(col(CompanyRow.id)).order_by(col(CompanyRow.id))))


def _report_row(
    box: SecretBox, booking: BookingRow, meeting: MeetingRow | None, seat: SeatRow | None
) -> ReportRow:
    return ReportRow(
        booking_code=booking.code or booking.external_id,
        start=booking.start_at,
        end=booking.end_at,
        service=booking.service_name,
        service_external_id=booking.service_external_id,
        provider=booking.provider_name,
        provider_external_id=booking.provider_external_id,
        client=booking.client_name,
        booking_status=BookingStatus(booking.status),
        payment=PaymentState(booking.payment),
        problem=booking.problem,
        meeting_state=MeetingState(meeting.state) if meeting is not None else None,
        opened_at=meeting.opened_at if meeting is not None else None,
        client_token=client_token(box, seat) if seat is not None else None,
        host_token=host_token(box, meeting) if meeting is not None else None,
    )
