"""Slack's answers as the core's errors: what a retry can fix, what a person must fix."""

from __future__ import annotations

import math

from slack_sdk.errors import SlackApiError

from bot.errors import (
    ChatAuthRevoked,
    ChatChannelUnavailable,
    ChatMessageGone,
    MeetbotError,
    RetryLater,
)

CHANNEL_PROBLEMS = {
    "channel_not_found": "the channel no longer exists or the bot cannot see it",
    "not_in_channel": "the bot is not a member of the channel",
    "is_archived": "the channel is archived",
}
AUTH_PROBLEMS = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "no_permission",
}

# What views.publish answers to a view or user that no retry can fix.
VIEW_REFUSALS = {"invalid_blocks", "invalid_arguments", "user_not_found", "not_enabled"}
# What users.info answers about someone who is no longer a member (so no admin either).
USER_GONE = {"user_not_found", "user_not_visible", "account_inactive"}


class RateLimited(RetryLater):
    """Slack refused a call for its pace (HTTP 429): nothing was done, so it may go again."""


class InvalidCursor(RetryLater):
    """Slack no longer knows a cursor kept from an earlier attempt: the search starts over."""


def api_error(error: SlackApiError) -> MeetbotError:
    code = str(error.response.get("error", "unknown_error"))
    if code in CHANNEL_PROBLEMS:
        return ChatChannelUnavailable(f"Slack: {CHANNEL_PROBLEMS[code]}", code=code)
    if code == "message_not_found":
        return ChatMessageGone("Slack: the message was deleted")
    if code in AUTH_PROBLEMS:
        return ChatAuthRevoked(
            f"Slack no longer accepts meetbot's token ({code}); reinstall the app"
        )
    if code == "invalid_cursor":
        return InvalidCursor("Slack no longer knows the search's cursor")
    if error.response.status_code == 429 or code == "ratelimited":
        retry_after = error.response.headers.get("Retry-After") or error.response.headers.get(
            "retry-after"
        )
        return RateLimited("Slack rate limit", after_seconds=retry_after_seconds(retry_after))
    return RetryLater(f"Slack answered {code}")


def retry_after_seconds(retry_after: str | None) -> float:
    """Slack sends whole seconds; anything else (a date, garbage) waits a minute, Slack's tier."""
    try:
        seconds = float(retry_after or 1.0)
    except ValueError:
        return 60.0
    return min(max(seconds, 1.0), 3600.0) if math.isfinite(seconds) else 60.0
