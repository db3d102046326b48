"""Sign-ins to a meeting platform bound to the person and the browser that started them.

A chat button leads to meetbot's own start link (single-use, expiring), which hands the browser a
cookie holding a random nonce and sends it on to the platform; only the digest of the nonce is
stored with the OAuth `state`. The callback is taken only from a browser presenting that nonce, and
what it connects waits for the starting person to confirm it in chat.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.domain import Actor
from bot.messages import ActionButton, ChatMessage

START_SECONDS = 15 * 60  # the chat button's link, and the sign-in it starts
CONFIRM_SECONDS = 60 * 60  # an account signed in to, waiting for the chat confirmation

ZOOM_START = "zoom_start"
ZOOM_CONFIRM = "zoom_confirm"
MS_START = "ms_start"
MS_CONFIRM = "ms_confirm"


class StateProblem(StrEnum):
    EXPIRED = "expired"  # unknown, used already, or too old
    OTHER_BROWSER = "other_browser"  # the starting browser's cookie is missing or different


@dataclass(frozen=True, slots=True)
class Consent:
    """The start link's first answer: what is about to be connected, for which company, and a
    button to go on. A link forwarded by someone else is seen for what it is before any sign-in."""

    title: str
    message: str
    proceed_label: str
    ok: bool = True


def consent_text(platform: str, company_name: str, whose: str) -> Consent:
    return Consent(
        f"Connect {platform} to {company_name}",
        f"You are about to sign in to {platform} so that your account hosts {whose} on meetbot. "
        "Continue only if you started this yourself, from meetbot in your company's chat: "
        "anyone who sends you this link is asking for your account to host their meetings. "
        "The person who started it confirms the account in chat before anything is used.",
        f"Continue to {platform}",
    )


def confirmation_message(
    platform: str, account: str, hosts: str, *, token: str, confirm: str, discard: str
) -> ChatMessage:
    """What the person who signed in is asked in chat before the account is used."""
    return ChatMessage(
        title=f"Confirm the {platform} account",
        summary=f"Confirm the {platform} account",
        text=f"{account} will host {hosts}.",
        note=f"Only you can answer, within an hour. If you did not just sign in to {platform} "
        "for meetbot, press Cancel.",
        actions=(
            ActionButton("Confirm", confirm, token, "primary"),
            ActionButton("Cancel", discard, token),
        ),
    )


@dataclass(frozen=True, slots=True)
class SignInState:
    """What a state was issued for: the company, who started it, and what it carries."""

    company_id: str | None
    actor: Actor
    payload: str = ""

    def __repr__(self) -> str:  # the payload may hold tokens
        return f"SignInState(company_id={self.company_id!r}, actor={self.actor!r})"
