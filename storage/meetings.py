"""Meetings: the intent recorded before the platform is asked, what the platform made of it, and
its life after (moved, opened early, cancelled, lost and made again), reached through a seat."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, Engine, Select, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from bot.clock import Clock
from bot.domain import Booking, Meeting, MeetingHostRef, MeetingState, PlatformMeeting
from bot.errors import NotFound
from bot.jobs import MeetingReminder
from storage.crypto import SecretBox
from storage.home import home_watched, refresh_home_if
from storage.jobs import defer_in
from storage.mappers import booking_from_row, meeting_from_row, meeting_with_tokens
from storage.outbox import keep_meeting_without_messages
from storage.seats import new_seat_row, seat_values
from storage.sessions import read_row, read_session, write_connection, write_session
from storage.tables import BookingRow, MeetingRow, SeatRow, new_id
from storage.tokens import seal_link_token


class SqlMeetings:
    """Implements the core's Meetings port."""

    def __init__(self, engine: Engine, box: SecretBox, clock: Clock) -> None:
        self._engine, self._box, self._clock = engine, box, clock

    def ensure_meeting(
        self,
        *,
        booking: Booking,
        host: MeetingHostRef,
        marker_prefix: str,
        class_key: str | None = None,
    ) -> tuple[Meeting, bool]:
        # Callers have just looked for the booking's meeting (or know the booking is new): the
        # intent is recorded without a look, and a meeting that appeared meanwhile meets the
        # unique booking id below.
        if class_key is not None and self._join_class(booking, class_key):
            return self._found(booking), False
        try:
            with write_connection(self._engine) as connection:
                meeting = self._add_meeting(connection, booking, host, marker_prefix, class_key)
            keep_meeting_without_messages(meeting.id)
        except IntegrityError:  # another process recorded the intent (or the class) first
            if class_key is not None:
                self._join_class(booking, class_key)
            if self.meeting_for_booking(booking=booking) is None:
                raise
            return self._found(booking), False
        return meeting, True

    def _add_meeting(
        self,
        connection: Connection,
        booking: Booking,
        host: MeetingHostRef,
        marker_prefix: str,
        class_key: str | None,
    ) -> Meeting:
        """The intent: the meeting in state CREATING and the booking's seat, as two INSERTs (no
        row objects: every new booking records one); returned as it was committed."""
        meeting_id = new_id()
        host_hash, host_sealed = seal_link_token(
            self._box, table="meeting", column="host_token_enc", row_id=meeting_id
        )
        meeting = {
            "id": meeting_id,
            "company_id": booking.company_id,
            "booking_id": booking.id,
            "platform": host.platform.value,
            "account_id": host.account_id,
            "host_user": host.host_user,
            "marker": f"{marker_prefix}:{meeting_id}",
            "state": MeetingState.CREATING.value,
            # In UTC, as the column gives them back: the returned meeting equals a read one.
            "start_at": booking.details.start.astimezone(UTC),
            "end_at": booking.details.end.astimezone(UTC),
            "external_id": None,
            "join_url": None,
            "host_token_hash": host_hash,
            "host_token_enc": host_sealed,
            "opened_at": None,
            "class_key": class_key,
            "created_at": self._clock.now(),
        }
        seat = seat_values(self._box, booking, meeting_id)
        connection.execute(insert(MeetingRow.__table__), meeting)  # type: ignore[attr-defined]
        connection.execute(insert(SeatRow.__table__), seat)  # type: ignore[attr-defined]
        as_committed = SimpleNamespace(**meeting), SimpleNamespace(**seat)
        return meeting_from_row(*as_committed, self._box)  # type: ignore[arg-type]

    def _found(self, booking: Booking) -> Meeting:
        meeting = self.meeting_for_booking(booking=booking)
        assert meeting is not None
        return meeting

    def _join_class(self, booking: Booking, class_key: str) -> bool:
        """A seat for the booking in the class's live meeting, if the class has one."""
        with write_session(self._engine) as session:
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
                session.add(new_seat_row(self._box, booking, meeting_id))
        return True

    def meeting_for_booking(self, *, booking: Booking) -> Meeting | None:
        """The booking's meeting (through its seat: a class's meeting has several)."""
        found = read_row(
            self._engine,
            _meeting_by_booking(),
            {"company_id": booking.company_id, "booking_id": booking.id},
        )
        if found is None:
            return None
        seat_view = SimpleNamespace(id=found.seat_id, client_token_enc=found.client_token_enc)
        return meeting_from_row(found, seat_view, self._box)  # type: ignore[arg-type]

    def meeting_with_booking(
        self, *, company_id: str, meeting_id: str
    ) -> tuple[Meeting, Booking] | None:
        found = self._with_booking(company_id, meeting_id)
        return (found[0], booking_from_row(found[1])) if found else None

    def meeting_to_start(self, *, company_id: str, meeting_id: str) -> tuple[Meeting, str] | None:
        """The meeting and its provider, for a host's "start now"."""
        found = self._with_booking(company_id, meeting_id)
        return (found[0], found[1].provider_external_id) if found else None

    def _with_booking(self, company_id: str, meeting_id: str) -> tuple[Meeting, BookingRow] | None:
        with read_session(self._engine) as session:
            found = session.execute(
                select(MeetingRow, SeatRow, BookingRow)
                .join(SeatRow, col(SeatRow.booking_id) == MeetingRow.booking_id)
                .join(BookingRow, col(BookingRow.id) == MeetingRow.booking_id)
                .where(col(MeetingRow.company_id) == company_id, col(MeetingRow.id) == meeting_id)
            ).first()
        if found is None:
            return None
        return meeting_from_row(found[0], found[1], self._box), found[2]

    def schedule_reminder(self, *, meeting: Meeting, at: datetime) -> None:
        with write_connection(self._engine) as connection:
            # One reminder per meeting time: a moved meeting's old reminder finds the time changed.
            reminder = MeetingReminder(meeting_id=meeting.id, start=meeting.start.isoformat())
            defer_in(connection, reminder, company_id=meeting.company_id, run_at=at)

    def record_meeting_created(self, *, meeting: Meeting, created: PlatformMeeting) -> Meeting:
        return self._update_meeting(
            meeting.id,
            known=meeting,
            external_id=created.external_id,
            join_url=created.join_url,
            state=MeetingState.SCHEDULED.value,
        )

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

    def _update_meeting(
        self, meeting_id: str, known: Meeting | None = None, **values: object
    ) -> Meeting:
        """One UPDATE … RETURNING and the seat: no row objects loaded (every booking job
        records its meeting). The link tokens of a `known` meeting of one booking are kept
        instead of read and decrypted again (the update never changes them)."""
        statement = _meeting_update(tuple(sorted(values)))
        with write_connection(self._engine) as connection:
            parameters = {f"new_{name}": value for name, value in values.items()}
            row = connection.execute(statement, {**parameters, "meeting_id": meeting_id}).first()
            if row is None:
                raise NotFound("meeting not found")
            now = self._clock.now()
            refresh_home_if(connection, row.company_id, now, watched=bool(row.home_watched))
            if known is not None and known.class_key is None:
                return meeting_with_tokens(row, known.client_token, known.host_token)  # type: ignore[arg-type]
            seat_row = connection.execute(_seat_of(), {"booking_id": row.booking_id}).one()
        return meeting_from_row(row, seat_row, self._box)  # type: ignore[arg-type]


