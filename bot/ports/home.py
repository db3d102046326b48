"""The chat app's Home: who opened it in each company, the meetings it lists, and where it is
published (`bot.usecases.home` decides what it shows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.domain import Actor
from bot.home import HomeView


@dataclass(frozen=True, slots=True)
class UpcomingMeeting:
    """A provider's meeting that has not ended, as a Home lists it."""

    meeting_id: str
    start: datetime
    end: datetime
    service: str
    client: str
    is_class: bool
    payment_pending: bool
    opened_early: bool
    host_token: str


@dataclass(frozen=True, slots=True)
class HomeViewer:
    """Someone who opened Home, as the platform last said (a workspace admin or not), and the
    digest of the view they were last shown ("" before the first)."""

    actor: Actor
    digest: str


class HomeRecords(Protocol):
    """Who opened Home, per company, and what it lists. Essential: all four."""

    def remember_viewer(self, *, company_id: str, viewer: Actor) -> None: ...

    def viewers(self, *, company_id: str) -> list[HomeViewer]: ...

    def record_published(self, *, company_id: str, viewer: Actor, digest: str) -> None: ...

    def upcoming(
        self, *, company_id: str, provider_external_id: str, since: datetime, limit: int
    ) -> list[UpcomingMeeting]:
        """The provider's scheduled meetings ending after `since`, soonest first."""
        ...


class HomePublisher(Protocol):
    """Where Home is shown. Essential: both."""

    async def publish_home(self, *, workspace_id: str, user_id: str, view: HomeView) -> None:
        """Replaces the user's Home with `view` (publishing the same view twice is harmless)."""
        ...

    async def is_workspace_admin(self, *, workspace_id: str, user_id: str) -> bool:
        """Whether the person is an admin or owner of the workspace now, as the platform says.
        Raises `RetryLater` when the platform asks to wait, `MeetbotError` when it cannot say."""
        ...
