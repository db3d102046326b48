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
class SignInState:
    """What a state was issued for: the company, who started it, and what it carries."""

    company_id: str | None
    actor: Actor
    payload: str = ""

    def __repr__(self) -> str:  # the payload may hold tokens
        return f"SignInState(company_id={self.company_id!r}, actor={self.actor!r})"