@functools.cache
def _meeting_by_booking() -> Select[Any]:
    """Core rows, not ORM objects, from a select built once: every booking job asks. The
    meeting's columns come first, then the two of the seat that the mapper reads."""
    meetings, seats = MeetingRow.__table__, SeatRow.__table__  # type: ignore[attr-defined]
    meeting, seat = meetings.c, seats.c
    return (
        select(*meeting, seat.id.label("seat_id"), seat.client_token_enc)
        .join_from(meetings, seats, seat.meeting_id == meeting.id)
        .where(
            meeting.company_id == bindparam("company_id"),
            seat.booking_id == bindparam("booking_id"),
        )
    )


@functools.cache
def _meeting_update(names: tuple[str, ...]) -> Any:
    """UPDATE … RETURNING of the named columns, built once per set of names (a few exist), with
    whether anyone opened the company's Home (a refresh to queue) asked in the same statement."""
    table = MeetingRow.__table__  # type: ignore[attr-defined]
    meeting = table.c
    return (
        update(MeetingRow)
        .where(meeting.id == bindparam("meeting_id"))
        # Named apart from the columns: SQLAlchemy keeps a column's own name for itself here.
        .values({name: bindparam(f"new_{name}", type_=meeting[name].type) for name in names})
        .returning(*meeting, home_watched(table).label("home_watched"))
    )


@functools.cache
def _seat_of() -> Select[Any]:
    seat = SeatRow.__table__.c  # type: ignore[attr-defined]
    return select(*seat).where(seat.booking_id == bindparam("booking_id"))
