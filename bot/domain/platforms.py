"""Chat and meeting platforms, and who acts on them: the words every other domain module uses."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MeetingPlatform(StrEnum):
    ZOOM = "zoom"
    TEAMS = "teams"


class ChatPlatform(StrEnum):
    SLACK = "slack"
    TEAMS = "teams"


@dataclass(frozen=True, slots=True)
class ChatTarget:
    """Where a message goes: a channel of one chat workspace."""

    platform: ChatPlatform
    workspace_id: str
    channel_id: str


@dataclass(frozen=True, slots=True)
class PostedMessage:
    channel_id: str
    message_id: str


@dataclass(frozen=True, slots=True)
class Actor:
    """Who typed a command, as the chat platform vouches for it."""

    platform: ChatPlatform
    workspace_id: str
    user_id: str
    is_workspace_admin: bool = False
    channel_id: str = ""
