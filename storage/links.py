"""What a client's or a host's link leads to, found by the digest of the link's token."""

from __future__ import annotations

import hmac

from sqlalchemy import Engine, select
from sqlmodel import col

from bot.domain import BookingDetails, Company, Meeting
from storage.crypto import SecretBox
from storage.mappers import company_from_row, details_from_row, meeting_from_row
from storage.sessions import read_session
from storage.tables import BookingRow, CompanyRow, MeetingRow, SeatRow
from storage.tokens import token_digest


class SqlLinks:
    """Implements the core's LinkStore port."""

    def __init__(self, engine: Engine, box: SecretBox) -> None:
        self._engine, self._box = engine, box

    def client_view(self, *, token: str) -> tuple[Meeting, BookingDetails, Company] | None:
        """What a client's link leads to: the meeting, its booking, and the company's rules."""
        digest = token_digest(token)
        with read_session(self._engine) as session:
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
        return meeting, details_from_row(found[1]), company_from_row(found[2])

    def meeting_for_host_token(self, *, token: str) -> Meeting | None:
        digest = token_digest(token)
        with read_session(self._engine) as session:
            found = session.execute(
                select(MeetingRow, SeatRow)
                .join(SeatRow, col(SeatRow.booking_id) == MeetingRow.booking_id)
                .where(col(MeetingRow.host_token_hash) == digest)
            ).first()
        if found is None or not hmac.compare_digest(found[0].host_token_hash, digest):
            return None
        return meeting_from_row(found[0], found[1], self._box)
