"""Bookings as meetbot last saw them, the problem that holds one back, and re-syncing the held."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Engine, Select, Update, bindparam, case, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col

from bot.clock import Clock
from bot.domain import Booking, BookingDetails
from bot.jobs import SyncBooking
from storage.home import refresh_home_in
from storage.jobs import defer_in
from storage.mappers import booking_from_row
from storage.sessions import read_session, write_connection, write_session
from storage.tables import BookingRow, MeetingRow, ProviderRow, new_id


class SqlBookings:
    """Implements the core's Bookings port, plus the `booking` lookup (with its problem)."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine, self._clock = engine, clock

    def save_booking(
        self, *, company_id: str, details: BookingDetails, booking_hash: str = ""
    ) -> tuple[Booking, bool]:
        """One upsert (every booking job saves what the booking system said), which says whether
        it changed the status or payment of a booking saved before (Home shows them). Returns
        the booking and whether this save recorded it first."""
        now = self._clock.now()
        values = {
            "id": new_id(),
            "company_id": company_id,
            "external_id": details.external_id,
            "booking_hash": booking_hash,
            "code": details.code,
            "service_external_id": details.service_id,
            "service_name": details.service_name,
            "provider_external_id": details.provider_id,
            "provider_name": details.provider_name,
            "client_name": details.client_name,
            "client_email": details.client_email,
            "client_phone": details.client_phone,
            "start_at": details.start,
            "end_at": details.end,
            "status": details.status.value,
            "payment": details.payment.value,
            "updated_at": now,
            "status_changed": False,  # a new booking: nothing Home showed changed
        }
        with write_connection(self._engine) as connection:
            saved = connection.execute(_booking_upsert(connection.dialect.name), values).one()
            if saved.status_changed:
                refresh_home_in(connection, company_id, now)
        # The row keeps the id it was first saved with: this save's new id means it was first.
        return Booking(saved.id, company_id, details, saved.problem), saved.id == values["id"]

    def note_booking_problem(self, *, booking_id: str, problem: str | None) -> None:
        with write_connection(self._engine) as connection:  # one statement, no row loaded
            connection.execute(_note_problem(), {"booking_id": booking_id, "new_problem": problem})

    def booking(self, *, company_id: str, external_id: str) -> tuple[Booking, str | None] | None:
        with read_session(self._engine) as session:
            row = session.scalars(_by_external_id(company_id, external_id)).first()
        return (booking_from_row(row), row.problem) if row else None

    def meeting_id_for_booking(self, *, company_id: str, reference: str) -> str | None:
        with read_session(self._engine) as session:
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

    def resync_blocked_bookings(self, *, company_id: str) -> int:
        now = self._clock.now()
        with write_connection(self._engine) as connection:
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
        with write_session(self._engine) as session:
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


@functools.cache
def _note_problem() -> Update:
    """Every booking job notes its problem (mostly none, as before): built once."""
    problem = bindparam("new_problem", type_=BookingRow.__table__.c.problem.type)  # type: ignore[attr-defined]
    return (
        update(BookingRow)
        .where(
            col(BookingRow.id) == bindparam("booking_id"),
            col(BookingRow.problem).is_distinct_from(problem),
        )
        .values(problem=problem)
    )


@functools.cache
def _booking_upsert(dialect: str) -> Any:
    """INSERT … ON CONFLICT (company, external id) DO UPDATE … RETURNING id, problem and whether
    the status or payment changed, built once per dialect. An empty hash keeps the one already
    known. The update's expressions read the row it replaces (on PostgreSQL, locked by then), so
    what changed is known without reading the row first."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = BookingRow.__table__  # type: ignore[attr-defined]
    statement = insert(table)
    kept = {"id", "company_id", "external_id", "problem", "booking_hash"}
    changes: dict[str, Any] = {
        column.name: statement.excluded[column.name]
        for column in table.columns
        if column.name not in kept
    }
    changes["booking_hash"] = case(
        (statement.excluded.booking_hash == "", table.c.booking_hash),
        else_=statement.excluded.booking_hash,
    )
    changes["status_changed"] = or_(
        table.c.status != statement.excluded.status, table.c.payment != statement.excluded.payment
    )
    return statement.on_conflict_do_update(
        index_elements=["company_id", "external_id"], set_=changes
    ).returning(table.c.id, table.c.problem, table.c.status_changed)


def _by_external_id(company_id: str, external_id: str) -> Select[BookingRow]:
    return select(BookingRow).where(
        col(BookingRow.company_id) == company_id, col(BookingRow.external_id) == external_id
    )
