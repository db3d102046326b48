"""Pacing shared by every worker process on one PostgreSQL database (the core's `SendPacer`).

Each conversation has one row: the next moment a send into it may go. Taking a moment is one
statement that reads and moves that row atomically, so two processes never get the same moment;
the database's clock is the only clock, so processes on different hosts agree. A moment further
off than a handler should wait is not taken: the send becomes `RetryLater`, as with the
in-process pacer (bot/pacing.py), which single-process SQLite deployments keep using.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy import Engine, text

from bot.errors import RetryLater
from storage.sessions import read_connection, write_connection

# The moment taken is the row's next free moment, or now if that has passed; the row then moves
# one spacing past it. Returns how long the caller waits for its moment (not taken: no row).
_TAKE = text(
    """
    INSERT INTO send_pace AS pace (key, next_at)
    VALUES (:key, clock_timestamp() + make_interval(secs => :spacing))
    ON CONFLICT (key) DO UPDATE
        SET next_at = GREATEST(pace.next_at, clock_timestamp()) + make_interval(secs => :spacing)
        WHERE pace.next_at <= clock_timestamp() + make_interval(secs => :max_wait)
    RETURNING GREATEST(0, EXTRACT(EPOCH FROM pace.next_at - clock_timestamp()) - :spacing)
    """
)
_WAIT = text(
    "SELECT EXTRACT(EPOCH FROM next_at - clock_timestamp()) FROM send_pace WHERE key = :key"
)


class SqlPacer:
    """At most one send per `spacing` seconds into each conversation, across processes."""

    def __init__(
        self,
        engine: Engine,
        *,
        spacing: float,
        reason: str,
        max_wait: float = 1.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._engine, self._spacing, self._reason = engine, spacing, reason
        self._max_wait, self._sleep = max_wait, sleep

    async def acquire(self, key: str) -> None:
        # On a thread: the worker's other lanes go on while this one waits for the database.
        wait = await asyncio.to_thread(self._take, key)
        if wait is None:
            later = await asyncio.to_thread(self._wait, key)
            raise RetryLater(self._reason, after_seconds=round(max(later, self._max_wait), 3))
        if wait > 0:
            await self._sleep(wait)

    def _take(self, key: str) -> float | None:
        with write_connection(self._engine) as connection:
            taken = connection.execute(
                _TAKE, {"key": key, "spacing": self._spacing, "max_wait": self._max_wait}
            ).scalar()
        return None if taken is None else float(taken)

    def _wait(self, key: str) -> float:
        with read_connection(self._engine) as connection:
            return float(connection.execute(_WAIT, {"key": key}).scalar() or 0.0)
