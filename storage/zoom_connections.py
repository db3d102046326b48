"""A company's Zoom connection as the core sees it: connected or not, by whom, and whether that
Zoom account serves another company. Tokens themselves live in storage.accounts."""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, bindparam, select
from sqlmodel import col

from bot.clock import Clock
from bot.domain import ZoomAccount, ZoomConnection
from storage.accounts import SqlZoomAccounts
from storage.crypto import SecretBox
from storage.mappers import zoom_account_from_row
from storage.sessions import read_row, read_session, write_session
from storage.tables import ZoomAccountRow

DISCONNECTED = "disconnected"


@functools.cache
def _connected_account() -> Select[Any]:
    """Every new meeting asks for the company's Zoom account: the select is built once."""
    return select(col(ZoomAccountRow.id)).where(
        col(ZoomAccountRow.company_id) == bindparam("company_id"), _connected()
    )


def _connected() -> ColumnElement[bool]:
    return col(ZoomAccountRow.state) != DISCONNECTED


def _forget_tokens(row: ZoomAccountRow, reason: str) -> None:
    # The row stays, so meetings it hosts keep their account; a reconnect fills it again.
    row.access_token_enc = row.refresh_token_enc = ""
    row.state, row.state_reason, row.refresh_lease_until = DISCONNECTED, reason, None


class SqlZoomConnections:
    """Implements the core's ZoomAccounts port."""

    def __init__(self, engine: Engine, box: SecretBox, clock: Clock) -> None:
        self._engine, self._clock = engine, clock
        self._tokens = SqlZoomAccounts(engine, box, clock)

    def zoom_account_id(self, *, company_id: str) -> str | None:
        row = read_row(self._engine, _connected_account(), {"company_id": company_id})
        return None if row is None else str(row.id)

    def zoom_account(self, *, company_id: str) -> ZoomAccount | None:
        with read_session(self._engine) as session:
            row = session.scalars(
                select(ZoomAccountRow).where(
                    col(ZoomAccountRow.company_id) == company_id, _connected()
                )
            ).first()
        return zoom_account_from_row(row) if row else None

    def save_zoom_account(
        self, *, company_id: str, connection: ZoomConnection, connected_by: str
    ) -> None:
        self._tokens.connect(
            company_id=company_id,
            zoom_account_id=connection.zoom_account_id,
            access_token=connection.access_token,
            refresh_token=connection.refresh_token,
            expires_at=self._clock.now() + timedelta(seconds=connection.expires_in),
            connected_by=connected_by,
        )

    def disconnect_zoom(self, *, company_id: str) -> bool:
        with write_session(self._engine) as session:
            row = session.scalars(
                select(ZoomAccountRow).where(col(ZoomAccountRow.company_id) == company_id)
            ).first()
            if row is None or row.state == DISCONNECTED:
                return False
            _forget_tokens(row, "disconnected by an admin")
            return True

    def zoom_account_elsewhere(self, *, company_id: str, zoom_account_id: str) -> bool:
        """Whether that Zoom account is connected to another company."""
        with read_session(self._engine) as session:
            found = session.scalars(
                select(col(ZoomAccountRow.id)).where(
                    col(ZoomAccountRow.zoom_account_id) == zoom_account_id,
                    col(ZoomAccountRow.company_id) != company_id,
                    _connected(),
                )
            ).first()
        return found is not None

    def drop_zoom_account(self, *, zoom_account_id: str) -> list[tuple[str, str]]:
        with write_session(self._engine) as session:
            rows = session.scalars(
                select(ZoomAccountRow).where(
                    col(ZoomAccountRow.zoom_account_id) == zoom_account_id, _connected()
                )
            ).all()
            for row in rows:
                _forget_tokens(row, "the app was removed from the Zoom account")
            return [(row.company_id, row.connected_by) for row in rows]
