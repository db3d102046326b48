"""Failures the core understands. Adapters translate platform errors into these, in plain words."""

from __future__ import annotations


class MeetbotError(Exception):
    """Base of the product's own errors; `str()` is safe to show to a person."""


class RetryLater(MeetbotError):
    """A passing condition (outage, rate limit, outcome unknown): the job runs again later."""

    def __init__(self, reason: str, *, after_seconds: float | None = None) -> None:
        super().__init__(reason)
        self.after_seconds = after_seconds


class WaitingForTurn(RetryLater):
    """Another job is writing the same shared message; this one runs after it, attempts intact."""


class PermanentFailure(MeetbotError):
    """Retrying cannot help until a person changes something."""


class HostDailyLimit(RetryLater):
    """The meeting host used up the platform's daily quota; it resets at a known time."""


class OutcomeUnknown(RetryLater):
    """A request may or may not have had its effect (network error on a POST)."""


class NotFound(MeetbotError):
    pass


class AlreadyConnected(MeetbotError):
    """The company has one already (found first, or two connects at once and this one lost)."""


class BookingSystemError(RetryLater):
    pass


class BookingSystemRejected(PermanentFailure):
    """The booking system refused our credentials or the booking's signature."""


class BookingUnknown(BookingSystemRejected):
    """The booking system does not know the booking a callback named (no such id, or a hash that
    does not match): nothing to set up, and possibly a forged callback."""


class MeetingGone(MeetbotError):
    """The platform no longer has this meeting."""


class MeetingAccountRevoked(PermanentFailure):
    """The connected meeting account no longer works: an admin must reconnect it."""


class MeetingPlatformRejected(PermanentFailure):
    pass


class ChatChannelUnavailable(PermanentFailure):
    """The channel is gone, archived, or the bot is not in it."""

    def __init__(self, reason: str, *, code: str) -> None:
        super().__init__(reason)
        self.code = code


class ChatMessageGone(MeetbotError):
    """The message to edit no longer exists (a person deleted it); a new one can be posted."""


class ChatAuthRevoked(PermanentFailure):
    pass


class StorageUnavailable(RetryLater):
    """The database cannot be used right now (locked, full, unreachable); nothing was stored.
    `str()` says which, in plain words."""
