"""Secrets a job needs, kept out of its payload (plain JSON in the job table): encrypted here,
named in the payload by id, and deleted when they expire."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, delete
from sqlmodel import col

from bot.clock import Clock
from storage.crypto import SecretBox
from storage.secret_columns import secret_context
from storage.sessions import read_session, write_session
from storage.tables import JobSecretRow, new_id


class SqlJobSecrets:
    def __init__(self, engine: Engine, box: SecretBox, clock: Clock) -> None:
        self._engine, self._box, self._clock = engine, box, clock

    def seal(self, value: str, *, company_id: str | None, ttl: timedelta) -> str:
        """Stores `value` encrypted until `ttl` has passed; returns the id to put in a payload."""
        now = self._clock.now()
        row_id = new_id()
        sealed = self._box.encrypt(value, context=secret_context("job_secret", "value_enc", row_id))
        with write_session(self._engine) as session:
            session.execute(delete(JobSecretRow).where(col(JobSecretRow.expires_at) <= now))
            session.add(
                JobSecretRow(
                    id=row_id, company_id=company_id, value_enc=sealed, expires_at=now + ttl
                )
            )
        return row_id

    def open(self, secret_id: str) -> str | None:
        """The value, or None when it expired or never was."""
        with read_session(self._engine) as session:
            row = session.get(JobSecretRow, secret_id) if secret_id else None
        if row is None or row.expires_at <= self._clock.now():
            return None
        context = secret_context("job_secret", "value_enc", row.id)
        return self._box.decrypt(row.value_enc, context=context)
