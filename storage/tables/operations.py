"""What runs the company's operations: queued jobs, alerts, admin messages, audit and wording.

`job`, `job_secret` and `seen_request` may have no company: they are written before one is known.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.tables.columns import new_id, utc_column
from storage.types import UTCDateTime


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
