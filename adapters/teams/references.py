"""Conversation references: where the bot can post proactively, as botbuilder serialises them,
and the store that keeps them per tenant."""

from __future__ import annotations

import json
from typing import Protocol

from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationReference

from bot.domain.installations import TeamsConversation

CHANNEL_ID = "msteams"


class ConversationStore(Protocol):
    """Where the bot can post proactively: conversation references as botbuilder serialises
    them (JSON text), and who installed meetbot in each tenant (a Teams tenant is a workspace)."""

    def remember(self, *, conversation: TeamsConversation) -> None: ...

    def reference(self, *, conversation_id: str) -> str | None: ...

    def personal_reference(self, *, tenant_id: str, user_aad_id: str) -> str | None: ...

    def tenant_references(self, *, tenant_id: str) -> list[str]:
        """The tenant's team and channel conversations first, newest first."""
        ...

    def channel_names(self, *, tenant_id: str) -> dict[str, str]: ...

    def installer(self, *, tenant_id: str) -> str | None: ...

    def bind_tenant(self, *, tenant_id: str, installed_by: str) -> str:
        """Records the tenant; the installer is kept once known. Returns the installer."""
        ...


def parse_reference(text: str) -> ConversationReference:
    reference: ConversationReference = ConversationReference().deserialize(json.loads(text))
    return reference


def reference_json(reference: ConversationReference) -> str:
    return json.dumps(reference.serialize(), sort_keys=True)


def personal_reference(
    *,
    service_url: str,
    conversation_id: str,
    tenant_id: str,
    bot: ChannelAccount,
    user: ChannelAccount,
) -> ConversationReference:
    return ConversationReference(
        channel_id=CHANNEL_ID,
        service_url=service_url,
        bot=bot,
        user=user,
        conversation=ConversationAccount(
            id=conversation_id, conversation_type="personal", tenant_id=tenant_id
        ),
    )
