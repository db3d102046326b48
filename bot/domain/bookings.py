"""A booking as the booking system reports it, and the callback that says it may have changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class NotificationType(StrEnum):
    """What the booking system says happened; only a hint, the sync job reads the truth."""

    CREATE = "create"
    CHANGE = "change"
    CANCEL = "cancel"
    NOTIFY = "notify"


class BookingStatus(StrEnum):
    CONFIRMED = "confirmed"
    PENDING = "pending"
    CANCELLED = "cancelled"


class PaymentState(StrEnum):
    NOT_REQUIRED = "not_required"
    PENDING = "pending"
    PAID = "paid"


@dataclass(frozen=True, slots=True)
class BookingDetails:
    """A booking as the booking system reports it now."""

    external_id: str
    code: str
    service_id: str
    service_name: str
    provider_id: str
    provider_name: str
    client_name: str
    client_email: str
    client_phone: str
    start: datetime
    end: datetime
    status: BookingStatus
    payment: PaymentState

    @property
    def duration_minutes(self) -> int:
        return max(1, round((self.end - self.start).total_seconds() / 60))


@dataclass(frozen=True, slots=True)
class Booking:
    id: str
    company_id: str
    details: BookingDetails


@dataclass(frozen=True, slots=True)
class BookingCallback:
    """A booking system's webhook, validated: 'booking X of company C may have changed'."""

    company_login: str
    booking_id: str
    booking_hash: str
    notification_type: NotificationType
