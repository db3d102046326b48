"""Connected meeting accounts and chat workspaces: their tokens, encrypted, and safe rotation.

Zoom rotates the refresh token on every refresh and the old one dies at once, so only one process
may refresh a credential at a time: a compare-and-swap on `token_version` plus a short refresh lease.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, ScalarSelect, Select, bindparam, or_, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from bot.clock import Clock
from bot.domain import AccountState, ZoomTokens
from bot.domain.installations import ChatInstallation
from bot.errors import MeetingAccountRevoked, NotFound
from storage.crypto import SecretBox
from storage.mappers import Prefixed
from storage.sessions import (
    NOTHING_KEPT,
    changed_any,
    keep_for_job,
    kept_for_job,
    read_row,
    read_session,
    write_session,
)
from storage.tables import ChatWorkspaceRow, ZoomAccountRow
from storage.types import company_rows_json


class SqlZoomAccounts:
    def __init__(self, engine: Engine, box: SecretBox, clock: Clock) -> None:
        self._engine, self._box, self._clock = engine, box, clock

    def _seal(self, row_id: str, column: str, value: str) -> str:
        return self._box.encrypt(value, context=f"zoom_account.{column}:{row_id}")

    def _open(self, row_id: str, column: str, value: str) -> str:
        return self._box.decrypt(value, context=f"zoom_account.{column}:{row_id}")

    def connect(
        self,
        *,
        company_id: str,
        zoom_account_id: str,
        access_token: str,
        refresh_token: str,
        expires_at: datetime,
        connected_by: str = "",
    ) -> str:
        """Stores (or replaces) the company's one Zoom account; returns its id."""
        with write_session(self._engine) as session:
            row = session.scalars(
                select(ZoomAccountRow).where(col(ZoomAccountRow.company_id) == company_id)
            ).first()
            if row is None:
                row = ZoomAccountRow(
                    company_id=company_id,
                    zoom_account_id=zoom_account_id,
                    access_token_enc="",
                    refresh_token_enc="",
                    access_expires_at=expires_at,
                    token_version=0,
                )
                session.add(row)
            row.zoom_account_id, row.connected_by = zoom_account_id, connected_by
            row.access_token_enc = self._seal(row.id, "access_token", access_token)
            row.refresh_token_enc = self._seal(row.id, "refresh_token", refresh_token)
            row.access_expires_at, row.token_version = expires_at, row.token_version + 1
            row.state, row.state_reason, row.refresh_lease_until = (
                AccountState.ACTIVE.value,
                "",
                None,
            )
            return row.id

    def tokens(self, *, account_id: str) -> ZoomTokens:
        # Taken once: a second call looks for tokens newer than these (a refresh).
        row = kept_for_job(_kept_key(account_id), once=True)
        if row is NOTHING_KEPT:
            row = read_row(self._engine, _zoom_account_by_id(), {"account_id": account_id})
        if row is None:
            raise MeetingAccountRevoked("the Zoom account was disconnected")
        if row.state != AccountState.ACTIVE.value:
            raise MeetingAccountRevoked(
                f"the Zoom connection needs to be renewed: {row.state_reason}"
            )
        return ZoomTokens(
            access_token=self._open(row.id, "access_token", row.access_token_enc),
            refresh_token=self._open(row.id, "refresh_token", row.refresh_token_enc),
            expires_at=row.access_expires_at,
            version=row.token_version,
        )

    def try_lease_refresh(self, *, account_id: str, version: int, seconds: float) -> bool:
        now = self._clock.now()
        unleased = or_(
            col(ZoomAccountRow.refresh_lease_until).is_(None),
            col(ZoomAccountRow.refresh_lease_until) < now,
        )
        lease = (
            update(ZoomAccountRow)
            .where(
                col(ZoomAccountRow.id) == account_id,
                col(ZoomAccountRow.token_version) == version,
                unleased,
            )
            .values(refresh_lease_until=now + timedelta(seconds=seconds))
        )
        return changed_any(self._engine, lease)

    def store_refreshed(self, *, account_id: str, tokens: ZoomTokens) -> ZoomTokens:
        """Keeps refreshed tokens, which carry the version they will have: the one after the
        stored version, or NotFound when another process changed it meanwhile."""
        with write_session(self._engine) as session:
            row = session.get(ZoomAccountRow, account_id)
            if row is None or row.token_version != tokens.version - 1:
                raise NotFound("the Zoom account changed while its token was being refreshed")
            row.access_token_enc = self._seal(row.id, "access_token", tokens.access_token)
            row.refresh_token_enc = self._seal(row.id, "refresh_token", tokens.refresh_token)
            row.access_expires_at, row.token_version = tokens.expires_at, tokens.version
            row.refresh_lease_until = None
            return tokens

    def release_refresh(self, *, account_id: str) -> None:
        with write_session(self._engine) as session:
            row = session.get(ZoomAccountRow, account_id)
            if row is not None:
                row.refresh_lease_until = None

    def mark_needs_reconnect(self, *, account_id: str, reason: str) -> None:
        with write_session(self._engine) as session:
            row = session.get(ZoomAccountRow, account_id)
            if row is not None:
                row.state, row.state_reason = AccountState.NEEDS_RECONNECT.value, reason
                row.refresh_lease_until = None


