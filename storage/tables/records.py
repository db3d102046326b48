"""A company's records: the company, its staff and catalog, its bookings and what meetbot made of
them (meetings, seats, channel messages), and the jobs, alerts, admin messages, audit entries and
wordings that keep them up to date.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.tables.columns import new_id, utc_column
from storage.types import UTCDateTime


class CompanyRow(SQLModel, table=True):
    __tablename__ = "company"
    id: str = Field(default_factory=new_id, primary_key=True)
    simplybook_login: str = Field(unique=True, index=True)
    name: str = ""
    timezone: str = "UTC"
    zone_pending: bool = False  # no zone of its own yet: the first applied booking event's
    online_meetings_enabled: bool = False
    open_minutes_before: int = 10  # clients' links open this long before the start (S13)
    digest_enabled: bool = True
    digest_hour: int = 8  # the admins' daily digest, at this hour of the company's time zone
    digest_sent_on: str = ""  # company-local date of the last digest, so it goes once a day
    api_key_enc: str
    api_secret_enc: str
    webhook_token_hash: str = Field(unique=True, index=True)
    webhook_token_enc: str
    created_at: datetime = utc_column(now=True)


class StaffMemberRow(SQLModel, table=True):
    """A chat user's role in a company; a Slack user id means something only with its team."""

    __tablename__ = "staff_member"
    __table_args__ = (UniqueConstraint("platform", "workspace_id", "user_id"),)
    id: str = Field(default_factory=new_id, primary_key=True)
    company_id: str = Field(foreign_key="company.id", index=True)
    platform: str
    workspace_id: str
    user_id: str
    role: str | None = None  # admin, senior, junior; None = no role (workspace admins are admins)
    provider_external_id: str | None = None
    updated_at: datetime = utc_column(now=True)


class CatalogColumns(SQLModel):
    """What a service and a provider row both keep of a SimplyBook.me catalog entry."""

    id: str = Field(default_factory=new_id, primary_key=True)
    company_id: str = Field(foreign_key="company.id", index=True)
    external_id: str
    name: str


class ServiceRow(CatalogColumns, table=True):
    __tablename__ = "service"
    __table_args__ = (UniqueConstraint("company_id", "external_id"),)
    online_meetings: bool = False  # new services start with online meetings off (S5)
    is_class: bool = False


class ProviderRow(CatalogColumns, table=True):
    __tablename__ = "provider"
    __table_args__ = (UniqueConstraint("company_id", "external_id"),)
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
    # Whether the latest save changed the status or the payment (which Home shows): the save's
    # upsert sets it from the row it replaces and returns it, so it need not read the row first.
    status_changed: bool = False


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


class ReceivedEventRow(SQLModel, table=True):
    __tablename__ = "received_event"
    id: int | None = Field(default=None, primary_key=True)
    company_id: str = Field(foreign_key="company.id", index=True)
    source: str
    booking_external_id: str
    notification_type: str
    body: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime = utc_column(now=True)


