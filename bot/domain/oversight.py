"""What a company's admins are told and can look back on: alerts (problems only a person can fix),
the audit trail, the daily digest's settings and the bookings report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.kinds import BookingStatus, MeetingState, PaymentState


class AlertKind(StrEnum):
    """Problems only a person can fix; each is told to the company's admins once."""

    ACCOUNT_REVOKED = "account_revoked"
    CHANNEL_UNUSABLE = "channel_unusable"
    JOB_DEAD = "job_dead"
    PROVIDER_UNMAPPED = "provider_unmapped"
    DAILY_LIMIT = "daily_limit"
    KIOSK_ON = "kiosk_on"
    UNKNOWN_BOOKINGS = "unknown_bookings"


@dataclass(frozen=True, slots=True)
class AlertSpec:
    """What a problem is, in plain words, and the button that fixes it (if one exists).

    `subject` tells apart problems of one kind (a provider, a job, a host): the same kind and
    subject is one problem, alerted once until it is resolved.
    """

    kind: AlertKind
    subject: str
    title: str
    detail: str
    fix: str = ""  # what to do, when there is no button (or besides it)
    action_label: str = ""
    action_id: str = ""
    action_value: str = ""


@dataclass(frozen=True, slots=True)
class Alert:
    id: str
    company_id: str
    spec: AlertSpec
    bookings: tuple[str, ...]
    opened_at: datetime
    resolved_at: datetime | None = None
    resolution: str = ""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    actor: str  # "platform:workspace:user", or a system's name ("Zoom") for what it did itself
    action: str
    detail: str


@dataclass(frozen=True, slots=True)
class DigestSettings:
    enabled: bool = True
    hour: int = 8  # local hour in the company's time zone
    last_sent_on: str = ""  # the company-local date of the last digest (YYYY-MM-DD)


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One online booking as the report shows it; `status` is worked out by the core."""

    booking_code: str
    start: datetime
    end: datetime
    service: str
    service_external_id: str
    provider: str
    provider_external_id: str
    client: str
    booking_status: BookingStatus
    payment: PaymentState
    problem: str | None
    meeting_state: MeetingState | None
    opened_at: datetime | None
    client_token: str | None
    host_token: str | None
