"""OAuth `state` values: random, stored only as a digest, single-use and expiring."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session
from sqlmodel import col

from bot.clock import Clock
from bot.domain import Actor, ChatPlatform
from storage.repository import token_digest
from storage.tables import OAuthStateRow


class SqlOAuthStates:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine, self._clock = engine, clock

    def issue(
        self, *, purpose: str, company_id: str | None, actor: Actor | None, ttl_seconds: float
    ) -> str:
        state = secrets.token_urlsafe(32)
        with Session(self._engine) as session, session.begin():
            session.add(
                OAuthStateRow(
                    state_hash=token_digest(state),
                    purpose=purpose,
                    company_id=company_id,
                    platform=actor.platform.value if actor else "",
                    workspace_id=actor.workspace_id if actor else "",
                    user_id=actor.user_id if actor else "",
                    expires_at=self._clock.now() + timedelta(seconds=ttl_seconds),
                )
            )
        return state

    def consume(self, *, purpose: str, state: str) -> tuple[str | None, Actor] | None:
        with Session(self._engine, expire_on_commit=False) as session, session.begin():
            row = take_state(session, purpose=purpose, state=state, now=self._clock.now())
        if row is None:
            return None
        platform = ChatPlatform(row.platform) if row.platform else ChatPlatform.SLACK
        return row.company_id, Actor(platform, row.workspace_id, row.user_id)


def take_state(
    session: Session, *, purpose: str, state: str, now: datetime
) -> OAuthStateRow | None:
    """Marks the state used and returns its row, once; None if unknown, used or expired."""
    digest = token_digest(state)
    used = session.execute(
        update(OAuthStateRow)
        .where(
            col(OAuthStateRow.state_hash) == digest,
            col(OAuthStateRow.purpose) == purpose,
            col(OAuthStateRow.used_at).is_(None),
            col(OAuthStateRow.expires_at) > now,
        )
        .values(used_at=now)
    )
    if not used.rowcount:  # type: ignore[attr-defined]
        return None
    return session.get(OAuthStateRow, digest)