class JobRow(SQLModel, table=True):
    __tablename__ = "job"
    __table_args__ = (
        # At most one pending job per subject: a burst of callbacks coalesces into one sync.
        Index(
            "ux_job_pending_dedupe",
            "dedupe_key",
            unique=True,
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
        Index("ix_job_due", "state", "run_at"),
        # Jobs that write one shared message (a group class's) take turns: one running holder.
        Index(
            "ux_job_running_serial",
            "serial_key",
            unique=True,
            sqlite_where=text("state = 'running' AND serial_key IS NOT NULL"),
            postgresql_where=text("state = 'running' AND serial_key IS NOT NULL"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    kind: str
    company_id: str | None = Field(default=None, index=True)
    dedupe_key: str | None = None
    serial_key: str | None = None  # held while running; see SqlJobQueue.hold
    payload: str = Field(sa_column=Column(Text, nullable=False))
    state: str = "pending"
    run_at: datetime = utc_column()
    attempts: int = 0
    locked_by: str | None = None
    lease_until: datetime | None = utc_column(nullable=True)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = utc_column(now=True)
    finished_at: datetime | None = utc_column(nullable=True)


class JobSecretRow(SQLModel, table=True):
    """A secret a job needs (a Slack command's response_url), kept out of the job's JSON payload,
    which names it by id. Deleted when it expires."""

    __tablename__ = "job_secret"
    id: str = Field(default_factory=new_id, primary_key=True)
    company_id: str | None = Field(default=None, index=True)
    value_enc: str = Field(sa_column=Column(Text, nullable=False))
    expires_at: datetime = utc_column()


class AlertRow(SQLModel, table=True):
    """A problem told to a company's admins; open until resolved (`resolved_at`)."""

    __tablename__ = "alert"
    __table_args__ = (
        # One open alert per problem: the same problem is told once until it is fixed.
        Index(
            "ux_alert_open",
            "company_id",
            "kind",
            "subject",
            unique=True,
            sqlite_where=text("resolved_at IS NULL"),
            postgresql_where=text("resolved_at IS NULL"),
        ),
    )
    id: str = Field(default_factory=new_id, primary_key=True)
    company_id: str = Field(foreign_key="company.id", index=True)
    kind: str
    subject: str
    title: str
    detail: str = Field(sa_column=Column(Text, nullable=False))
    fix: str = Field(default="", sa_column=Column(Text, nullable=False))
    action_label: str = ""
    action_id: str = ""
    action_value: str = ""
    bookings: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON list
    opened_at: datetime = utc_column()
    notified_at: datetime | None = utc_column(nullable=True)
    resolved_at: datetime | None = utc_column(nullable=True)
    resolution: str = Field(default="", sa_column=Column(Text, nullable=False))


class AdminMessageRow(SQLModel, table=True):
    """A message meetbot sends outside the booking's own post: a direct message to one admin
    (alert, resolution, digest) or a reply in a booking's thread (reschedule, reminder). Recorded
    before it is sent, with a marker, so a retry finds it instead of sending it twice."""

    __tablename__ = "admin_message"
    __table_args__ = (UniqueConstraint("key", "chat_platform", "workspace_id", "channel_id"),)
    id: str = Field(default_factory=new_id, primary_key=True)
    company_id: str = Field(foreign_key="company.id", index=True)
    key: str  # what is told: "alert:<id>:opened", "digest:<date>", ...
    chat_platform: str
    workspace_id: str
    channel_id: str
    marker: str = Field(unique=True)
    state: str
    message_id: str | None = None
    created_at: datetime = utc_column(now=True)


class AuditEntryRow(SQLModel, table=True):
    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_company_at", "company_id", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    company_id: str = Field(foreign_key="company.id")
    at: datetime = utc_column()
    actor: str
    action: str
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))


class MessageTemplateRow(SQLModel, table=True):
    """A company's wording of the provider message or the client text (S8)."""

    __tablename__ = "message_template"
    __table_args__ = (UniqueConstraint("company_id", "kind", "scope", "scope_id"),)
    id: str = Field(default_factory=new_id, primary_key=True)
    company_id: str = Field(foreign_key="company.id", index=True)
    kind: str  # provider | client
    scope: str  # company | service | provider
    scope_id: str = ""  # the service's or provider's external id
    body: str = Field(sa_column=Column(Text, nullable=False))
    updated_by: str = ""
    updated_at: datetime = utc_column(now=True)


class SeenRequestRow(SQLModel, table=True):
    """A signed request already taken (Slack's), kept while its signature could be replayed. Like
    `job` it has no company: it is recorded before anything in it is trusted."""

    __tablename__ = "seen_request"
    key: str = Field(primary_key=True)  # digest of the source and the request's signature
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))


class SendPaceRow(SQLModel, table=True):
    """The next free moment to send into one conversation (a Slack channel), shared by every
    worker process so that together they keep to the platform's pace. Like `job` it has no
    company: a conversation's pace is the platform's, whoever the messages are for."""

    __tablename__ = "send_pace"
    key: str = Field(primary_key=True)  # "<workspace>:<channel>"
    next_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
