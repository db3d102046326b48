"""Signed requests already taken, remembered while their signature could still be replayed.

Shared by every process through the database (a replay may reach another worker process); the
primary key makes "first time?" one atomic insert on SQLite and PostgreSQL alike. Expired entries
are deleted by the next insert, so the table holds about one signing window of traffic.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, delete, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from bot.clock import Clock
from storage.sessions import write_connection
from storage.tables import SeenRequestRow
from storage.tokens import token_digest


class SqlSeenRequests:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine, self._clock = engine, clock

    def first_time(self, *, source: str, signature: str, remember_seconds: float) -> bool:
        """True the first time `signature` is seen from `source` within `remember_seconds`."""
        now = self._clock.now()
        table = SeenRequestRow.__table__  # type: ignore[attr-defined]
        try:
            with write_connection(self._engine) as connection:
                connection.execute(delete(table).where(col(SeenRequestRow.expires_at) < now))
                connection.execute(
                    insert(table),
                    {
                        "key": token_digest(f"{source}:{signature}"),
                        "expires_at": now + timedelta(seconds=remember_seconds),
                    },
                )
        except IntegrityError:
            return False
        return True
