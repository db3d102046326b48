"""The record of every chat message meetbot posts, kept so that each is posted exactly once.

A message is recorded as intended (with a marker of its own) before it is posted, and as posted
after; `bot.outbox` holds the protocol that uses these records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.domain import ChatTarget, Meeting, NotificationState, PostedMessage


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One intended message: a meeting's post in a channel (`meeting_id` set; edited as the
    booking changes), or a one-off message told once under its key (an admin's direct message,
    a reply in a booking's thread)."""

    id: str
    target: ChatTarget
    marker: str
    state: NotificationState
    message_id: str | None
    digest: str | None
    started_at: datetime  # a search for the marker need look no further back
    meeting_id: str | None = None

    @property
    def posted(self) -> bool:
        return self.state is NotificationState.POSTED and self.message_id is not None


class Outbox(Protocol):
    """Intended and posted chat messages, and who the company's admins are.

    Essential: `ensure_meeting_message`, `ensure_message`, `record_posted`."""

    def admin_inboxes(self, *, company_id: str) -> list[ChatTarget]:
        """Every admin of the company, in every chat workspace bound to it."""
        ...

    def meeting_messages(self, *, meeting: Meeting) -> list[OutboxEntry]: ...

    def ensure_meeting_message(
        self, *, meeting: Meeting, target: ChatTarget
    ) -> tuple[OutboxEntry, bool]:
        """The meeting's message in `target`, and whether this call recorded the intent."""
        ...

    def ensure_message(
        self, *, company_id: str, key: str, target: ChatTarget
    ) -> tuple[OutboxEntry, bool]:
        """The one-off message `key` to `target`, and whether this call recorded the intent."""
        ...

    def record_posted(self, *, entry: OutboxEntry, posted: PostedMessage, digest: str) -> None:
        """Posted (or found posted); `digest` names what it shows, "" when that is unknown."""
        ...

    def record_edited(self, *, entry: OutboxEntry, digest: str) -> None: ...
