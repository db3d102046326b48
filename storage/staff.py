"""Staff: who in a chat workspace has which role, which provider they are, and which admins
meetbot tells about problems."""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from sqlmodel import col

from bot.clock import Clock
from bot.domain import Actor, ChatPlatform, ChatTarget, StaffMember
from storage.mappers import staff_from_row
from storage.sessions import read_session, write_session
from storage.tables import ChatWorkspaceRow, StaffMemberRow, ZoomAccountRow


class SqlStaff:
    """Implements the core's Staff port."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine, self._clock = engine, clock

    def staff_member(self, *, company_id: str, actor: Actor) -> StaffMember | None:
        with read_session(self._engine) as session:
            row = session.scalars(
                select(StaffMemberRow).where(
                    col(StaffMemberRow.company_id) == company_id,
                    col(StaffMemberRow.platform) == actor.platform.value,
                    col(StaffMemberRow.workspace_id) == actor.workspace_id,
                    col(StaffMemberRow.user_id) == actor.user_id,
                )
            ).first()
        return staff_from_row(row) if row else None

    def staff(self, *, company_id: str) -> list[StaffMember]:
        with read_session(self._engine) as session:
            rows = session.scalars(
                select(StaffMemberRow).where(col(StaffMemberRow.company_id) == company_id)
            )
            return [staff_from_row(row) for row in rows]

    def set_role(self, *, company_id: str, actor: Actor, user_id: str, role: str | None) -> None:
        with write_session(self._engine) as session:
            self._staff_row(session, company_id, actor, user_id).role = role

    def tie_staff(
        self, *, company_id: str, actor: Actor, user_id: str, provider_external_id: str
    ) -> None:
        with write_session(self._engine) as session:
            row = self._staff_row(session, company_id, actor, user_id)
            row.provider_external_id = provider_external_id
            row.role = row.role or "junior"

    def admin_targets(
        self, *, company_id: str, platform: ChatPlatform, workspace_id: str
    ) -> list[ChatTarget]:
        """Admins by role, plus whoever installed meetbot there or connected Zoom."""
        with read_session(self._engine) as session:
            users = _admins(session, company_id, platform, workspace_id)
            installer = session.scalars(
                select(col(ChatWorkspaceRow.installed_by)).where(
                    col(ChatWorkspaceRow.company_id) == company_id,
                    col(ChatWorkspaceRow.platform) == platform.value,
                    col(ChatWorkspaceRow.external_id) == workspace_id,
                )
            ).first()
            connector = session.scalars(
                select(col(ZoomAccountRow.connected_by)).where(
                    col(ZoomAccountRow.company_id) == company_id
                )
            ).first()
        users.add(installer or "")
        if connector and connector.startswith(f"{platform.value}:{workspace_id}:"):
            users.add(connector.rsplit(":", 1)[1])
        return [ChatTarget(platform, workspace_id, user) for user in sorted(users) if user]

    def _staff_row(
        self, session: Session, company_id: str, actor: Actor, user_id: str
    ) -> StaffMemberRow:
        row = session.scalars(
            select(StaffMemberRow).where(
                col(StaffMemberRow.platform) == actor.platform.value,
                col(StaffMemberRow.workspace_id) == actor.workspace_id,
                col(StaffMemberRow.user_id) == user_id,
            )
        ).first()
        if row is None:
            row = StaffMemberRow(
                company_id=company_id,
                platform=actor.platform.value,
                workspace_id=actor.workspace_id,
                user_id=user_id,
            )
            session.add(row)
        row.company_id, row.updated_at = company_id, self._clock.now()
        return row


def _admins(
    session: Session, company_id: str, platform: ChatPlatform, workspace_id: str
) -> set[str]:
    return set(
        session.scalars(
            select(col(StaffMemberRow.user_id)).where(
                col(StaffMemberRow.company_id) == company_id,
                col(StaffMemberRow.platform) == platform.value,
                col(StaffMemberRow.workspace_id) == workspace_id,
                col(StaffMemberRow.role) == "admin",
            )
        )
    )
