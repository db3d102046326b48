"""bolt's installation and OAuth state stores, backed by meetbot's database through small protocols."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.domain.installations import ChatInstallation

INSTALL_STATE_SECONDS = 10 * 60
log = logging.getLogger("meetbot.slack")


class InstallationStore(Protocol):
    def save_installation(self, *, installation: ChatInstallation) -> None: ...

    def installation(self, *, team_id: str) -> ChatInstallation | None: ...

    def forget_installation(self, *, team_id: str) -> None: ...


class StateStore(Protocol):
    def issue(
        self, *, purpose: str, company_id: str | None, actor: Any, ttl_seconds: float
    ) -> str: ...

    def consume(self, *, purpose: str, state: str) -> Any: ...


def _bot_fields(
    found: ChatInstallation, *, enterprise_id: str | None, team_id: str | None
) -> dict[str, Any]:
    """What bolt's Bot and Installation both carry, from meetbot's stored installation."""
    return {
        "enterprise_id": enterprise_id,
        "team_id": team_id,
        "bot_token": found.bot_token,
        "bot_id": found.bot_id,
        "bot_user_id": found.bot_user_id,
        "bot_scopes": list(found.scopes),
        "installed_at": found.installed_at,
    }


class _MeetbotLog:
    @property
    def logger(self) -> Any:
        """bolt asks each store for its logger."""
        return log


class SlackInstallations(_MeetbotLog, AsyncInstallationStore):
    def __init__(self, store: InstallationStore) -> None:
        self._store = store

    async def async_save(self, installation: Installation) -> None:
        if not installation.team_id or not installation.bot_token:
            return
        kept = ChatInstallation(
            installation.team_id,
            installation.team_name or "",
            installation.bot_token,
            installation.bot_user_id or "",
            installation.bot_id or "",
            tuple(installation.bot_scopes or ()),
            installation.user_id or "",
        )
        self._store.save_installation(installation=kept)

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        found = self._store.installation(team_id=team_id or "")
        if found is None:
            return None
        return Bot(**_bot_fields(found, enterprise_id=enterprise_id, team_id=team_id))

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        found = self._store.installation(team_id=team_id or "")
        if found is None:
            return None
        fields = _bot_fields(found, enterprise_id=enterprise_id, team_id=team_id)
        return Installation(user_id=found.installed_by, **fields)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        self._store.forget_installation(team_id=team_id or "")

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self._store.forget_installation(team_id=team_id or "")


class SlackStates(_MeetbotLog, AsyncOAuthStateStore):
    """OAuth `state` for the install flow: single-use and expiring, kept in the database."""

    def __init__(self, store: StateStore) -> None:
        self._store = store

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        return self._store.issue(
            purpose="slack_install", company_id=None, actor=None, ttl_seconds=INSTALL_STATE_SECONDS
        )

    async def async_consume(self, state: str) -> bool:
        return self._store.consume(purpose="slack_install", state=state) is not None
