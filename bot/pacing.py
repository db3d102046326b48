"""Pacing outgoing messages to a chat platform's per-conversation limits (reliability rule 5).

A short wait is taken in place; anything longer becomes `RetryLater`, so the job is rescheduled
instead of a handler sleeping. Counts are per process, which is what the platforms' limits are
mostly hit by (one worker posting a burst of bookings into one channel).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

from bot.errors import RetryLater

Limits = tuple[tuple[float, int], ...]  # (window in seconds, sends allowed in it)


class Pacer:
    """Sliding windows of recent sends per conversation."""

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
        self._sent: dict[str, deque[float]] = {}

    def wait(self, key: str) -> float:
        """Seconds until one more send to `key` stays within every limit."""
        now = self._clock()
        sent = self._sent.setdefault(key, deque())
        longest = max(window for window, _ in self._limits)
        while sent and now - sent[0] >= longest:
            sent.popleft()
        waits = [0.0]
        for window, allowed in self._limits:
            recent = [moment for moment in sent if now - moment < window]
            if len(recent) >= allowed:
                waits.append(window - (now - recent[-allowed]))
        return max(waits)

    async def acquire(self, key: str) -> None:
        while (wait := self.wait(key)) > 0:
            if wait > self._max_wait:
                raise RetryLater(self._reason, after_seconds=round(wait, 3))
            await self._sleep(wait)
        self._sent[key].append(self._clock())
