"""The core's ChatSender for Teams, through the Bot Connector's REST API (botframework-connector).

A target's `channel_id` is either a Teams channel ("19:…": each post starts a thread there) or a
person's Entra object id (a GUID: the post goes to their 1:1 chat with meetbot, opened when
needed). Posts carry their marker in `channelData.meetbot`.

Teams has no way to search a conversation for a marker, so `find_posted` and `find_reply` find
nothing: if the process dies after the Connector created a post and before meetbot recorded it,
the retry posts it again. Slack's metadata search prevents that duplicate; Teams cannot.

Pacing: Teams allows a bot 7 sends a second, 8 per 2 s, 60 per 30 s and 1800 an hour in one
conversation (Teams docs, "Optimize your bot with rate limiting"). Sends are counted per channel
(all of its threads) or per personal chat, in this process; a send that would exceed a limit waits
up to a second, and past that raises `RetryLater` with the time left, so a job is rescheduled
instead of holding a worker. Several worker processes each keep their own count; Teams' own 429
with Retry-After covers what they add up to.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from botbuilder.schema import ChannelAccount

from adapters.teams.activities import base_conversation, card_activity
from adapters.teams.cards import file_card, render_card
from adapters.teams.connector import TeamsConnector
from adapters.teams.references import (
    ConversationStore,
    parse_reference,
    personal_reference,
    reference_json,
)
from adapters.teams.unconfigured import NOT_CONFIGURED
from bot.domain import ChatTarget, PostedMessage
from bot.domain.installations import TeamsConversation
from bot.errors import ChatAuthRevoked, ChatChannelUnavailable
from bot.messages import ChatMessage
from bot.pacing import Pacer

THREAD_LIMITS = ((1.0, 7), (2.0, 8), (30.0, 60), (3600.0, 1800))  # (seconds, sends)
_PERSON = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def is_person(channel_id: str) -> bool:
    return bool(_PERSON.match(channel_id))


def teams_pacer(clock: Callable[[], float] = time.monotonic, max_wait: float = 1.0) -> Pacer:
    return Pacer(
        limits=THREAD_LIMITS,
        reason="Teams allows only a few messages a second in one conversation; the rest follow shortly",
        max_wait=max_wait,
        clock=clock,
    )


class TeamsSender:
    """Implements the core's ChatSender for Teams. Without a connector (Teams not configured)
    every call fails plainly instead of sending anywhere."""

    def __init__(
        self,
        connector: TeamsConnector | None,
        store: ConversationStore,
        *,
        pacer: Pacer | None = None,
    ) -> None:
        self._connector = connector
        self._store = store
        self._pacer = pacer or teams_pacer()

    def _teams(self) -> TeamsConnector:
        if self._connector is None:
            raise ChatAuthRevoked(NOT_CONFIGURED)
        return self._connector

    async def post(self, *, target: ChatTarget, message: ChatMessage, marker: str) -> PostedMessage:
        activity = self._activity(target, message, marker)
        return await self._post_activity(target, activity)

    async def _post_activity(self, target: ChatTarget, activity: Any) -> PostedMessage:
        teams = self._teams()
        if is_person(target.channel_id):
            service_url, chat = await self._personal(target)
            await self._pacer.acquire(chat)
            sent = await teams.send(
                service_url=service_url, conversation_id=chat, activity=activity
            )
            return PostedMessage(channel_id=chat, message_id=sent)
        service_url = self._channel_service_url(target)
        await self._pacer.acquire(target.channel_id)
        thread, sent = await teams.create_thread(
            service_url=service_url, channel_id=target.channel_id, activity=activity
        )
        return PostedMessage(channel_id=thread, message_id=sent)

    async def find_posted(
        self, *, target: ChatTarget, marker: str, since: datetime
    ) -> PostedMessage | None:
        return None  # Teams cannot search messages: see the module docstring

    async def find_reply(
        self, *, target: ChatTarget, thread_id: str, marker: str
    ) -> PostedMessage | None:
        return None

    async def update(self, *, target: ChatTarget, message_id: str, message: ChatMessage) -> None:
        teams = self._teams()
        activity = self._activity(target, message, "")
        if is_person(target.channel_id):
            service_url, conversation = await self._personal(target)
            key = conversation
        else:
            service_url = self._channel_service_url(target)
            conversation, key = f"{target.channel_id};messageid={message_id}", target.channel_id
        await self._pacer.acquire(key)
        await teams.update(
            service_url=service_url,
            conversation_id=conversation,
            activity_id=message_id,
            activity=activity,
        )

    async def reply(
        self, *, target: ChatTarget, thread_id: str, message: ChatMessage, marker: str
    ) -> PostedMessage:
        """Under the thread's first message in a channel; a 1:1 chat has no threads, so there
        the reply is simply the next message."""
        teams = self._teams()
        activity = self._activity(target, message, marker)
        if is_person(target.channel_id):
            return await self._post_activity(target, activity)
        service_url = self._channel_service_url(target)
        thread = f"{base_conversation(target.channel_id)};messageid={thread_id}"
        await self._pacer.acquire(target.channel_id)
        sent = await teams.send(service_url=service_url, conversation_id=thread, activity=activity)
        return PostedMessage(channel_id=thread, message_id=sent)

    async def post_file(
        self, *, target: ChatTarget, filename: str, content: bytes, title: str, comment: str
    ) -> None:
        """A bot cannot put a file into a Teams chat without a file-consent card the person must
        accept first: the CSV is sent as text in a card (the first rows when it is large)."""
        card = file_card(title=title, comment=comment, filename=filename, content=content)
        activity = card_activity(card, title)
        activity.channel_data = {"meetbot": {"file": filename}}
        await self._post_activity(target, activity)

    async def aclose(self) -> None:
        if self._connector is not None:
            await self._connector.aclose()

    # Targets.

    def _activity(self, target: ChatTarget, message: ChatMessage, marker: str) -> Any:
        names = {}
        if "<" in message.text or "<" in message.note:  # meetbot's texts name channels by id
            names = self._store.channel_names(tenant_id=target.workspace_id)
        activity = card_activity(
            render_card(message, names=names), message.summary or message.title
        )
        if marker:
            activity.channel_data = {"meetbot": {"marker": marker}}
        return activity

    def _channel_service_url(self, target: ChatTarget) -> str:
        """The service URL of the channel's tenant: the channel's own reference, or any team's."""
        known = self._store.reference(conversation_id=target.channel_id)
        candidates = [known] if known else []
        candidates += self._store.tenant_references(tenant_id=target.workspace_id)
        for text in candidates:
            reference = parse_reference(text)
            if reference.conversation.conversation_type != "personal" and reference.service_url:
                return str(reference.service_url)
        raise ChatChannelUnavailable(
            "Teams: meetbot was never added to this channel's team; add meetbot to the team",
            code="no_conversation",
        )

    async def _personal(self, target: ChatTarget) -> tuple[str, str]:
        """(service URL, the 1:1 chat) with the person `target.channel_id` names."""
        tenant, person = target.workspace_id, target.channel_id
        known = self._store.personal_reference(tenant_id=tenant, user_aad_id=person)
        if known:
            reference = parse_reference(known)
            return str(reference.service_url), str(reference.conversation.id)
        teams = self._teams()
        for text in self._store.tenant_references(tenant_id=tenant):
            team = parse_reference(text)
            if team.conversation.conversation_type == "personal" or not teams.allowed(
                team.service_url or ""
            ):
                continue
            service_url = str(team.service_url)
            user_id = await teams.member_id(
                service_url=service_url,
                conversation_id=str(team.conversation.id),
                user_aad_id=person,
            )
            if user_id is None:
                continue  # not in that team, or meetbot was removed from it
            chat = await teams.open_personal_chat(
                service_url=service_url, bot_id=team.bot.id, user_id=user_id, tenant_id=tenant
            )
            reference = personal_reference(
                service_url=service_url,
                conversation_id=chat,
                tenant_id=tenant,
                bot=team.bot,
                user=ChannelAccount(id=user_id, aad_object_id=person),
            )
            self._store.remember(
                conversation=TeamsConversation(
                    tenant,
                    chat,
                    "personal",
                    service_url,
                    reference_json(reference),
                    user_aad_id=person,
                )
            )
            return service_url, chat
        raise ChatChannelUnavailable(
            "Teams: meetbot has no chat with this person and shares no team with them; they can "
            "open meetbot from Apps in Teams once",
            code="no_conversation",
        )
