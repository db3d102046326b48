"""A booking's online meeting, its clients' seats, and the channel messages that announce it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.platforms import ChatTarget, MeetingPlatform


class MeetingState(StrEnum):
    CREATING = "creating"  # intent recorded; the platform may or may not have the meeting yet
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    GONE = "gone"


class NotificationState(StrEnum):
    POSTING = "posting"  # intent recorded; the post may or may not have happened
    POSTED = "posted"


@dataclass(frozen=True, slots=True)
class MeetingHostRef:
    """Which connected account hosts a meeting, and as which platform user."""

    platform: MeetingPlatform
    account_id: str
    host_user: str


@dataclass(frozen=True, slots=True)
class Meeting:
    id: str
    company_id: str
    booking_id: str
    host: MeetingHostRef
    marker: str
    state: MeetingState
    start: datetime
    end: datetime
    external_id: str | None
    join_url: str | None
    client_token: str
    host_token: str
    opened_at: datetime | None = None
    class_key: str | None = None  # a group class: several bookings' seats share this meeting


@dataclass(frozen=True, slots=True)
class Seat:
    """A client's place in a meeting; a class has several."""

    booking_id: str
    booking_code: str
    client_name: str
    client_email: str
    client_token: str
    registrant_id: str | None
    join_url: str | None
    cancelled: bool


@dataclass(frozen=True, slots=True)
class MeetingRequest:
    """What the platform is asked to create. `marker` lets a retry find a meeting that was made."""

    topic: str
    start: datetime
    duration_minutes: int
    timezone: str
    agenda: str
    marker: str
    registration: bool = False  # a class on Zoom: each client registers for a join URL of their own


@dataclass(frozen=True, slots=True)
class PlatformMeeting:
    external_id: str
    join_url: str


@dataclass(frozen=True, slots=True)
class Notification:
    id: str
    meeting_id: str
    target: ChatTarget
    marker: str
    state: NotificationState
    message_id: str | None
    digest: str | None
