"""The Teams ChatSender of a deployment without a Teams app: it refuses every post in plain words.

It lives apart from `sender.py` so that a deployment without Teams never imports botbuilder."""

from __future__ import annotations

from datetime import datetime

from bot.domain import ChatTarget, PostedMessage
from bot.errors import ChatAuthRevoked
from bot.messages import ChatMessage

NOT_CONFIGURED = "meetbot's Teams app is not configured (MEETBOT_TEAMS_APP_ID), so nothing can be posted to Teams"


class TeamsNotConfigured:
    """Implements the core's ChatSender: every post fails as a revoked chat authorisation would,
    so the outbox tells an admin instead of retrying."""

    async def post(self, *, target: ChatTarget, message: ChatMessage, marker: str) -> PostedMessage:
        raise ChatAuthRevoked(NOT_CONFIGURED)

    async def find_posted(
        self, *, target: ChatTarget, marker: str, since: datetime
    ) -> PostedMessage | None:
        return None  # nothing was ever posted

    async def update(self, *, target: ChatTarget, message_id: str, message: ChatMessage) -> None:
        raise ChatAuthRevoked(NOT_CONFIGURED)

    async def reply(
        self, *, target: ChatTarget, thread_id: str, message: ChatMessage, marker: str
    ) -> PostedMessage:
        raise ChatAuthRevoked(NOT_CONFIGURED)

    async def find_reply(
        self, *, target: ChatTarget, thread_id: str, marker: str
    ) -> PostedMessage | None:
        return None

    async def post_file(
        self, *, target: ChatTarget, filename: str, content: bytes, title: str, comment: str
    ) -> None:
        raise ChatAuthRevoked(NOT_CONFIGURED)

    async def aclose(self) -> None:
        return None
