"""Teams activities in plain values: who spoke and where, whom they mentioned, the command text
the grammar reads, and a card as an activity. Pure conversions; no call leaves the process.

Wire facts relied on (Teams docs "Channel and group chat conversations with a bot"; the Teams
simulator beside the tests):
- In a channel the bot receives a message only when @mentioned. The text then carries
  `<at>name</at>` for each mention and `entities` a {"type": "mention", "text": "<at>…</at>",
  "mentioned": {"id", "name"}} per mention; the bot's own id is `recipient.id` ("28:<app id>").
  A channel or team mention names the conversation ("19:…"). Whether a user mention carries the
  person's `aadObjectId` is unconfirmed, so it is looked up when absent.
- A channel message's `conversation.id` is "<channel id>;messageid=<thread root>".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import re2
from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity

from bot.commands.reply import Reply
from bot.messages import ChatMessage, Link

# RE2: linear time on whatever any member of any tenant sends.
AT_TAG = re2.compile(r"(?i)</?at[^>]*>")
_COMMAND_PREFIX = re2.compile(r"(?i)^\s*/?meetings\b")


@dataclass(frozen=True)
class Mentioned:
    text: str  # as it appears in the message: "<at>Olena Koval</at>"
    id: str  # "28:…" a bot, "29:…" a person, "19:…" a channel or team
    name: str
    aad_object_id: str = ""


@dataclass(frozen=True)
class Speaker:
    """Who sent an activity, and from where."""

    tenant_id: str
    aad_object_id: str
    user_id: str
    conversation_id: str  # without ";messageid=…"
    conversation_type: str

    @property
    def in_channel(self) -> bool:
        return self.conversation_type != "personal"


def base_conversation(conversation_id: str) -> str:
    return conversation_id.split(";messageid=", 1)[0]


def mentions_of(activity: Activity) -> list[Mentioned]:
    found = []
    for entity in activity.entities or []:
        extra: dict[str, Any] = getattr(entity, "additional_properties", None) or {}
        mentioned = extra.get("mentioned") or {}
        if (entity.type or "").lower() != "mention" or not isinstance(mentioned, dict):
            continue
        found.append(
            Mentioned(
                text=str(extra.get("text") or ""),
                id=str(mentioned.get("id") or ""),
                name=str(mentioned.get("name") or ""),
                aad_object_id=str(mentioned.get("aadObjectId") or ""),
            )
        )
    return found


def command_text(
    text: str, mentioned: Sequence[Mentioned], *, bot_id: str, people: Mapping[str, str]
) -> str:
    """The command as the grammar reads it: the bot's mention removed, people as `<@aadObjectId>`
    (from `people`, Teams id → object id) and channels as `<#conversationId>`; a person who could
    not be identified stays their plain name, which the grammar then questions."""
    for mention in mentioned:
        if not mention.text or mention.text not in text:
            continue
        if mention.id == bot_id:
            replacement = " "
        elif mention.id.startswith("19:"):
            replacement = f" <#{base_conversation(mention.id)}> "
        elif people.get(mention.id):
            replacement = f" <@{people[mention.id]}> "
        else:
            replacement = f" {AT_TAG.sub('', mention.text)} "
        text = text.replace(mention.text, replacement, 1)
    text = AT_TAG.sub("", text).replace("&nbsp;", " ").replace("\u00a0", " ")
    return _COMMAND_PREFIX.sub("", text, count=1).strip()


def answered_privately(reply: Reply) -> bool:
    """Whether an answer to a question asked in a channel goes to the asker's personal chat."""
    return reply.secret or (not reply.public and carries_link(reply.message))


def carries_link(message: ChatMessage) -> bool:
    """A link in a Teams channel is a link for everyone in it."""
    texts = [message.text, message.note, *(fact.value for fact in message.facts)]
    return (
        bool(message.buttons)
        or any(isinstance(segment, Link) for segment in message.body)
        or any("://" in text for text in texts)
    )


def card_activity(card: dict[str, Any], summary: str) -> Activity:
    activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
    activity.summary = summary
    return activity
