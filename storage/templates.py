"""The companies' message templates (S8)."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Engine, ScalarSelect, Select, bindparam, delete, select
from sqlmodel import col

from bot.clock import Clock
from bot.templates import MessageTemplate, TemplateKind, TemplateScope
from storage.sessions import (
    NOTHING_KEPT,
    changed_any,
    keep_for_job,
    kept_for_job,
    read_rows,
    write_session,
)
from storage.tables import MessageTemplateRow
from storage.types import company_rows_json


def company_templates_json(dialect: str, company_id: ColumnElement[str]) -> ScalarSelect[Any]:
    """The company's templates as one JSON value, for a booking job's read of its company
    (`keep_templates_for_job` keeps what it says for the job's messages)."""
    template = MessageTemplateRow.__table__.c  # type: ignore[attr-defined]
    columns = (template.kind, template.scope, template.scope_id, template.body)
    return company_rows_json(dialect, company_id, *columns)


def keep_templates_for_job(company_id: str, rows: list[list[str]] | None) -> None:
    """The job's messages use the templates read with its company: an admin's change made while
    the job runs shows from the next job on, as if it had come a moment later."""
    keep_for_job(_kept_key(company_id), _templates(sorted(rows or ())))


def _kept_key(company_id: str) -> tuple[str, str]:
    return ("message_templates", company_id)


def _templates(rows: Iterable[Sequence[str]]) -> list[MessageTemplate]:
    return [
        MessageTemplate(TemplateKind(kind), TemplateScope(scope), scope_id, body)
        for kind, scope, scope_id, body in rows
    ]


class SqlTemplates:
    """Implements the core's TemplateStore port."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    def templates(self, *, company_id: str) -> list[MessageTemplate]:
        kept = kept_for_job(_kept_key(company_id))
        if kept is not NOTHING_KEPT:
            return list(kept)
        return _templates(read_rows(self._engine, _company_templates(), {"company_id": company_id}))

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
