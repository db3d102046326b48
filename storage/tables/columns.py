"""What the tables' columns share: ids, the current time, and aware-UTC time columns."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import Column
from sqlmodel import Field

from storage.types import UTCDateTime


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


def utc_column(*, nullable: bool = False, now: bool = False) -> datetime:
    """An aware-UTC column; `now` fills it with the current time when the row is made."""
    column: Column[datetime] = Column(UTCDateTime(), nullable=nullable)
    if now:
        return Field(default_factory=utcnow, sa_column=column)
    return Field(default=None, sa_column=column)
