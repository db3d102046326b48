"""A failed Bot Connector call in the core's words.

msrest raises `ErrorResponseException` (`.response.status_code`, `.response.headers`,
`.error.error.code`) for any answer other than 200/201/202, and `ClientRequestError` when the
request did not complete. Teams' error codes ("Status codes from bot conversational APIs"): 403
BotNotInConversationRoster (removed from the team or chat), 404 ConversationNotFound /
ActivityNotFoundInConversation, 412, 429 (with Retry-After), 502, 503 and 504 are worth retrying;
400, 401 and 413 are not.
"""

from __future__ import annotations

from typing import Any

import requests
from msrest.exceptions import ClientRequestError, HttpOperationError

from bot.errors import (
    ChatAuthRevoked,
    ChatChannelUnavailable,
    ChatMessageGone,
    MeetbotError,
    OutcomeUnknown,
    PermanentFailure,
    RetryLater,
)

RETRYABLE = {412, 429, 502, 503, 504}
DEFAULT_RETRY_SECONDS = 5.0


def connector_error(error: Exception, *, posting: bool) -> MeetbotError:
    """A failed Connector call in the core's words. `posting`: the call creates something, so a
    lost answer leaves its outcome unknown."""
    if isinstance(error, MeetbotError):
        return error
    if isinstance(error, HttpOperationError):
        return _status_error(error, posting=posting)
    if isinstance(error, PermissionError):
        return ChatAuthRevoked(
            "Microsoft refused meetbot's Teams app credentials: check MEETBOT_TEAMS_APP_ID and "
            "MEETBOT_TEAMS_APP_PASSWORD (an app password expires; create a new one in Azure)"
        )
    if isinstance(error, ClientRequestError | requests.RequestException | TimeoutError):
        what = f"Teams could not be reached ({type(error).__name__})"
        return OutcomeUnknown(what) if posting else RetryLater(what)
    return RetryLater(f"Teams call failed ({type(error).__name__})")


def _status_error(error: HttpOperationError, *, posting: bool) -> MeetbotError:
    response = error.response
    status = int(getattr(response, "status_code", 0) or 0)
    code, message = _error_body(error)
    if status == 401:
        return ChatAuthRevoked(
            "Teams refused meetbot's credentials (401): check the Teams app id and password"
        )
    if status == 403 and code in ("BotNotInConversationRoster", "ConversationBlockedByUser"):
        why = (
            "the person blocked meetbot"
            if code == "ConversationBlockedByUser"
            else "meetbot was removed from this team, channel or chat"
        )
        return ChatChannelUnavailable(f"Teams: {why}", code=code)
    if status == 404 and code == "ActivityNotFoundInConversation":
        return ChatMessageGone("Teams: the message was deleted")
    if status == 404:
        return ChatChannelUnavailable(
            "Teams: the conversation or message no longer exists (deleted, or meetbot was removed)",
            code=code or "ConversationNotFound",
        )
    if status in RETRYABLE:
        return RetryLater(
            f"Teams asked to try again later ({status} {code})".rstrip(),
            after_seconds=_retry_after(response),
        )
    if status == 413:
        return PermanentFailure("Teams refused the message: it is larger than Teams allows")
    if status >= 500:
        what = f"Teams answered {status} {code}".rstrip()
        return OutcomeUnknown(what) if posting else RetryLater(what)
    return PermanentFailure(f"Teams refused the request ({status} {code}): {message}".rstrip(": "))


def _error_body(error: HttpOperationError) -> tuple[str, str]:
    body = getattr(getattr(error, "error", None), "error", None)
    code = str(getattr(body, "code", "") or "")
    message = str(getattr(body, "message", "") or "")
    return code, message[:200]


def _retry_after(response: Any) -> float:
    headers = getattr(response, "headers", None) or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else DEFAULT_RETRY_SECONDS
    except ValueError:
        return DEFAULT_RETRY_SECONDS
