"""What a click on a client's or provider's link leads to, decided at click time."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from bot.domain import BookingStatus, Company, MeetingPlatform, MeetingState, PaymentState
from bot.errors import MeetbotError, MeetingGone, StorageUnavailable
from bot.ports import LinkStore, MeetingPlatformPort

OVER_GRACE = timedelta(minutes=30)  # a late client can still join this long after the end
ENDED = (MeetingState.CANCELLED, MeetingState.GONE)

T = TypeVar("T")


class LinkOutcome(StrEnum):
    REDIRECT = "redirect"
    NOT_FOUND = "not_found"
    NOT_READY = "not_ready"
    CANCELLED = "cancelled"
    PAYMENT_PENDING = "payment_pending"
    WAIT = "wait"
    OVER = "over"
    UNAVAILABLE = "unavailable"  # the video platform did not answer
    TRY_AGAIN = "try_again"  # meetbot's own database cannot be used right now


@dataclass(frozen=True, slots=True)
class MeetingSummary:
    """What a client's page may say about the meeting: whose it is and when. Nothing about the
    client (the link may be forwarded) and never the platform's URL."""

    business: str
    service: str
    provider: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True, slots=True)
class LinkDecision:
    outcome: LinkOutcome
    url: str | None = None
    detail: str = ""
    opens_at: datetime | None = None
    seconds_left: int = 0  # by the server's clock: a visitor's clock may be wrong
    summary: MeetingSummary | None = None  # whenever the token names a booking

    @property
    def starts_at(self) -> datetime | None:
        return self.summary.starts_at if self.summary else None

    @property
    def in_calendar(self) -> bool:
        """Whether the meeting is still ahead or on, so adding it to a calendar makes sense."""
        return self.summary is not None and self.outcome not in (
            LinkOutcome.CANCELLED,
            LinkOutcome.OVER,
        )


def _look_up(lookup: Callable[[], T | None]) -> T | LinkDecision:
    """What a link's token names, or the decision when the store is down or knows no such token."""
    try:
        found = lookup()
    except StorageUnavailable:
        return LinkDecision(LinkOutcome.TRY_AGAIN)
    return LinkDecision(LinkOutcome.NOT_FOUND) if found is None else found


def opening_time(start: datetime, company: Company) -> datetime:
    return start - timedelta(minutes=company.open_minutes_before)


def client_link(store: LinkStore, *, token: str, now: datetime) -> LinkDecision:
    """Opens at the booked time (minus the company's lead) or when started by hand (S13)."""
    view = _look_up(lambda: store.client_view(token=token))
    if isinstance(view, LinkDecision):
        return view
    meeting, booking, company = view
    summary = MeetingSummary(
        company.name, booking.service_name, booking.provider_name, booking.start, booking.end
    )
    if booking.status is BookingStatus.CANCELLED or meeting.state in ENDED:
        return LinkDecision(LinkOutcome.CANCELLED, summary=summary)
    if booking.payment is PaymentState.PENDING:  # never reveal the platform's URL before payment
        return LinkDecision(LinkOutcome.PAYMENT_PENDING, summary=summary)
    if meeting.join_url is None:
        return LinkDecision(LinkOutcome.NOT_READY, summary=summary)
    # The booking's own times: the meeting may still be moving to them (a retry pending).
    if now - OVER_GRACE > booking.end:  # `now` is near; a booking's end may be far away
        return LinkDecision(LinkOutcome.OVER, summary=summary)
    opens = opening_time(booking.start, company)
    if meeting.opened_at is None and now < opens:
        return LinkDecision(
            LinkOutcome.WAIT,
            opens_at=opens,
            seconds_left=int((opens - now).total_seconds()) + 1,
            summary=summary,
        )
    return LinkDecision(LinkOutcome.REDIRECT, meeting.join_url, summary=summary)


async def host_link(
    store: LinkStore, platforms: Mapping[MeetingPlatform, MeetingPlatformPort], *, token: str
) -> LinkDecision:
    """A host URL fetched now: Zoom's start_url expires about two hours after it is issued."""
    meeting = _look_up(lambda: store.meeting_for_host_token(token=token))
    if isinstance(meeting, LinkDecision):
        return meeting
    if meeting.state in ENDED:
        return LinkDecision(LinkOutcome.CANCELLED)
    if meeting.external_id is None:
        return LinkDecision(LinkOutcome.NOT_READY)
    platform = platforms[meeting.host.platform]
    try:
        url = await platform.fresh_host_url(host=meeting.host, external_id=meeting.external_id)
    except MeetingGone:
        return LinkDecision(
            LinkOutcome.CANCELLED, detail="the meeting no longer exists on the platform"
        )
    except StorageUnavailable:  # the host's platform tokens are stored: not the platform's fault
        return LinkDecision(LinkOutcome.TRY_AGAIN)
    except MeetbotError as error:
        return LinkDecision(LinkOutcome.UNAVAILABLE, detail=str(error))
    return LinkDecision(LinkOutcome.REDIRECT, url)
