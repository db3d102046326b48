"""The chat app's Home: who opened it per company, the meetings it lists, and the job that
publishes it again when something it shows changes.

`refresh_home_in` is called inside the transaction of each such change (a meeting's state or time,
a booking's payment, an alert, an audited change of set-up), so a change is never recorded without
its refresh being queued. It queues nothing for a company where nobody opened Home. A change made
by an UPDATE … RETURNING may instead return `home_watched` with its row and pass what it says to
`refresh_home_if`: the same question, asked by the change itself.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Exists,
    Select,
    Table,
    bindparam,
    literal_column,
    select,
)
from sqlmodel import col

from bot.clock import Clock
from bot.domain import Actor, ChatPlatform, MeetingState, PaymentState
from bot.jobs import RefreshHome
from bot.ports import HomeViewer, UpcomingMeeting
from storage.crypto import SecretBox
from storage.jobs import defer_in
from storage.sessions import read_session, retry_on_conflict, write_connection, write_session
from storage.tables import BookingRow, HomeViewerRow, MeetingRow
from storage.tokens import host_token

# Changes come in bursts (a sync records the booking, then the meeting): one refresh after them.
REFRESH_AFTER = timedelta(seconds=1)


def refresh_home_in(connection: Connection, company_id: str, now: datetime) -> None:
    """Queues the company's Home refresh in the caller's transaction, when anyone opened Home."""
    watched = connection.execute(_anyone_watching(), {"company_id": company_id}).first()
    refresh_home_if(connection, company_id, now, watched=watched is not None)


def refresh_home_if(
    connection: Connection, company_id: str, now: datetime, *, watched: bool
) -> None:
    """Queues the company's Home refresh in the caller's transaction when `watched` (anyone
    opened Home, as `home_watched` asked in that transaction)."""
    if watched:
        defer_in(connection, RefreshHome(), company_id=company_id, run_at=now + REFRESH_AFTER)


def home_watched(changed: Table) -> Exists:
    """Whether anyone opened the Home of the company of the row that `changed` (a table with a
    `company_id`) changes, for its UPDATE's RETURNING clause."""
    # Named with its table: SQLite's RETURNING names the changed row's columns bare, and a bare
    # `company_id` in the subquery would be the home viewer's own.
    company_id: ColumnElement[str] = literal_column(f"{changed.name}.company_id")
    return select(col(HomeViewerRow.id)).where(col(HomeViewerRow.company_id) == company_id).exists()


@functools.cache
def _anyone_watching() -> Select[Any]:
    """Built once: most changes of every booking job ask it."""
    return (
        select(col(HomeViewerRow.id))
        .where(col(HomeViewerRow.company_id) == bindparam("company_id"))
        .limit(1)
    )


class SqlHome:
    """Implements the core's HomeRecords port."""

    def __init__(self, engine: Engine, box: SecretBox, clock: Clock) -> None:
        self._engine, self._box, self._clock = engine, box, clock

    def remember_viewer(self, *, company_id: str, viewer: Actor) -> None:
        # Two opens at once may both insert: the loser finds the winner's row.
        retry_on_conflict(lambda: self._remember(company_id, viewer), attempts=3)

    def _remember(self, company_id: str, viewer: Actor) -> None:
        with write_session(self._engine) as session:
            row = session.scalars(
                select(HomeViewerRow).where(*_viewer_is(company_id, viewer))
            ).first()
            if row is None:
                row = HomeViewerRow(
                    company_id=company_id,
                    platform=viewer.platform.value,
                    workspace_id=viewer.workspace_id,
                    user_id=viewer.user_id,
                )
                session.add(row)
            row.is_workspace_admin = viewer.is_workspace_admin
            row.opened_at = self._clock.now()

    def viewers(self, *, company_id: str) -> list[HomeViewer]:
        with read_session(self._engine) as session:
            rows = session.scalars(
                select(HomeViewerRow)
                .where(col(HomeViewerRow.company_id) == company_id)
                .order_by(col(HomeViewerRow.opened_at))
            )
            return [
                HomeViewer(
                    Actor(
                        ChatPlatform(row.platform),
                        row.workspace_id,
                        row.user_id,
                        row.is_workspace_admin,
                    ),
                    row.digest,
                )
                for row in rows
            ]

    def record_published(self, *, company_id: str, viewer: Actor, digest: str) -> None:
        """Keeps the digest, and whether the viewer was a workspace admin when it was made."""
        with write_connection(self._engine) as connection:
            connection.execute(
                HomeViewerRow.__table__.update()  # type: ignore[attr-defined]
                .where(*_viewer_is(company_id, viewer))
                .values(digest=digest, is_workspace_admin=viewer.is_workspace_admin)
            )

    def upcoming(
        self, *, company_id: str, provider_external_id: str, since: datetime, limit: int
    ) -> list[UpcomingMeeting]:
        """A class's meeting is reached through the booking it was made for, whose provider is
        the class's; whether that booking was cancelled since does not matter while seats remain
        (the meeting is cancelled with its last seat)."""
        query = (
            select(MeetingRow, BookingRow)
            .join(BookingRow, col(BookingRow.id) == col(MeetingRow.booking_id))
            .where(
                col(MeetingRow.company_id) == company_id,
                col(BookingRow.company_id) == company_id,
                col(BookingRow.provider_external_id) == provider_external_id,
                col(MeetingRow.state) == MeetingState.SCHEDULED.value,
                col(MeetingRow.end_at) > since,
            )
            .order_by(col(MeetingRow.start_at), col(MeetingRow.id))
            .limit(limit)
        )
        with read_session(self._engine) as session:
            return [self._upcoming(*found) for found in session.execute(query).all()]

    def _upcoming(self, meeting: MeetingRow, booking: BookingRow) -> UpcomingMeeting:
        is_class = meeting.class_key is not None
        return UpcomingMeeting(
            meeting_id=meeting.id,
            start=meeting.start_at,
            end=meeting.end_at,
            service=booking.service_name,
            client="" if is_class else booking.client_name,
            is_class=is_class,
            payment_pending=not is_class and booking.payment == PaymentState.PENDING.value,
            opened_early=meeting.opened_at is not None,
            host_token=host_token(self._box, meeting),
        )

    def refresh_soon(self, *, company_id: str) -> None:
        """Queues a refresh without a change (the hourly routine: meetings that ended drop off)."""
        with write_connection(self._engine) as connection:
            refresh_home_in(connection, company_id, self._clock.now())


def _viewer_is(company_id: str, viewer: Actor) -> tuple[ColumnElement[bool], ...]:
    return (
        col(HomeViewerRow.company_id) == company_id,
        col(HomeViewerRow.platform) == viewer.platform.value,
        col(HomeViewerRow.workspace_id) == viewer.workspace_id,
        col(HomeViewerRow.user_id) == viewer.user_id,
    )
