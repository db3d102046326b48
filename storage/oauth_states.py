"""OAuth `state` values: random, stored only as a digest, single-use and expiring.

A state may carry an encrypted payload (bound to its row) and the digest of the starting browser's
nonce; a state bound to a browser is taken only with that nonce, and a wrong one leaves it unused,
so the browser that started the sign-in can still finish it.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, update
from sqlalchemy.orm import Session
from sqlmodel import col

from bot.clock import Clock
from bot.domain import Actor, ChatPlatform
from bot.signin import SignInState, StateProblem
from storage.crypto import SecretBox
from storage.sessions import read_session, write_session
from storage.tables import OAuthStateRow
from storage.tokens import token_digest


def payload_context(state_hash: str) -> str:
    return f"oauth_state.payload:{state_hash}"


class SqlOAuthStates:
    def __init__(self, engine: Engine, clock: Clock, box: SecretBox | None = None) -> None:
        self._engine, self._clock, self._box = engine, clock, box

    def issue(
        self,
        *,
        purpose: str,
        company_id: str | None,
        actor: Actor | None,
        ttl_seconds: float,
        browser_nonce: str = "",
        payload: str = "",
    ) -> str:
        state = secrets.token_urlsafe(32)
        digest = token_digest(state)
        now = self._clock.now()
        with write_session(self._engine) as session:
            # An expired state can never be taken again: it goes, with any tokens a sign-in nobody
            # confirmed kept, so states that strangers cause to be issued do not pile up.
            session.execute(delete(OAuthStateRow).where(col(OAuthStateRow.expires_at) <= now))
            session.add(
                OAuthStateRow(
                    state_hash=digest,
                    purpose=purpose,
                    company_id=company_id,
                    platform=actor.platform.value if actor else "",
                    workspace_id=actor.workspace_id if actor else "",
                    user_id=actor.user_id if actor else "",
                    expires_at=now + timedelta(seconds=ttl_seconds),
                    payload_enc=self._seal(digest, payload),
                    browser_hash=token_digest(browser_nonce) if browser_nonce else "",
                )
            )
        return state

    def consume(self, *, purpose: str, state: str) -> tuple[str | None, Actor] | None:
        with write_session(self._engine) as session:
            row = take_state(session, purpose=purpose, state=state, now=self._clock.now())
        if row is None:
            return None
        return row.company_id, _actor(row)

    def take(self, *, purpose: str, state: str) -> SignInState | None:
        """The state's company, starter and payload, once; None if unknown, used or expired."""
        with write_session(self._engine) as session:
            row = take_state(session, purpose=purpose, state=state, now=self._clock.now())
            return None if row is None else self._taken(row)

    def peek(self, *, purpose: str, state: str) -> SignInState | None:
        """What the state was issued for, without using it up; None if unknown, used or expired.
        A read alone: opening a link never waits for the write lock."""
        with read_session(self._engine) as session:
            row = session.get(OAuthStateRow, token_digest(state))
            if row is None or row.purpose != purpose or row.used_at:
                return None
            return None if row.expires_at <= self._clock.now() else self._taken(row)

    def take_bound(
        self, *, purpose: str, state: str, browser_nonce: str
    ) -> SignInState | StateProblem:
        """Takes the state only from the browser holding its nonce."""
        now = self._clock.now()
        with read_session(self._engine) as session:  # a stranger's guess costs a read, not the lock
            row = session.get(OAuthStateRow, token_digest(state))
            if row is None or row.purpose != purpose or row.used_at or row.expires_at <= now:
                return StateProblem.EXPIRED
            if not same_browser(row.browser_hash, browser_nonce):
                return StateProblem.OTHER_BROWSER
        with write_session(self._engine) as session:
            taken = take_state(session, purpose=purpose, state=state, now=now)
            return StateProblem.EXPIRED if taken is None else self._taken(taken)

    def take_for(self, *, purpose: str, state: str, actor: Actor) -> SignInState | None:
        """Takes the state only for the person who started it (a confirmation button)."""
        with write_session(self._engine) as session:
            taken = session.execute(
                update(OAuthStateRow)
                .where(
                    col(OAuthStateRow.state_hash) == token_digest(state),
                    col(OAuthStateRow.purpose) == purpose,
                    col(OAuthStateRow.used_at).is_(None),
                    col(OAuthStateRow.expires_at) > self._clock.now(),
                    col(OAuthStateRow.platform) == actor.platform.value,
                    col(OAuthStateRow.workspace_id) == actor.workspace_id,
                    col(OAuthStateRow.user_id) == actor.user_id,
                )
                .values(used_at=self._clock.now())
            )
            if not taken.rowcount:  # type: ignore[attr-defined]
                return None
            row = session.get(OAuthStateRow, token_digest(state))
            return None if row is None else self._taken(row)

    def _taken(self, row: OAuthStateRow) -> SignInState:
        sealed, row.payload_enc = row.payload_enc, ""  # needed once: nothing stays behind
        return SignInState(row.company_id, _actor(row), self._open(row.state_hash, sealed))

    def _seal(self, digest: str, payload: str) -> str:
        if not payload:
            return ""
        if self._box is None:
            raise RuntimeError("a state with a payload needs the secret box")
        return self._box.encrypt(payload, context=payload_context(digest))

    def _open(self, digest: str, sealed: str) -> str:
        if not sealed or self._box is None:
            return ""
        return self._box.decrypt(sealed, context=payload_context(digest))


def same_browser(browser_hash: str, browser_nonce: str) -> bool:
    """Only the nonce whose digest the state keeps; a state bound to no browser never passes."""
    if not browser_hash or not browser_nonce:
        return False
    return hmac.compare_digest(browser_hash, token_digest(browser_nonce))


def _actor(row: OAuthStateRow) -> Actor:
    platform = ChatPlatform(row.platform) if row.platform else ChatPlatform.SLACK
    return Actor(platform, row.workspace_id, row.user_id)


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
