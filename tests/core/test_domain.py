"""The domain's own rules: booking lengths, secrets kept out of reprs, the error tree."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot import errors
from bot.domain import (
    Actor,
    BookingDetails,
    ChatPlatform,
    MsConnection,
    SimplyBookCredentials,
    ZoomConnection,
)
from bot.signin import SignInState
from tests.core.fakes import booking_details

START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def details(minutes: float) -> BookingDetails:
    return booking_details(start=START, minutes=minutes)


@pytest.mark.parametrize(
    ("minutes", "duration"), [(60, 60), (45, 45), (0.4, 1), (0, 1), (-30, 1), (90.4, 90)]
)
def test_duration_is_whole_minutes_and_never_below_one(minutes: float, duration: int) -> None:
    assert details(minutes).duration_minutes == duration


ACTOR = Actor(ChatPlatform.SLACK, "T1", "U1")


@pytest.mark.parametrize(
    ("value", "secrets"),
    [
        (
            SimplyBookCredentials("studio", "api-key-123", "api-secret-456"),
            ["api-key-123", "api-secret-456"],
        ),
        (
            ZoomConnection("acc", "u1", "a@b.co", "access-789", "refresh-012", 3600),
            ["access-789", "refresh-012"],
        ),
        (
            MsConnection("c1", "", ACTOR, "tenant", "object", "a@b.co", "A", "home", "cache-345"),
            ["cache-345"],
        ),
        (SignInState("c1", ACTOR, payload="payload-678"), ["payload-678"]),
    ],
    ids=["simplybook", "zoom", "microsoft", "sign-in state"],
)
def test_secrets_stay_out_of_repr(value: object, secrets: list[str]) -> None:
    shown = repr(value)
    assert type(value).__name__ in shown
    for secret in secrets:
        assert secret not in shown


@pytest.mark.parametrize(
    ("error", "family"),
    [
        (errors.WaitingForTurn("busy"), errors.RetryLater),
        (errors.HostDailyLimit("quota"), errors.RetryLater),
        (errors.OutcomeUnknown("timeout"), errors.RetryLater),
        (errors.BookingSystemError("down"), errors.RetryLater),
        (errors.StorageUnavailable("locked"), errors.RetryLater),
        (errors.BookingUnknown("no such booking"), errors.PermanentFailure),
        (errors.BookingSystemRejected("bad key"), errors.PermanentFailure),
        (errors.MeetingAccountRevoked("revoked"), errors.PermanentFailure),
        (errors.MeetingPlatformRejected("no"), errors.PermanentFailure),
        (errors.ChatChannelUnavailable("archived", code="is_archived"), errors.PermanentFailure),
        (errors.ChatAuthRevoked("uninstalled"), errors.PermanentFailure),
    ],
    ids=lambda value: type(value).__name__,
)
def test_each_failure_is_either_passing_or_permanent(
    error: errors.MeetbotError, family: type[errors.MeetbotError]
) -> None:
    # The worker retries the one family and buries the other: never both.
    assert isinstance(error, family)
    other = errors.PermanentFailure if family is errors.RetryLater else errors.RetryLater
    assert not isinstance(error, other)


@pytest.mark.parametrize(
    "error", [errors.MeetingGone("x"), errors.ChatMessageGone("x"), errors.NotFound("x")]
)
def test_gone_and_missing_are_decisions_not_retries(error: errors.MeetbotError) -> None:
    assert not isinstance(error, errors.RetryLater | errors.PermanentFailure)


def test_a_retry_keeps_the_wait_the_platform_asked_for() -> None:
    assert errors.RetryLater("slow down", after_seconds=30).after_seconds == 30
    assert errors.RetryLater("down").after_seconds is None


def test_an_unusable_channel_keeps_the_platforms_code() -> None:
    error = errors.ChatChannelUnavailable("the channel is archived", code="is_archived")
    assert (error.code, str(error)) == ("is_archived", "the channel is archived")
