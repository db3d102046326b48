"""Requests per key (a company's token or source id from the URL), counted in this process's
memory: a leaked address cannot flood the queue, and each process behind a load balancer allows
the rate on its own."""

from __future__ import annotations

import hashlib
import math
import time

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter


class RateLimit:
    def __init__(self, rate: str, *, scope: str) -> None:
        self._rate = parse(rate)  # e.g. "120/minute"; a malformed rate stops the start-up
        self._scope = scope
        # A sliding-window counter's keys expire with their window; a moving window keeps every
        # key it saw, and the key here is whatever a stranger put in the URL.
        self._limiter = SlidingWindowCounterRateLimiter(MemoryStorage())

    def wait_seconds(self, key: str) -> int | None:
        """None when this request is within the rate, else how long to wait before retrying."""
        hashed = hashlib.sha256(key.encode()).hexdigest()  # keys may be secrets, even in memory
        if self._limiter.hit(self._rate, self._scope, hashed):
            return None
        reset = self._limiter.get_window_stats(self._rate, self._scope, hashed).reset_time
        return max(1, math.ceil(reset - time.time()))
