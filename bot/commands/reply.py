"""The one answer type of every command and button: a platform-neutral `Reply`.

The chat adapter renders it; `form` asks the adapter to open a form instead (secrets are never
typed into a channel).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from bot.messages import ChatMessage

SIMPLYBOOK_FORM = "simplybook_credentials"


@dataclass(frozen=True, slots=True)
class Reply:
    message: ChatMessage
    form: str | None = None  # a form the adapter opens (secrets are never typed into a channel)
    public: bool = False
    replace_original: bool = True  # for button answers: replace the message, or answer beside it
    # Carries a secret: only the person who asked sees it, whatever else it holds (never in a
    # channel, never replacing a shared message).
    secret: bool = False


def say(title: str, text: str = "", **more: Any) -> Reply:
    return Reply(ChatMessage(title=title, text=text, summary=title, **more))


def secretly(reply: Reply) -> Reply:
    return replace(reply, secret=True, public=False, replace_original=False)


def beside(reply: Reply) -> Reply:
    """The answer to a button on a shared message: shown beside it, the message left as it is."""
    return replace(reply, replace_original=False)
