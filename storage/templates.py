"""The companies' message templates (S8)."""

from __future__ import annotations

import functools

from sqlalchemy import Engine, Select, bindparam, delete, select
from sqlmodel import col

from bot.clock import Clock
from bot.templates import MessageTemplate, TemplateKind, TemplateScope
from storage.sessions import changed_any, read_rows, write_session
from storage.tables import MessageTemplateRow


class SqlTemplates:
    """Implements the core's TemplateStore port."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    def templates(self, *, company_id: str) -> list[MessageTemplate]:
        rows = read_rows(self._engine, _company_templates(), {"company_id": company_id})
        return [
            MessageTemplate(
                TemplateKind(row.kind), TemplateScope(row.scope), row.scope_id, row.body
            )
            for row in rows
        ]

    def save_template(self, *, company_id: str, template: MessageTemplate, actor: str) -> None:
        key = (template.kind.value, template.scope.value, template.scope_id)
        with write_session(self._engine) as session:
            row = session.scalars(
                select(MessageTemplateRow)
                .where(
                    col(MessageTemplateRow.company_id) == company_id,
                    col(MessageTemplateRow.kind) == key[0],
                    col(MessageTemplateRow.scope) == key[1],
                    col(MessageTemplateRow.scope_id) == key[2],
                )
                .with_for_update()
            ).first()
            if row is None:
                row = MessageTemplateRow(
                    company_id=company_id, kind=key[0], scope=key[1], scope_id=key[2], body=""
                )
                session.add(row)
            row.body, row.updated_by, row.updated_at = template.body, actor, self._clock.now()

    def reset_template(
        self, *, company_id: str, kind: TemplateKind, scope: TemplateScope, scope_id: str
    ) -> bool:
        removal = delete(MessageTemplateRow).where(
            col(MessageTemplateRow.company_id) == company_id,
            col(MessageTemplateRow.kind) == kind.value,
            col(MessageTemplateRow.scope) == scope.value,
            col(MessageTemplateRow.scope_id) == scope_id,
        )
        return changed_any(self._engine, removal)


@functools.cache
def _company_templates() -> Select[str, str, str, str]:
    """Every booking message reads them: the select is built once."""
    return (
        select(
            col(MessageTemplateRow.kind),
            col(MessageTemplateRow.scope),
            col(MessageTemplateRow.scope_id),
            col(MessageTemplateRow.body),
        )
        .where(col(MessageTemplateRow.company_id) == bindparam("company_id"))
        .order_by(
            col(MessageTemplateRow.kind),
            col(MessageTemplateRow.scope),
            col(MessageTemplateRow.scope_id),
        )
    )