def keep_zoom_account_for_job(row: Any, prefix: str) -> None:
    """The row of a Zoom account that the running job read with other rows (its columns named
    `prefix` + name), for the job's first Zoom call to take instead of reading it again."""
    account = Prefixed(row, prefix)
    keep_for_job(_kept_key(account.id), account)


def _kept_key(account_id: str) -> tuple[str, str]:
    return ("zoom_account", account_id)


SLACK = "slack"


def company_bot_tokens_json(dialect: str, company_id: ColumnElement[str]) -> ScalarSelect[Any]:
    """The company's chat workspaces with their bot tokens (encrypted) as one JSON value, for a
    booking job's read of its company (`keep_bot_tokens_for_job` keeps them for its posts)."""
    workspace = ChatWorkspaceRow.__table__.c  # type: ignore[attr-defined]
    columns = (workspace.platform, workspace.external_id, workspace.id, workspace.bot_token_enc)
    return company_rows_json(dialect, company_id, *columns)


def keep_bot_tokens_for_job(rows: list[list[Any]] | None) -> None:
    """The job's first call to each workspace uses the bot token read with its company; a later
    one reads the token stored then (a workspace may have installed meetbot again meanwhile)."""
    for platform, external_id, row_id, token_enc in rows or ():
        keep_for_job(_workspace_key(platform, external_id), (row_id, token_enc))


def _workspace_key(platform: str, external_id: str) -> tuple[str, str, str]:
    return ("chat_workspace", platform, external_id)


def find_workspace(session: Session, *, platform: str, external_id: str) -> ChatWorkspaceRow | None:
    return session.scalars(
        select(ChatWorkspaceRow).where(
            col(ChatWorkspaceRow.platform) == platform,
            col(ChatWorkspaceRow.external_id) == external_id,
        )
    ).first()


def workspace_row(session: Session, *, platform: str, external_id: str) -> ChatWorkspaceRow:
    """The workspace's row, added when meetbot first hears of the workspace."""
    row = find_workspace(session, platform=platform, external_id=external_id)
    if row is None:
        row = ChatWorkspaceRow(platform=platform, external_id=external_id)
        session.add(row)
    return row


class SqlChatWorkspaces:
    def __init__(self, engine: Engine, box: SecretBox) -> None:
        self._engine, self._box = engine, box

    def bind(
        self,
        *,
        company_id: str,
        platform: str,
        external_id: str,
        name: str = "",
        bot_token: str | None = None,
    ) -> str:
        with write_session(self._engine) as session:
            row = workspace_row(session, platform=platform, external_id=external_id)
            row.company_id, row.name = company_id, name
            row.bot_token_enc = (
                self._box.encrypt(bot_token, context=f"chat_workspace.bot_token:{row.id}")
                if bot_token
                else None
            )
            return row.id

    def bot_token(self, *, platform: str, external_id: str) -> str | None:
        # Every Slack post asks: a booking job read its company's tokens with the company. Taken
        # once: a later ask (the next post, or the sender's after Slack refused the token) reads
        # the token stored now.
        kept = kept_for_job(_workspace_key(platform, external_id), once=True)
        if kept is NOTHING_KEPT:
            row = read_row(
                self._engine, _bot_token(), {"platform": platform, "external_id": external_id}
            )
            kept = (row.id, row.bot_token_enc) if row is not None else (None, None)
        row_id, token_enc = kept
        if token_enc is None:
            return None
        return self._box.decrypt(token_enc, context=f"chat_workspace.bot_token:{row_id}")

    def save_installation(self, *, installation: ChatInstallation) -> None:
        """A Slack workspace installed the app (multi-workspace OAuth)."""
        with write_session(self._engine) as session:
            row = workspace_row(session, platform=SLACK, external_id=installation.workspace_id)
            row.name, row.installed_by = installation.workspace_name, installation.installed_by
            row.bot_user_id, row.bot_id = installation.bot_user_id, installation.bot_id
            row.scopes = ",".join(installation.scopes)
            row.bot_token_enc = self._box.encrypt(
                installation.bot_token, context=f"chat_workspace.bot_token:{row.id}"
            )

    def installation(self, *, team_id: str) -> ChatInstallation | None:
        with read_session(self._engine) as session:
            row = find_workspace(session, platform=SLACK, external_id=team_id)
        if row is None or row.bot_token_enc is None:
            return None
        token = self._box.decrypt(row.bot_token_enc, context=f"chat_workspace.bot_token:{row.id}")
        scopes = tuple(scope for scope in row.scopes.split(",") if scope)
        return ChatInstallation(
            team_id,
            row.name,
            token,
            row.bot_user_id,
            row.bot_id,
            scopes,
            row.installed_by,
            installed_at=row.created_at.timestamp(),
        )

    def forget_installation(self, *, team_id: str) -> None:
        with write_session(self._engine) as session:
            row = find_workspace(session, platform=SLACK, external_id=team_id)
            if row is not None:
                row.bot_token_enc = None


# The lookups every booking job makes, built once (building a select costs more than running it).
@functools.cache
def _zoom_account_by_id() -> Select[Any]:
    columns = ZoomAccountRow.__table__.c  # type: ignore[attr-defined]
    return select(*columns).where(columns.id == bindparam("account_id"))


@functools.cache
def _bot_token() -> Select[Any]:
    columns = ChatWorkspaceRow.__table__.c  # type: ignore[attr-defined]
    return select(columns.id, columns.bot_token_enc).where(
        columns.platform == bindparam("platform"), columns.external_id == bindparam("external_id")
    )
