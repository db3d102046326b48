"""The domain's closed vocabularies: platforms, booking and payment states, and the states of
what meetbot keeps (meetings, their messages, connected accounts). Stored and compared as strings.
"""

from __future__ import annotations

from enum import StrEnum


class NotificationType(StrEnum):
    """What the booking system says happened; only a hint, the sync job reads the truth."""

    CREATE = "create"
    CHANGE = "change"
    CANCEL = "cancel"
    NOTIFY = "notify"


class MeetingPlatform(StrEnum):
    ZOOM = "zoom"
    TEAMS = "teams"


class ChatPlatform(StrEnum):
    SLACK = "slack"
    TEAMS = "teams"


class BookingStatus(StrEnum):
    CONFIRMED = "confirmed"
    PENDING = "pending"
    CANCELLED = "cancelled"


class PaymentState(StrEnum):
    NOT_REQUIRED = "not_required"
    PENDING = "pending"
    PAID = "paid"


class MeetingState(StrEnum):
    CREATING = "creating"  # intent recorded; the platform may or may not have the meeting yet
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    GONE = "gone"


class NotificationState(StrEnum):
    POSTING = "posting"  # intent recorded; the post may or may not have happened
    POSTED = "posted"


class AccountState(StrEnum):
    ACTIVE = "active"
    NEEDS_RECONNECT = "needs_reconnect"
