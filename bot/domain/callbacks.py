"""What a booking system's webhook says, once validated, and once matched to a company."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.kinds import NotificationType


@dataclass(frozen=True, slots=True)
class BookingCallback:
    """A booking system's webhook, validated: 'booking X of company C may have changed'."""

    company_login: str
    booking_id: str
    booking_hash: str
    notification_type: NotificationType


@dataclass(frozen=True, slots=True)
class AcceptedCallback:
    """A callback whose webhook address and company matched: to be kept with its sync job."""

    company_id: str
    callback: BookingCallback
    raw_body: str
