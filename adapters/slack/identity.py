"""Whom a bot token speaks for: Slack's `auth.test`, the cheapest call that proves a token works."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

# auth.test errors meaning the token itself is wrong (anything else: Slack is having a moment).
BAD_TOKEN_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
    }
)


@dataclass(frozen=True, slots=True)
class TokenIdentity:
    """What `auth.test` said: `error` is "" when the token works (never holds the token)."""

    error: str = ""
    unreachable: str = ""  # why Slack could not be reached (then `error` says "unreachable")
    team_id: str = ""
    team: str = ""
    bot_id: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def token_refused(self) -> bool:
        return self.error in BAD_TOKEN_ERRORS


async def auth_test(*, api_url: str, token: str, wait_seconds: float) -> TokenIdentity:
    """One `auth.test` call (read-only; Slack's tier 4 allows plenty)."""
    base_url = api_url.rstrip("/") + "/"  # slack_sdk needs the trailing slash
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=wait_seconds)) as session:
        client = AsyncWebClient(
            token=token, base_url=base_url, timeout=int(wait_seconds), session=session
        )
        try:
            answer = await client.auth_test()
        except SlackApiError as error:
            return TokenIdentity(error=str(error.response.get("error") or "unknown_error"))
        except (aiohttp.ClientError, TimeoutError) as error:
            return TokenIdentity(error="unreachable", unreachable=type(error).__name__)
    return TokenIdentity(
        team_id=str(answer.get("team_id") or ""),
        team=str(answer.get("team") or ""),
        bot_id=str(answer.get("bot_id") or ""),
    )
