"""Company set-up: the writes that admins' commands (and the sandbox's seeding) make."""

from __future__ import annotations

import secrets

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from sqlmodel import col

from bot.domain import ChatTarget, Company, MeetingPlatform
from bot.errors import NotFound
from storage.crypto import SecretBox
from storage.repository import company_from_row, token_digest
from storage.tables import CompanyRow, ProviderRow, ServiceRow


class SqlSetup:
    def __init__(self, engine: Engine, box: SecretBox) -> None:
        self._engine, self._box = engine, box

    def create_company(
        self, *, login: str, api_key: str, api_secret: str, name: str = "", timezone: str = "UTC"
    ) -> tuple[Company, str]:
        """Returns the company and its secret webhook token (shown once to the admin)."""
        token = secrets.token_urlsafe(32)
        with Session(self._engine, expire_on_commit=False) as session, session.begin():
            row = CompanyRow(
                simplybook_login=login,
                name=name or login,
                timezone=timezone,
                api_key_enc="",
                api_secret_enc="",
                webhook_token_enc="",
                webhook_token_hash=token_digest(token),
            )
            row.api_key_enc = self._box.encrypt(api_key, context=f"company.api_key:{row.id}")
            row.api_secret_enc = self._box.encrypt(
                api_secret, context=f"company.api_secret:{row.id}"
            )
            row.webhook_token_enc = self._box.encrypt(
                token, context=f"company.webhook_token:{row.id}"
            )
            session.add(row)
        return company_from_row(row), token

    def webhook_token(self, *, company_id: str) -> str:
        with Session(self._engine) as session:
            row = session.get(CompanyRow, company_id)
        if row is None:
            raise NotFound("company not found")
        return self._box.decrypt(row.webhook_token_enc, context=f"company.webhook_token:{row.id}")

    def set_online_meetings(self, *, company_id: str, enabled: bool) -> None:
        with Session(self._engine) as session, session.begin():
            row = session.get(CompanyRow, company_id)
            if row is None:
                raise NotFound("company not found")
            row.online_meetings_enabled = enabled

    def set_service_online(self, *, company_id: str, external_id: str, enabled: bool) -> None:
        with Session(self._engine) as session, session.begin():
            row = session.scalars(
                select(ServiceRow).where(
                    col(ServiceRow.company_id) == company_id,
                    col(ServiceRow.external_id) == external_id,
                )
            ).first()
            if row is None:
                raise NotFound("service not found")
            row.online_meetings = enabled

    def map_provider(
        self,
        *,
        company_id: str,
        external_id: str,
        platform: MeetingPlatform | None,
        zoom_user: str | None = None,
        channel: ChatTarget | None = None,
    ) -> None:
        with Session(self._engine) as session, session.begin():
            row = session.scalars(
                select(ProviderRow).where(
                    col(ProviderRow.company_id) == company_id,
                    col(ProviderRow.external_id) == external_id,
                )
            ).first()
            if row is None:
                raise NotFound("provider not found")
            row.platform = platform.value if platform else None
            row.zoom_user = zoom_user
            if channel is not None:
                row.chat_platform = channel.platform.value
                row.chat_workspace_id, row.chat_channel_id = (
                    channel.workspace_id,
                    channel.channel_id,
                )
