"""The callback inbox: a webhook token finds its company, and callbacks are kept together with
the jobs that sync their bookings (one transaction: all, or none)."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Engine, bindparam, insert, select

from bot.clock import Clock
from bot.domain import AcceptedCallback, Company
from bot.jobs import SyncBooking
from storage.jobs import defer_all_in
from storage.sessions import read_connection, write_connection
from storage.tables import CompanyRow, ReceivedEventRow
from storage.tokens import token_digest


@functools.cache
def _companies_by_digest() -> Any:
    """Only the columns a callback needs, for a set of token digests: built once, so every
    batch of callbacks reuses one compiled statement (an expanding IN)."""
    company = CompanyRow.__table__.c  # type: ignore[attr-defined]
    return select(
        company.id,
        company.simplybook_login,
        company.name,
        company.timezone,
        company.online_meetings_enabled,
        company.webhook_token_hash,
    ).where(company.webhook_token_hash.in_(bindparam("digests", expanding=True)))


class SqlCallbackInbox:
    """Implements the core's CallbackInbox port."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine, self._clock = engine, clock

    def companies_for_webhook_tokens(self, *, tokens: Collection[str]) -> dict[str, Company]:
        digests = {token_digest(token): token for token in tokens}
        with read_connection(self._engine) as connection:
            rows = connection.execute(_companies_by_digest(), {"digests": list(digests)}).all()
        found: dict[str, Company] = {}
        for row in rows:
            token = digests.get(row.webhook_token_hash)
            # The lookup is by digest, so timing reveals nothing about a token; compare anyway.
            if token is not None and hmac.compare_digest(
                row.webhook_token_hash, token_digest(token)
            ):
                found[token] = Company(
                    row.id,
                    row.simplybook_login,
                    row.name,
                    row.timezone,
                    bool(row.online_meetings_enabled),
                )
        return found

    def record_callbacks(self, *, accepted: Sequence[AcceptedCallback]) -> None:
        now = self._clock.now()
        with write_connection(self._engine) as connection:
            connection.execute(
                insert(ReceivedEventRow.__table__),  # type: ignore[attr-defined]
                [
                    {
                        "company_id": item.company_id,
                        "source": "simplybook",
                        "booking_external_id": item.callback.booking_id,
                        "notification_type": item.callback.notification_type.value,
                        "body": item.raw_body,
                        "received_at": now,
                    }
                    for item in accepted
                ],
            )
            defer_all_in(  # one pending sync per booking: a later callback joins the first
                connection,
                [
                    (
                        SyncBooking(
                            booking_id=i.callback.booking_id, booking_hash=i.callback.booking_hash
                        ),
                        i.company_id,
                    )
                    for i in accepted
                ],
                run_at=now,
            )
