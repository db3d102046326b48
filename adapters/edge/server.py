"""uvicorn as meetbot serves it: limits and timeouts for a server that faces the internet.

uvicorn (h11) has a keep-alive timeout for idle connections between requests, but none for a
request's head: a client that connects and dribbles its headers a byte at a time, or sends
nothing at all, holds its connection forever. `GuardedH11Protocol` closes such a connection after
the header timeout. It also bounds how long the rest of a refused body (413/408, answered before
the body ended) is read and thrown away before the connection is closed: closing at once would
make the kernel reset the connection, and the client could lose the answer.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol


@dataclass(frozen=True)
class ServerLimits:
    header_timeout_seconds: float = 10.0
    keep_alive_seconds: int = 5
    max_concurrency: int = 500
    max_header_bytes: int = 16 * 1024
    drain_seconds: float = 2.0
    backlog: int = 1024


class GuardedH11Protocol(H11Protocol):
    header_timeout_seconds = ServerLimits.header_timeout_seconds
    drain_seconds = ServerLimits.drain_seconds

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_deadline: asyncio.TimerHandle | None = None
        self._drain_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:
            self._await_head()  # a new request starts: its head must arrive in time
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE and self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None
        if self.conn.their_state is h11.IDLE:  # a head still incomplete, or a drained body
            if self._drain_deadline is not None:
                self._drain_deadline.cancel()
                self._drain_deadline = None
            self._await_head()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.conn.their_state is h11.SEND_BODY and self._drain_deadline is None:
            self._drain_deadline = self.loop.call_later(self.drain_seconds, self._close)

    def _await_head(self) -> None:
        if self._head_deadline is None:
            self._head_deadline = self.loop.call_later(self.header_timeout_seconds, self._close)

    def _close(self) -> None:
        self._cancel_timers()
        if not self.transport.is_closing():
            self.transport.close()

    def _cancel_timers(self) -> None:
        for timer in (self._head_deadline, self._drain_deadline):
            if timer is not None:
                timer.cancel()
        self._head_deadline = self._drain_deadline = None


def guarded_protocol(limits: ServerLimits) -> type[GuardedH11Protocol]:
    return type(
        "MeetbotH11Protocol",
        (GuardedH11Protocol,),
        {
            "header_timeout_seconds": limits.header_timeout_seconds,
            "drain_seconds": limits.drain_seconds,
        },
    )


def server_config(app: Any, *, host: str, port: int, limits: ServerLimits) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=guarded_protocol(limits),
        ws="none",
        timeout_keep_alive=limits.keep_alive_seconds,
        limit_concurrency=limits.max_concurrency,
        h11_max_incomplete_event_size=limits.max_header_bytes,
        backlog=limits.backlog,
        access_log=False,  # request paths carry secret webhook and link tokens
        log_config=None,
    )
