"""Generic booking sources: a company's signed booking webhook, the events it sent, and the
booking state the latest of them left (its sequence decides what is latest)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.tables.columns import new_id, utc_column


class WebhookSourceRow(SQLModel, table=True):
    __tablename__ = "webhook_source"
    id: str = Field(default_factory=new_id, primary_key=True)
    company_id: str = Field(foreign_key="company.id", unique=True)  # one source per company
    secrets_enc: str = Field(sa_column=Column(Text, nullable=False))  # a JSON list, newest first
    created_at: datetime = utc_column(now=True)


class BookingEventRow(SQLModel, table=True):
    """Every accepted event as received (for audit and replay); `webhook-id` de-duplicates."""

    __tablename__ = "booking_event"
    __table_args__ = (
        UniqueConstraint("source_id", "webhook_id"),
        Index("ix_booking_event_booking", "source_id", "booking_external_id"),  # its pruning
    )
    id: int | None = Field(default=None, primary_key=True)
    company_id: str = Field(foreign_key="company.id", index=True)
    source_id: str
    webhook_id: str
    booking_external_id: str
    event_type: str
    sequence: int = Field(sa_column=Column(BigInteger, nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime = utc_column(now=True)


class WebhookBookingRow(SQLModel, table=True):
    """A generic source's booking as its highest-sequence event left it."""

    __tablename__ = "webhook_booking"
    __table_args__ = (UniqueConstraint("source_id", "booking_external_id"),)
    id: int | None = Field(default=None, primary_key=True)
    company_id: str = Field(foreign_key="company.id", index=True)
    source_id: str
    booking_external_id: str
    sequence: int = Field(sa_column=Column(BigInteger, nullable=False))
    state: str = Field(sa_column=Column(Text, nullable=False))  # the event, as JSON
    updated_at: datetime = utc_column(now=True)
