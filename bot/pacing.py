"""Pacing outgoing messages to a chat platform's per-conversation limits (reliability rule 5).

A short wait is taken in place; anything longer becomes `RetryLater`, so the job is rescheduled
instead of a handler sleeping. A send that waits reserves its moment before it sleeps: sends to
one conversation go in the order they asked, and two that both waited never find their moment
taken by the other. This pacer counts within one process; several worker processes sharing
PostgreSQL share their reservations through the database instead (storage/pacing.py).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.errors import RetryLater

Limits = tuple[tuple[float, int], ...]  # (window in seconds, sends allowed in it)


class SendPacer(Protocol):
    """Holds a send to `key` (a conversation) until the platform's limits allow it. Returns when
    the send may go; raises `RetryLater` when that is further off than a handler should wait."""

    async def acquire(self, key: str) -> None: ...


class Pacer:
    """Sliding windows of recent (and reserved) sends per conversation."""

    def __init__(
        self,
        *,
        limits: Limits,
        reason: str,
        max_wait: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._limits, self._reason = limits, reason
        self._max_wait, self._clock, self._sleep = max_wait, clock, sleep
        self._sent: dict[str, deque[float]] = {}  # moments sent or reserved, in order

    def wait(self, key: str) -> float:
        """Seconds until one more send to `key` stays within every limit."""
        now = self._clock()
        return self._next_moment(key, now) - now

    def _next_moment(self, key: str, now: float) -> float:
        sent = self._sent.setdefault(key, deque())
        longest = max(window for window, _ in self._limits)
        while sent and now - sent[0] >= longest:
            sent.popleft()
        # After every send already reserved: first come, first served. Every earlier moment then
        # lies behind this one, so the n-th latest leaving the window is what each limit waits for.
        moment = max(now, sent[-1]) if sent else now
        for window, allowed in self._limits:
            if len(sent) >= allowed:
                moment = max(moment, sent[-allowed] + window)
        return moment

    async def acquire(self, key: str) -> None:
        now = self._clock()
        moment = self._next_moment(key, now)
        if moment - now > self._max_wait:
            raise RetryLater(self._reason, after_seconds=round(moment - now, 3))
        self._sent[key].append(moment)  # reserved before sleeping: nobody else can take it
        if moment > now:
            await self._sleep(moment - now)
