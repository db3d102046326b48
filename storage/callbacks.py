"""The callback inbox: a webhook token finds its company, and a callback is kept together with
the job that syncs its booking (one transaction: both, or neither)."""

from __future__ import annotations

import hmac

from sqlalchemy import Engine, insert, select

from bot.clock import Clock
from bot.domain import BookingCallback, Company
from bot.jobs import SyncBooking
from storage.jobs import defer_in
from storage.sessions import read_connection, write_connection
from storage.tables import CompanyRow, ReceivedEventRow
from storage.tokens import token_digest


class SqlCallbackInbox:
    """Implements the core's CallbackInbox port."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine, self._clock = engine, clock

    def company_for_webhook_token(self, *, token: str) -> Company | None:
        digest = token_digest(token)
        company = CompanyRow.__table__.c  # type: ignore[attr-defined]
        # Only the columns a callback needs: every callback pays for this lookup.
        with read_connection(self._engine) as connection:
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
        with write_connection(self._engine) as connection:
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
            defer_in(  # one pending sync per booking: a second callback joins the first
                connection,
                SyncBooking(booking_id=callback.booking_id, booking_hash=callback.booking_hash),
                company_id=company_id,
                run_at=now,
            )
