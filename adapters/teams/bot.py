"""The Teams front-end on botbuilder's ActivityHandler: activities in, the core's use cases, cards out.

The handler only converts: a Teams message → `Actor` and command text → `run_command` → an
Adaptive Card; a card's Action.Submit → `run_action` or `submit_simplybook`. Role rules live in
the core. Where the answer goes is this module's one decision: Slack shows command answers only to
the asker, a Teams channel shows them to everyone, so in a channel an answer that carries a link
(an OAuth link, a host link, the callback URL) or the credentials form goes to the asker's
personal chat, with a pointer in the thread.

Wire facts relied on (Teams docs "Channel and group chat conversations with a bot",
"Conversation events"; the Teams simulator beside the tests):
- In a channel the bot receives a message only when @mentioned. The text then carries
  `<at>name</at>` for each mention and `entities` a {"type": "mention", "text": "<at>…</at>",
  "mentioned": {"id", "name"}} per mention; the bot's own id is `recipient.id` ("28:<app id>").
  A channel or team mention names the conversation ("19:…"). Whether a user mention carries the
  person's `aadObjectId` is unconfirmed, so it is looked up when absent.
- A channel message's `conversation.id` is "<channel id>;messageid=<thread root>", its
  `conversationType` "channel"; `channelData.team`, `channelData.channel` name them.
  `conversation.tenantId` (or `channelData.tenant.id`) is the tenant; `from.aadObjectId` the
  person's Entra object id, stable across apps (`from.id`, "29:…", is per app).
- Adding the bot to a team, or installing it for oneself, is a conversationUpdate whose
  `membersAdded` holds the bot; `from` is the person who did it.
- An Action.Submit arrives as a message with no text, `value` = the card's data and inputs, and
  `replyToId` = the card's activity id (what an update replaces).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botbuilder.core import ActivityHandler, BotAdapter, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import Activity, ChannelAccount

from adapters.edge.front import ChatHandlers
from adapters.teams.activities import (
    AT_TAG,
    Mentioned,
    Speaker,
    answered_privately,
    base_conversation,
    card_activity,
    command_text,
    mentions_of,
)
from adapters.teams.cards import (
    ACTION_KEY,
    FORM_FIELDS,
    FORM_KEY,
    SIMPLYBOOK_FORM,
    notice_card,
    render_card,
    simplybook_form,
)
from adapters.teams.connector import TeamsConnector
from adapters.teams.references import (
    ConversationStore,
    parse_reference,
    personal_reference,
    reference_json,
)
from bot.commands import MAX_COMMAND_CHARS, Reply, answer_in_time
from bot.commands import SIMPLYBOOK_FORM as CORE_FORM
from bot.domain import Actor, ChatPlatform
from bot.domain.installations import TeamsConversation
from bot.errors import MeetbotError
from bot.messages import ChatMessage

log = logging.getLogger("meetbot.teams")

ANSWER_WITHIN_SECONDS = 5.0  # the Bot Framework waits about 15 s for the HTTP answer
GREETING = ChatMessage(
    title="Hello, I am meetbot",
    summary="meetbot is here",
    text=(
        "I turn SimplyBook.me bookings into online meetings and post them to the providers' "
        "channels. To set me up, an admin writes `connect simplybook` to me in a private chat "
        "(in a channel, mention @meetbot first). `help` lists every command."
    ),
)


@dataclass(frozen=True)
class TeamsHandlers(ChatHandlers):
    """The core's use cases, bound by the composition root."""

    # A command slower than Teams waits for is redone by a worker, answered in the person's chat.
    defer_command: Callable[[Actor, str], None] | None = None


