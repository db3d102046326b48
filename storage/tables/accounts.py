"""Whom meetbot acts as: chat workspaces with their bot tokens, connected meeting accounts (Zoom,
Microsoft) with their tokens, OAuth sign-ins in progress, and the Teams conversations the bot
may post to.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.tables.columns import new_id, utc_column


class ChatWorkspaceRow(SQLModel, table=True):
    """A Slack team (or Teams tenant): one tenant of meetbot, bound to one company once connected."""

    __tablename__ = "chat_workspace"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)
    id: str = Field(default_factory=new_id, primary_key=True)
    company_id: str | None = Field(default=None, foreign_key="company.id", index=True)
    platform: str
    external_id: str
    name: str = ""
    bot_token_enc: str | None = None
    bot_user_id: str = ""
    bot_id: str = ""
    scopes: str = ""
    installed_by: str = ""
    created_at: datetime = utc_column(now=True)


class OAuthStateRow(SQLModel, table=True):
    """An OAuth `state`: single-use and expiring, naming who started the flow and for what."""

    __tablename__ = "oauth_state"
    __table_args__ = (Index("ix_oauth_state_expires_at", "expires_at"),)
    state_hash: str = Field(primary_key=True)
    purpose: str
    company_id: str | None = None
    platform: str = ""
    workspace_id: str = ""
    user_id: str = ""
    expires_at: datetime = utc_column()
    used_at: datetime | None = utc_column(nullable=True)
    # What the flow must remember until the callback (msal's auth-code flow), encrypted.
    payload_enc: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # The digest of the nonce in the starting browser's cookie: only that browser may finish.
    browser_hash: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class ZoomAccountRow(SQLModel, table=True):
    __tablename__ = "zoom_account"
    id: str = Field(default_factory=new_id, primary_key=True)
    company_id: str = Field(foreign_key="company.id", unique=True)  # one Zoom account per company
    zoom_account_id: str
    connected_by: str = ""
    access_token_enc: str
    refresh_token_enc: str
    access_expires_at: datetime = utc_column()
    token_version: int = 1
    refresh_lease_until: datetime | None = utc_column(nullable=True)
    state: str = "active"
    state_reason: str = ""
    created_at: datetime = utc_column(now=True)


class MsAccountRow(SQLModel, table=True):
    """A Microsoft work account that hosts Teams meetings: the company's (provider "") or one
    provider's own (S10). Its msal token cache is stored encrypted, whole."""

    __tablename__ = "ms_account"
    __table_args__ = (UniqueConstraint("company_id", "provider_external_id"),)
    id: str = Field(default_factory=new_id, primary_key=True)
    company_id: str = Field(foreign_key="company.id", index=True)
    provider_external_id: str = ""  # "" = the company's account, the default host
    tenant_id: str
    object_id: str
    username: str = ""
    display_name: str = ""
    home_account_id: str = ""
    token_cache_enc: str = Field(sa_column=Column(Text, nullable=False))
    state: str = "active"
    state_reason: str = ""
    connected_by: str = ""
    updated_at: datetime = utc_column(now=True)


class TeamsConversationRow(SQLModel, table=True):
    """Where the Teams bot can post proactively: stored when it is added to a team or spoken to."""

    __tablename__ = "teams_conversation"
    id: str = Field(default_factory=new_id, primary_key=True)
    company_id: str | None = Field(default=None, foreign_key="company.id", index=True)
    tenant_id: str = Field(index=True)
    conversation_id: str = Field(unique=True)
    conversation_type: str = ""  # personal, channel, groupChat
    team_id: str = ""
    channel_name: str = ""
    user_aad_id: str = ""  # personal chats: whose
    service_url: str
    reference: str = Field(sa_column=Column(Text, nullable=False))  # the conversation reference
    updated_at: datetime = utc_column(now=True)
