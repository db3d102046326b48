"""Seats: each booking's place in a meeting (a class's meeting has many), with the client's own
link token and, on Zoom, the client's registration."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select, update
from sqlmodel import col

from bot.clock import Clock
from bot.domain import Booking, Meeting, Seat
from storage.crypto import SecretBox
from storage.sessions import read_session, write_session
from storage.tables import BookingRow, SeatRow, new_id
from storage.tokens import client_token, seal_link_token


def new_seat_row(box: SecretBox, booking: Booking, meeting_id: str) -> SeatRow:
    return SeatRow(**seat_values(box, booking, meeting_id))


def seat_values(box: SecretBox, booking: Booking, meeting_id: str) -> dict[str, Any]:
    """Every column of a new seat, with its client link token sealed."""
    seat_id = new_id()
    digest, sealed = seal_link_token(box, table="seat", column="client_token_enc", row_id=seat_id)
    return {
        "id": seat_id,
        "company_id": booking.company_id,
        "meeting_id": meeting_id,
        "booking_id": booking.id,
        "client_token_hash": digest,
        "client_token_enc": sealed,
        "registrant_id": None,
        "join_url": None,
        "cancelled_at": None,
    }


class SqlSeats:
    """Implements the core's Seats port."""

    def __init__(self, engine: Engine, box: SecretBox, clock: Clock) -> None:
        self._engine, self._box, self._clock = engine, box, clock

    def seats(self, *, meeting: Meeting) -> list[Seat]:
        with read_session(self._engine) as session:
            rows = session.execute(
                select(SeatRow, BookingRow)
                .join(BookingRow, col(BookingRow.id) == SeatRow.booking_id)
                .where(
                    col(SeatRow.company_id) == meeting.company_id,
                    col(SeatRow.meeting_id) == meeting.id,
                )
                .order_by(col(BookingRow.client_name), col(BookingRow.external_id))
            ).all()
        return [self._seat(seat, booking) for seat, booking in rows]

    def _seat(self, seat: SeatRow, booking: BookingRow) -> Seat:
        return Seat(
            booking_id=booking.id,
            booking_code=booking.code or booking.external_id,
            client_name=booking.client_name,
            client_email=booking.client_email,
            client_token=client_token(self._box, seat),
            registrant_id=seat.registrant_id,
            join_url=seat.join_url,
            cancelled=seat.cancelled_at is not None,
        )

    def record_seat_registered(self, *, booking_id: str, registrant_id: str, join_url: str) -> None:
        with write_session(self._engine) as session:
            session.execute(
                update(SeatRow)
                .where(col(SeatRow.booking_id) == booking_id)
                .values(registrant_id=registrant_id, join_url=join_url, cancelled_at=None)
            )

    def record_seat_cancelled(self, *, booking_id: str) -> int:
        """Marks the booking's seat cancelled; returns how many seats of its meeting remain."""
        with write_session(self._engine) as session:
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