class MeetbotTeamsBot(ActivityHandler):
    def __init__(
        self, handlers: TeamsHandlers, connector: TeamsConnector, store: ConversationStore
    ) -> None:
        self._handlers = handlers
        self._connector = connector
        self._store = store

    async def on_turn(self, turn_context: TurnContext) -> None:
        client = turn_context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
        if client is not None:  # botbuilder's default is msrest's 100 seconds
            client.config.connection.timeout = self._connector.config.timeout_seconds
        await super().on_turn(turn_context)

    # Installs.

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        activity = turn_context.activity
        if not any(member.id == activity.recipient.id for member in members_added):
            return  # someone joined a team meetbot is in
        speaker = self._speaker(activity)
        if speaker is None:
            return
        self._remember(activity, speaker)
        if speaker.aad_object_id:
            self._store.bind_tenant(tenant_id=speaker.tenant_id, installed_by=speaker.aad_object_id)
        await turn_context.send_activity(card_activity(render_card(GREETING), GREETING.summary))

    # Messages and card submissions.

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        speaker = self._speaker(activity)
        if speaker is None or not speaker.aad_object_id:
            log.info("Teams message without a tenant or a person: ignored")
            return
        self._remember(activity, speaker)
        if not speaker.in_channel and self._store.installer(tenant_id=speaker.tenant_id) is None:
            # Teams delivers a personal message only once the person installed meetbot: the
            # install event was missed, so this person is taken as the installer.
            self._store.bind_tenant(tenant_id=speaker.tenant_id, installed_by=speaker.aad_object_id)
        if isinstance(activity.value, dict):
            await self._submitted(turn_context, speaker, activity.value)
            return
        await self._command(turn_context, speaker)

    async def _command(self, turn_context: TurnContext, speaker: Speaker) -> None:
        activity = turn_context.activity
        mentioned = mentions_of(activity)
        bot_id = activity.recipient.id
        if speaker.in_channel and not any(mention.id == bot_id for mention in mentioned):
            return  # not addressed to meetbot
        text = activity.text or ""
        people: dict[str, str] = {}
        if len(text) <= MAX_COMMAND_CHARS:  # longer: the core answers "too long" without reading it
            people = await self._people(turn_context, mentioned, bot_id)
            text = command_text(text, mentioned, bot_id=bot_id, people=people)
        actor = self._actor(speaker)
        defer = self._handlers.defer_command
        reply = await answer_in_time(
            lambda: self._handlers.run_command(actor, text),
            seconds=ANSWER_WITHIN_SECONDS,
            defer=(lambda: defer(actor, text)) if defer is not None else None,
        )
        if reply is None:
            working = notice_card(
                "Working on it…", "The answer will come in our private chat in a moment."
            )
            await turn_context.send_activity(card_activity(working, "Working on it…"))
            return
        if reply.form == CORE_FORM:
            await self._send_form(turn_context, speaker)
            return
        names = self._names(activity, speaker, mentioned, people)
        await self._answer(turn_context, speaker, reply, names)

    async def _people(
        self, turn_context: TurnContext, mentioned: Sequence[Mentioned], bot_id: str
    ) -> dict[str, str]:
        people: dict[str, str] = {}
        for mention in mentioned:
            if mention.id == bot_id or mention.id.startswith("19:") or not mention.id:
                continue
            if mention.aad_object_id:
                people[mention.id] = mention.aad_object_id
                continue
            try:
                member = await TeamsInfo.get_member(turn_context, mention.id)
            except Exception as error:  # the grammar then asks for a proper mention
                log.info("could not identify a mentioned person: %s", type(error).__name__)
                continue
            if getattr(member, "aad_object_id", None):
                people[mention.id] = str(member.aad_object_id)
        return people

    async def _submitted(
        self, turn_context: TurnContext, speaker: Speaker, value: dict[str, Any]
    ) -> None:
        actor = self._actor(speaker)
        card_id = turn_context.activity.reply_to_id
        if value.get(FORM_KEY) == SIMPLYBOOK_FORM:
            values = {name: str(value.get(name) or "") for name in FORM_FIELDS}
            errors, reply = await self._handlers.submit_simplybook(actor, values)
            if errors:
                form = simplybook_form(errors=errors, login=values["login"])
                await self._replace_or_send(turn_context, card_id, form, "Connect SimplyBook.me")
                return
            closed = notice_card(
                "SimplyBook.me details received",
                "This form is closed, so nothing typed into it stays on screen.",
            )
            await self._replace_or_send(turn_context, card_id, closed, "SimplyBook.me connected")
            if reply is not None:
                await self._answer(turn_context, speaker, reply, {})
            return
        if isinstance(value.get(ACTION_KEY), str):
            reply = await self._handlers.run_action(
                actor, value[ACTION_KEY], str(value.get("value") or "")
            )
            await self._answer(turn_context, speaker, reply, {}, pressed=card_id)

    # Answers.

    async def _answer(
        self,
        turn_context: TurnContext,
        speaker: Speaker,
        reply: Reply,
        names: Mapping[str, str],
        *,
        pressed: str | None = None,
    ) -> None:
        message = reply.message
        card = render_card(message, names=names)
        summary = message.summary or message.title
        if speaker.in_channel and answered_privately(reply):
            await self._privately(turn_context, speaker, card, summary)
            return
        if pressed and reply.replace_original:
            await self._replace_or_send(turn_context, pressed, card, summary)
            return
        await turn_context.send_activity(card_activity(card, summary))

    async def _send_form(self, turn_context: TurnContext, speaker: Speaker) -> None:
        form = simplybook_form()
        if speaker.in_channel:  # secrets are never typed into a channel
            await self._privately(turn_context, speaker, form, "Connect SimplyBook.me")
            return
        await turn_context.send_activity(card_activity(form, "Connect SimplyBook.me"))

    async def _replace_or_send(
        self, turn_context: TurnContext, card_id: str | None, card: dict[str, Any], summary: str
    ) -> None:
        if card_id:
            activity = card_activity(card, summary)
            activity.id = card_id
            try:
                await turn_context.update_activity(activity)
                return
            except Exception as error:  # the card is gone: answer beside it instead
                log.info("could not replace a Teams card: %s", type(error).__name__)
        await turn_context.send_activity(card_activity(card, summary))

    async def _privately(
        self, turn_context: TurnContext, speaker: Speaker, card: dict[str, Any], summary: str
    ) -> None:
        activity = turn_context.activity
        try:
            chat = await self._personal_chat(activity, speaker)
            await self._connector.send(
                service_url=activity.service_url,
                conversation_id=chat,
                activity=card_activity(card, summary),
            )
        except MeetbotError as problem:
            log.info("could not answer in a personal chat: %s", problem)
            title = "I could not open a private chat with you"
            pointer = notice_card(
                title,
                "This answer holds links only you should see. Open meetbot from Apps in Teams, "
                "start a chat with it, and send the command there.",
            )
        else:
            title = "I answered you in our private chat"
            pointer = notice_card(title)
        await turn_context.send_activity(card_activity(pointer, title))

    async def _personal_chat(self, activity: Activity, speaker: Speaker) -> str:
        known = self._store.personal_reference(
            tenant_id=speaker.tenant_id, user_aad_id=speaker.aad_object_id
        )
        if known:
            return str(parse_reference(known).conversation.id)
        chat = await self._connector.open_personal_chat(
            service_url=activity.service_url,
            bot_id=activity.recipient.id,
            user_id=speaker.user_id,
            tenant_id=speaker.tenant_id,
        )
        reference = personal_reference(
            service_url=activity.service_url,
            conversation_id=chat,
            tenant_id=speaker.tenant_id,
            bot=activity.recipient,
            user=activity.from_property,
        )
        self._store.remember(
            conversation=TeamsConversation(
                speaker.tenant_id,
                chat,
                "personal",
                activity.service_url,
                reference_json(reference),
                user_aad_id=speaker.aad_object_id,
            )
        )
        return chat

    # Conversions.

    def _speaker(self, activity: Activity) -> Speaker | None:
        conversation = activity.conversation
        channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
        tenant = getattr(conversation, "tenant_id", None) or (
            (channel_data.get("tenant") or {}).get("id") if isinstance(channel_data, dict) else None
        )
        sender = activity.from_property
        if not tenant or conversation is None or sender is None:
            return None
        return Speaker(
            tenant_id=str(tenant),
            aad_object_id=str(getattr(sender, "aad_object_id", "") or ""),
            user_id=str(sender.id or ""),
            conversation_id=base_conversation(str(conversation.id or "")),
            conversation_type=str(conversation.conversation_type or "personal"),
        )

    def _actor(self, speaker: Speaker) -> Actor:
        installer = self._store.installer(tenant_id=speaker.tenant_id)
        return Actor(
            ChatPlatform.TEAMS,
            speaker.tenant_id,
            speaker.aad_object_id,
            is_workspace_admin=bool(installer) and installer == speaker.aad_object_id,
            channel_id=speaker.conversation_id,
        )

    def _remember(self, activity: Activity, speaker: Speaker) -> None:
        """Keeps where the bot can post later; never a reference to a host off the allow-list."""
        if not self._connector.allowed(activity.service_url or ""):
            return
        reference = TurnContext.get_conversation_reference(activity)
        reference.activity_id = None
        reference.conversation.id = speaker.conversation_id
        channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
        team = channel_data.get("team") or {}
        channel = channel_data.get("channel") or {}
        team_id = str(team.get("id") or "")
        name = str(channel.get("name") or "")
        if not name and team_id and team_id == speaker.conversation_id:
            name = "General"  # Teams names every channel but the team's first one
        conversation = TeamsConversation(
            speaker.tenant_id,
            speaker.conversation_id,
            speaker.conversation_type,
            activity.service_url,
            reference_json(reference),
            team_id=team_id,
            channel_name=name,
            user_aad_id="" if speaker.in_channel else speaker.aad_object_id,
        )
        self._store.remember(conversation=conversation)

    def _names(
        self,
        activity: Activity,
        speaker: Speaker,
        mentioned: Sequence[Mentioned],
        people: Mapping[str, str],
    ) -> dict[str, str]:
        names = self._store.channel_names(tenant_id=speaker.tenant_id)
        for mention in mentioned:
            name = AT_TAG.sub("", mention.text) or mention.name
            if mention.id.startswith("19:"):
                names[base_conversation(mention.id)] = name
            elif mention.id in people:
                names[people[mention.id]] = name
        sender = activity.from_property
        if sender is not None and sender.name:
            names[speaker.aad_object_id] = str(sender.name)
        return names
