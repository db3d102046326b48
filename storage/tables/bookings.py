"""Bookings and what meetbot made of them: the catalog, meetings, seats and channel messages.

Every table here carries `company_id`: repositories scope every query by it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.tables.columns import new_id, utc_column


class ServiceRow(SQLModel, table=True):
    __tablename__ = "service"
    __table_args__ = (UniqueConstraint("company_id", "external_id"),)
    id: str = Field(default_factory=new_id, primary_key=True)
    company_id: str = Field(foreign_key="company.id", index=True)
    external_id: str
    name: str
    online_meetings: bool = False  # new services start with online meetings off (S5)
    is_class: bool = False


class ProviderRow(SQLModel, table=True):
    __tablename__ = "provider"
    __table_args__ = (UniqueConstraint("company_id", "external_id"),)
    id: str = Field(default_factory=new_id, primary_key=True)
    company_id: str = Field(foreign_key="company.id", index=True)
    external_id: str
    name: str
    email: str = ""
    platform: str | None = None
    zoom_user: str | None = None
    chat_platform: str | None = None
    chat_workspace_id: str | None = None
    chat_channel_id: str | None = None


class BookingRow(SQLModel, table=True):
    __tablename__ = "booking"
    __table_args__ = (UniqueConstraint("company_id", "external_id"),)
    id: str = Field(default_factory=new_id, primary_key=True)
    company_id: str = Field(foreign_key="company.id", index=True)
    external_id: str
    booking_hash: str = (
        ""  # the booking system's proof of knowledge; lets meetbot re-sync on its own
    )
    code: str = ""
    service_external_id: str
    service_name: str = ""
    provider_external_id: str
    provider_name: str = ""
    client_name: str = ""
    client_email: str = ""
    client_phone: str = ""
    start_at: datetime = utc_column()
    end_at: datetime = utc_column()
    status: str
    payment: str
    problem: str | None = None
    updated_at: datetime = utc_column(now=True)


class ReceivedEventRow(SQLModel, table=True):
    __tablename__ = "received_event"
    id: int | None = Field(default=None, primary_key=True)
    company_id: str = Field(foreign_key="company.id", index=True)
    source: str
    booking_external_id: str
    notification_type: str
    body: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime = utc_column(now=True)


class MeetingRow(SQLModel, table=True):
    __tablename__ = "meeting"
    __table_args__ = (Index("ux_meeting_class_key", "class_key", unique=True),)
    id: str = Field(default_factory=new_id, primary_key=True)
    company_id: str = Field(foreign_key="company.id", index=True)
    booking_id: str = Field(foreign_key="booking.id", unique=True)  # one meeting per booking
    platform: str
    account_id: str
    host_user: str
    marker: str = Field(unique=True)
    state: str
    start_at: datetime = utc_column()
    end_at: datetime = utc_column()
    external_id: str | None = None
    join_url: str | None = None
    # The provider's link token: its SHA-256 digest finds the meeting; the token itself, encrypted,
    # is only for writing the link into messages again.
    host_token_hash: str = Field(unique=True, index=True, sa_column_kwargs={"server_default": ""})
    host_token_enc: str = Field(sa_column=Column(Text, nullable=False, server_default=""))
    opened_at: datetime | None = utc_column(nullable=True)  # opened early by hand ("Start meeting")
    # A group class: bookings of one service, provider and start share this meeting (S7).
    class_key: str | None = None
    created_at: datetime = utc_column(now=True)


class SeatRow(SQLModel, table=True):
    """A client's place in a meeting, with the client's own link token."""

    __tablename__ = "seat"
    id: str = Field(default_factory=new_id, primary_key=True)
    company_id: str = Field(foreign_key="company.id", index=True)
    meeting_id: str = Field(foreign_key="meeting.id", index=True)
    booking_id: str = Field(foreign_key="booking.id", unique=True)
    # As host_token_* on the meeting.
    client_token_hash: str = Field(unique=True, index=True, sa_column_kwargs={"server_default": ""})
    client_token_enc: str = Field(sa_column=Column(Text, nullable=False, server_default=""))
    registrant_id: str | None = None  # a class on Zoom: the client's own registration
    join_url: str | None = None  # ... and its personal join URL
    cancelled_at: datetime | None = utc_column(nullable=True)


class NotificationRow(SQLModel, table=True):
    __tablename__ = "notification"
    __table_args__ = (UniqueConstraint("meeting_id", "chat_platform", "channel_id"),)
    id: str = Field(default_factory=new_id, primary_key=True)
    company_id: str = Field(foreign_key="company.id", index=True)
    meeting_id: str = Field(foreign_key="meeting.id")
    chat_platform: str
    workspace_id: str
    channel_id: str
    marker: str = Field(unique=True)
    state: str
    message_id: str | None = None
    digest: str | None = None
    created_at: datetime = utc_column(now=True)
