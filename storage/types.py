"""Column types shared by the tables, and the JSON aggregate that folds a few rows into one value."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, ColumnElement, DateTime, ScalarSelect, func, select
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in Python on every backend; SQLite, which has no time zones, stores it naive."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def company_rows_json(
    dialect: str, company_id: ColumnElement[str], *columns: ColumnElement[Any]
) -> ScalarSelect[Any]:
    """One company's rows of the columns' table as one JSON value (`json_rows`), to come with a
    select of the company itself; `company_id` is that select's column."""
    company_column = columns[0].table.c.company_id
    return (
        select(json_rows(dialect, *columns)).where(company_column == company_id).scalar_subquery()
    )


def json_rows(dialect: str, *columns: ColumnElement[Any]) -> ColumnElement[Any]:
    """The selected rows' `columns` as one JSON array of arrays (PostgreSQL: NULL for no row),
    so that a few small rows can come as one value of another select's row."""
    if dialect == "postgresql":
        return func.json_agg(func.json_build_array(*columns), type_=JSON)
    return func.json_group_array(func.json_array(*columns), type_=JSON)
