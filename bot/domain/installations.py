"""A chat workspace's installation of meetbot, as the chat platform's install flow gives it
(Slack's multi-workspace OAuth): the bot's token and identity there, and who installed it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ChatInstallation:
    workspace_id: str  # Slack's team id
    workspace_name: str
    bot_token: str
    bot_user_id: str
    bot_id: str
    scopes: tuple[str, ...]
    installed_by: str  # the installing person's user id
    installed_at: float = 0.0  # seconds since the epoch; set by the store that keeps it

    def __repr__(self) -> str:  # the bot token is a secret
        return f"ChatInstallation(workspace_id={self.workspace_id!r}, scopes={self.scopes!r})"
