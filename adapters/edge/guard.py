"""One request guard in front of every route, as ASGI middleware.

It reads the request body before any route sees it, counting bytes as they stream in (declared
Content-Length or not, chunked or not): past the route's cap it answers 413 at once, and a body
that does not finish arriving within the body timeout gets 408. The route (and bolt or
botbuilder behind it) then receives the whole, already capped body in one piece. Addresses with
a NUL character are refused too: PostgreSQL cannot compare text containing one.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class BodyLimits:
    """Body caps by path prefix (the longest matching prefix wins) and how long a body may take."""

    caps: Mapping[str, int] = field(default_factory=dict)
    default_cap: int = 16 * 1024
    read_timeout_seconds: float = 15.0

    def cap_for(self, path: str) -> int:
        matches = [prefix for prefix in self.caps if path.startswith(prefix)]
        return self.caps[max(matches, key=len)] if matches else self.default_cap


class _Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class RequestGuard:
    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            _check_address(scope)
            body = await self._read_body(scope, receive)
        except _Refused as refused:
            await _refuse(send, refused.status, refused.reason)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        cap = self.limits.cap_for(scope["path"])
        declared = _declared_length(scope)
        if declared is not None and declared > cap:
            raise _Refused(413, _too_large(cap))
        try:
            async with asyncio.timeout(self.limits.read_timeout_seconds):
                return await _read_capped(receive, cap)
        except TimeoutError as error:
            raise _Refused(408, "the body did not arrive in time") from error


async def _read_capped(receive: Receive, cap: int) -> bytes:
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Refused(400, "the client went away")
        body += message.get("body", b"")
        if len(body) > cap:
            raise _Refused(413, _too_large(cap))
        if not message.get("more_body", False):
            return bytes(body)


def _too_large(cap: int) -> str:
    size = f"{cap // 1024} KiB" if cap % 1024 == 0 else f"{cap} bytes"
    return f"the body is larger than {size}"


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _check_address(scope: Scope) -> None:
    query = scope.get("query_string", b"").lower()
    if "\x00" in scope["path"] or b"%00" in query or b"\x00" in query:
        raise _Refused(400, "the address contains a NUL character")


def _replay(body: bytes, receive: Receive) -> Receive:
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:  # afterwards only the disconnect is left to hear about
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _refuse(send: Send, status: int, reason: str) -> None:
    payload = json.dumps({"ok": False, "reason": reason}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
