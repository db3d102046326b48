"""Failure injection and request recording shared by every simulator.

Both are one ASGI middleware wrapped around a simulator's app, so what a test
sees (the log, the injected answers) is exactly what went over the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    status: int = 0

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Rule:
    method: str | None
    path: re.Pattern[str]
    remaining: int | None

    def matches(self, method: str, path: str) -> bool:
        if self.remaining == 0:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path.search(path) is not None

    def consume(self) -> None:
        if self.remaining is not None:
            self.remaining -= 1


@dataclass
class _FailRule(_Rule):
    status: int = 500
    body: dict[str, Any] | str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _HangRule(_Rule):
    seconds: float = 30.0


@dataclass
class _DelayRule(_Rule):
    shortest: float = 0.0
    longest: float = 0.0
    after_effect: bool = False


_R = TypeVar("_R", bound=_Rule)


class FaultPlan:
    """What the next requests should suffer instead of (or on top of) normal handling."""

    def __init__(self) -> None:
        self.latency: float = 0.0
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._fail_rules: list[_FailRule] = []
        self._hang_rules: list[_HangRule] = []
        self._delay_rules: list[_DelayRule] = []
        self._random = random.Random()
        self._hangs_started = 0
        self._hangs_seen = 0
        # Responses held back right now: release() wakes them from the test's thread.
        self._held: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    def fail(
        self,
        *,
        method: str | None = None,
        path: str = ".*",
        status: int = 500,
        body: dict[str, Any] | str | None = None,
        headers: dict[str, str] | None = None,
        times: int | None = 1,
    ) -> None:
        rule = _FailRule(method, re.compile(path), times, status, body, dict(headers or {}))
        with self._lock:
            self._fail_rules.append(rule)

    def hang_after_effect(
        self,
        *,
        method: str | None = None,
        path: str = ".*",
        seconds: float = 30.0,
        times: int = 1,
    ) -> None:
        with self._lock:
            self._hang_rules.append(_HangRule(method, re.compile(path), times, seconds))

    def delay(
        self,
        *,
        method: str | None = None,
        path: str = ".*",
        seconds: float | tuple[float, float],
        after_effect: bool = False,
        times: int | None = None,
        seed: int | None = None,
    ) -> None:
        """Slow the matching requests by `seconds` (or a random time in a (shortest, longest)
        range). With `after_effect` the request is carried out first and only its answer waits:
        a post is then visible (in history, to other callers) before its poster hears back."""
        shortest, longest = seconds if isinstance(seconds, tuple) else (seconds, seconds)
        rule = _DelayRule(method, re.compile(path), times, shortest, longest, after_effect)
        with self._lock:
            if seed is not None:
                self._random.seed(seed)
            self._delay_rules.append(rule)

    def clear(self) -> None:
        """Forget every rule, reset latency and let held-back responses go."""
        with self._lock:
            self._fail_rules.clear()
            self._hang_rules.clear()
            self._delay_rules.clear()
            self.latency = 0.0
        self.release()

    def release(self) -> None:
        """Send every response currently held back by a hang."""
        with self._lock:
            held = list(self._held)
        for loop, event in held:
            # The server may be stopping: its loop is then closed and nothing waits.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(event.set)

    def wait_for_hang(self, timeout: float) -> bool:
        """Wait until a hang (not yet waited for) has started; its effect is then done."""
        with self._changed:
            ready = self._changed.wait_for(lambda: self._hangs_started > self._hangs_seen, timeout)
            if ready:
                self._hangs_seen += 1
            return ready

    # Used by the middleware, on the server thread.

    def take_failure(self, method: str, path: str) -> _FailRule | None:
        return self._take(self._fail_rules, method, path)

    def take_hang(self, method: str, path: str) -> _HangRule | None:
        return self._take(self._hang_rules, method, path)

    def take_delay(self, method: str, path: str) -> tuple[float, bool] | None:
        """How long the request waits, and whether only its answer does."""
        rule = self._take(self._delay_rules, method, path)
        if rule is None:
            return None
        with self._lock:
            return self._random.uniform(rule.shortest, rule.longest), rule.after_effect

    def _take(self, rules: list[_R], method: str, path: str) -> _R | None:
        with self._lock:
            for rule in rules:
                if rule.matches(method, path):
                    rule.consume()
                    return rule
        return None

    def hang_started(self) -> asyncio.Event:
        """Register a held-back response (called on the server's loop)."""
        event = asyncio.Event()
        with self._changed:
            self._held.append((asyncio.get_running_loop(), event))
            self._hangs_started += 1
            self._changed.notify_all()
        return event

    def hang_finished(self, event: asyncio.Event) -> None:
        with self._lock:
            self._held = [(loop, e) for loop, e in self._held if e is not event]


class RequestLog:
    """Thread-safe list of every request a simulator answered."""

    def __init__(self) -> None:
        self.items: list[RecordedRequest] = []
        self._lock = threading.Lock()

    def append(self, item: RecordedRequest) -> None:
        with self._lock:
            self.items.append(item)

    def snapshot(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self.items)

    def count(self, method: str | None = None, path_regex: str = ".*") -> int:
        pattern = re.compile(path_regex)
        return sum(
            1
            for r in self.snapshot()
            if (method is None or r.method == method.upper()) and pattern.search(r.path)
        )


class FaultMiddleware:
    """Records each request and applies the FaultPlan before the simulator sees it."""

    def __init__(self, app: ASGIApp, faults: FaultPlan, log: RequestLog) -> None:
        self.app = app
        self.faults = faults
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body, replay = await _buffer_body(receive)
        record = _record(scope, body)
        self.log.append(record)
        send = _status_recorder(send, record)
        if self.faults.latency > 0:
            await anyio.sleep(self.faults.latency)
        method, path = record.method, record.path
        delay = self.faults.take_delay(method, path)
        if delay is not None and not delay[1]:
            await anyio.sleep(delay[0])
        failure = self.faults.take_failure(method, path)
        if failure is not None:
            await _send_failure(send, failure)
            return
        hang = self.faults.take_hang(method, path)
        if hang is not None:
            await self._handle_then_hang(scope, replay, send, hang)
        elif delay is not None and delay[1]:
            await _handle_then_wait(self.app, scope, replay, send, delay[0])
        else:
            await self.app(scope, replay, send)

    async def _handle_then_hang(
        self, scope: Scope, receive: Receive, send: Send, hang: _HangRule
    ) -> None:
        held = await _carry_out(self.app, scope, receive)
        released = self.faults.hang_started()
        try:
            with anyio.move_on_after(hang.seconds):
                await released.wait()
        finally:
            self.faults.hang_finished(released)
        for message in held:
            await send(message)


async def _carry_out(app: ASGIApp, scope: Scope, receive: Receive) -> list[Message]:
    """Runs the request to its effect and keeps the answer back."""
    held: list[Message] = []

    async def hold(message: Message) -> None:
        held.append(message)

    await app(scope, receive, hold)
    return held


async def _handle_then_wait(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, seconds: float
) -> None:
    held = await _carry_out(app, scope, receive)
    await anyio.sleep(seconds)
    for message in held:
        await send(message)


async def _buffer_body(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole body so it can be logged, then hand the app a receive that replays it."""
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        # After the body, only a disconnect can come: wait for the real one.
        return await receive()

    return body, replay


def _record(scope: Scope, body: bytes) -> RecordedRequest:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    return RecordedRequest(
        method=scope["method"].upper(),
        path=scope["path"],
        query=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        body=body,
    )


def _status_recorder(send: Send, record: RecordedRequest) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            record.status = int(message["status"])
        await send(message)

    return wrapped


async def _send_failure(send: Send, rule: _FailRule) -> None:
    if isinstance(rule.body, dict):
        payload = json.dumps(rule.body).encode()
        content_type = "application/json"
    else:
        payload = (rule.body if rule.body is not None else "simulated failure").encode()
        content_type = "text/plain; charset=utf-8"
    headers = {"content-type": content_type, **{k.lower(): v for k, v in rule.headers.items()}}
    headers["content-length"] = str(len(payload))
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": rule.status, "headers": raw})
    await send({"type": "http.response.body", "body": payload, "more_body": False})
