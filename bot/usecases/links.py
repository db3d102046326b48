"""What a click on a client's or provider's link leads to, decided at click time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.domain import BookingStatus, MeetingPlatform, MeetingState, PaymentState
from bot.errors import MeetbotError, MeetingGone
from bot.ports import LinkStore, MeetingPlatformPort


class LinkOutcome(StrEnum):
    REDIRECT = "redirect"
    NOT_FOUND = "not_found"
    NOT_READY = "not_ready"
    CANCELLED = "cancelled"
    PAYMENT_PENDING = "payment_pending"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True, slots=True)
class LinkDecision:
    outcome: LinkOutcome
    url: str | None = None
    detail: str = ""


def client_link(store: LinkStore, *, token: str) -> LinkDecision:
    view = store.client_view(token=token)
    if view is None:
        return LinkDecision(LinkOutcome.NOT_FOUND)
    meeting, booking = view
    if booking.status is BookingStatus.CANCELLED or meeting.state in (
        MeetingState.CANCELLED,
        MeetingState.GONE,
    ):
        return LinkDecision(LinkOutcome.CANCELLED)
    if booking.payment is PaymentState.PENDING:  # never reveal the platform's URL before payment
        return LinkDecision(LinkOutcome.PAYMENT_PENDING)
    if meeting.join_url is None:
        return LinkDecision(LinkOutcome.NOT_READY)
    return LinkDecision(LinkOutcome.REDIRECT, meeting.join_url)


async def host_link(
    store: LinkStore, platforms: Mapping[MeetingPlatform, MeetingPlatformPort], *, token: str
) -> LinkDecision:
    """A host URL fetched now: Zoom's start_url expires about two hours after it is issued."""
    meeting = store.meeting_for_host_token(token=token)
    if meeting is None:
        return LinkDecision(LinkOutcome.NOT_FOUND)
    if meeting.state in (MeetingState.CANCELLED, MeetingState.GONE):
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
    except MeetbotError as error:
        return LinkDecision(LinkOutcome.UNAVAILABLE, detail=str(error))
    return LinkDecision(LinkOutcome.REDIRECT, url)
