"""Where the Teams bot can post proactively, and who installed it in each tenant.

A Teams tenant is one chat workspace (`chat_workspace`, platform "teams", external id = tenant
id); whoever installed meetbot there is its first admin. Conversation references are kept as
botbuilder serialises them, one row per conversation (a channel, a team's General channel, a
person's 1:1 chat), refreshed whenever the bot hears from it.
"""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from sqlmodel import col

from bot.clock import Clock, SystemClock
from bot.domain.installations import TeamsConversation
from storage.accounts import find_workspace, workspace_row
from storage.sessions import read_session, retry_on_conflict, write_session
from storage.tables import TeamsConversationRow

PLATFORM = "teams"


class SqlTeamsConversations:
    """Implements `adapters.teams.references.ConversationStore`."""

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self._engine = engine
        self._clock = clock or SystemClock()

    def remember(self, *, conversation: TeamsConversation) -> None:
        """Keeps (or updates) a conversation; what it is not told stays as it was."""
        told = conversation

        def upsert() -> None:
            with write_session(self._engine) as session:
                row = session.scalars(
                    select(TeamsConversationRow).where(
                        col(TeamsConversationRow.conversation_id) == told.conversation_id
                    )
                ).first()
                if row is None:
                    row = TeamsConversationRow(
                        tenant_id=told.tenant_id,
                        conversation_id=told.conversation_id,
                        service_url=told.service_url,
                        reference=told.reference,
                    )
                    session.add(row)
                row.company_id = self._company(session, told.tenant_id)
                row.tenant_id, row.service_url = told.tenant_id, told.service_url
                row.reference = told.reference
                row.conversation_type = told.conversation_type or row.conversation_type
                row.team_id = told.team_id or row.team_id
                row.channel_name = told.channel_name or row.channel_name
                row.user_aad_id = told.user_aad_id or row.user_aad_id
                row.updated_at = self._clock.now()

        retry_on_conflict(upsert)

    def _company(self, session: Session, tenant_id: str) -> str | None:
        tenant = find_workspace(session, platform=PLATFORM, external_id=tenant_id)
        return tenant.company_id if tenant else None

    def reference(self, *, conversation_id: str) -> str | None:
        with read_session(self._engine) as session:
            return session.scalars(
                select(col(TeamsConversationRow.reference)).where(
                    col(TeamsConversationRow.conversation_id) == conversation_id
                )
            ).first()

    def personal_reference(self, *, tenant_id: str, user_aad_id: str) -> str | None:
        with read_session(self._engine) as session:
            return session.scalars(
                select(col(TeamsConversationRow.reference))
                .where(
                    col(TeamsConversationRow.tenant_id) == tenant_id,
                    col(TeamsConversationRow.user_aad_id) == user_aad_id,
                    col(TeamsConversationRow.conversation_type) == "personal",
                )
                .order_by(col(TeamsConversationRow.updated_at).desc())
            ).first()

    def tenant_references(self, *, tenant_id: str) -> list[str]:
        with read_session(self._engine) as session:
            rows = session.execute(
                select(
                    col(TeamsConversationRow.reference), col(TeamsConversationRow.conversation_type)
                )
                .where(col(TeamsConversationRow.tenant_id) == tenant_id)
                .order_by(col(TeamsConversationRow.updated_at).desc())
            ).all()
        teams = [reference for reference, kind in rows if kind != "personal"]
        return teams + [reference for reference, kind in rows if kind == "personal"]

    def channel_names(self, *, tenant_id: str) -> dict[str, str]:
        with read_session(self._engine) as session:
            rows = session.execute(
                select(
                    col(TeamsConversationRow.conversation_id),
                    col(TeamsConversationRow.channel_name),
                ).where(
                    col(TeamsConversationRow.tenant_id) == tenant_id,
                    col(TeamsConversationRow.channel_name) != "",
                )
            ).all()
        return {conversation: name for conversation, name in rows}

    def installer(self, *, tenant_id: str) -> str | None:
        with read_session(self._engine) as session:
            tenant = find_workspace(session, platform=PLATFORM, external_id=tenant_id)
        return (tenant.installed_by if tenant else None) or None

    def bind_tenant(self, *, tenant_id: str, installed_by: str) -> str:
        def bind() -> str:
            with write_session(self._engine) as session:
                row = workspace_row(session, platform=PLATFORM, external_id=tenant_id)
                # The first installer stays: a later install must not take over the tenant.
                row.installed_by = row.installed_by or installed_by
                return row.installed_by

        return retry_on_conflict(bind)
