"""Every kind of durable job, declared once: its kind, its payload fields and its dedupe key.

A job is a frozen dataclass whose fields are its payload (plain strings, or booleans kept as
"1"/"0"); the queue stores `kind`, `encode()` and `dedupe_key(company_id)`, and the worker turns a
claimed row back into the same value with `decode`, once. Jobs sharing a dedupe key never run at
the same time and at most one of them is pending, so the key says what must not be done twice.
"""

from __future__ import annotations

import dataclasses
import typing
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from bot.domain import Job
from bot.errors import PermanentFailure


@dataclass(frozen=True, slots=True)
class SyncBooking:
    """Reconcile one booking with what meetbot already did (after a callback or a fixed set-up)."""

    kind: ClassVar[str] = "sync_booking"
    booking_id: str
    booking_hash: str

    def dedupe_key(self, company_id: str | None) -> str:
        return f"{self.kind}:{company_id}:{self.booking_id}"


@dataclass(frozen=True, slots=True)
class MeetingReminder:
    """The "starting soon" reply at a meeting's opening time; one per meeting time, so a moved
    meeting's old reminder finds the time changed and does nothing."""

    kind: ClassVar[str] = "meeting_reminder"
    meeting_id: str
    start: str  # ISO 8601, as the meeting's start was when the reminder was queued

    def dedupe_key(self, company_id: str | None) -> str:
        return f"{self.kind}:{self.meeting_id}:{self.start}"


@dataclass(frozen=True, slots=True)
class ChatCommand:
    """A chat command that needs longer than the platform waits, redone by a worker. The Slack
    response URL works like a password, so the payload names it only by its sealed secret's id."""

    kind: ClassVar[str] = "chat_command"
    platform: str
    workspace_id: str
    user_id: str
    is_admin: bool
    channel_id: str
    text: str
    response_url_id: str = ""
    # Each command is its own job: two identical commands are two answers.
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def dedupe_key(self, company_id: str | None) -> str:
        return f"{self.kind}:{self.request_id}"


@dataclass(frozen=True, slots=True)
class NotifyAdmins:
    """Tell the admins about an alert ("alert:<id>:<phase>"), each admin once."""

    kind: ClassVar[str] = "notify_admins"
    key: str

    def dedupe_key(self, company_id: str | None) -> str:
        return f"{self.kind}:{self.key}"


@dataclass(frozen=True, slots=True)
class CompanyRoutine:
    """A company's hourly routine; at most one is pending per company."""

    kind: ClassVar[str] = "company_routine"

    def dedupe_key(self, company_id: str | None) -> str:
        return f"{self.kind}:{company_id}"


@dataclass(frozen=True, slots=True)
class RefreshHome:
    """Publish the company's Home views again after a change, for those who opened Home there;
    at most one is pending per company, so a burst of changes is one refresh."""

    kind: ClassVar[str] = "refresh_home"

    def dedupe_key(self, company_id: str | None) -> str:
        return f"{self.kind}:{company_id}"


JobType = SyncBooking | MeetingReminder | ChatCommand | NotifyAdmins | CompanyRoutine | RefreshHome
JOB_TYPES: tuple[type[JobType], ...] = (
    SyncBooking,
    MeetingReminder,
    ChatCommand,
    NotifyAdmins,
    CompanyRoutine,
    RefreshHome,
)


def _payload_fields(job_type: type[JobType]) -> tuple[tuple[str, bool, bool], ...]:
    """(name, is a flag, required) per field."""
    types = typing.get_type_hints(job_type)  # resolved, whatever form the annotations take
    return tuple(
        (
            item.name,
            types[item.name] is bool,
            item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING,
        )
        for item in dataclasses.fields(job_type)
    )


_BY_KIND: dict[str, type[JobType]] = {job_type.kind: job_type for job_type in JOB_TYPES}
# Resolving the annotations costs more than the rest of a decode, and every claimed job is decoded.
_PAYLOAD_FIELDS = {job_type.kind: _payload_fields(job_type) for job_type in JOB_TYPES}


def encode(job: JobType) -> dict[str, str]:
    """The payload as the queue stores it."""
    return {item.name: _to_text(getattr(job, item.name)) for item in dataclasses.fields(job)}


def decode(job: Job) -> JobType:
    """The typed job a claimed row carries; a kind or payload no declaration fits is a dead job."""
    job_type = _BY_KIND.get(job.kind)
    if job_type is None:
        raise PermanentFailure(f"no job is declared as {job.kind!r}")
    return _from_payload(job_type, job.payload)


def is_kind(job: Job, job_type: type[JobType]) -> bool:
    return job.kind == job_type.kind


def _from_payload(job_type: type[JobType], payload: Mapping[str, str]) -> JobType:
    values: dict[str, object] = {}
    for name, is_flag, required in _PAYLOAD_FIELDS[job_type.kind]:
        if name in payload:
            text = payload[name]
            values[name] = text == "1" if is_flag else text
        elif required:
            raise PermanentFailure(f"a {job_type.kind} job without its {name!r}")
    return job_type(**values)  # type: ignore[arg-type]


def _to_text(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    assert isinstance(value, str)
    return value
