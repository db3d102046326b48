"""Where meetbot is installed in chat and can post: a Slack workspace's installation (the bot's
token and identity there, and who installed it) and the Teams conversations the bot may use."""

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


@dataclass(frozen=True, slots=True)
class TeamsConversation:
    """Where the Teams bot can post proactively: a conversation in a tenant (a Teams tenant is a
    workspace), with the reference botbuilder serialises for it (JSON text)."""

    tenant_id: str
    conversation_id: str
    conversation_type: str  # personal, channel, groupChat; "" when not told
    service_url: str
    reference: str
    team_id: str = ""
    channel_name: str = ""
    user_aad_id: str = ""  # the person, in a personal chat
