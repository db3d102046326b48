"""One loopback server for the whole simulator test run; each test plugs its own app in.

Starting and stopping uvicorn costs a few hundred milliseconds, so tests share a
server and swap the app it serves instead of starting one each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from simulators.server import BackgroundServer


class AppSlot:
    """An ASGI app that forwards to whichever app the current test plugged in."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.app is None:
            raise RuntimeError("no simulator plugged into the shared test server")
        await self.app(scope, receive, send)


@pytest.fixture(scope="session")
def shared_server() -> Iterator[tuple[AppSlot, str]]:
    slot = AppSlot()
    with BackgroundServer(slot, name="simulator-tests", lifespan="off") as server:
        yield slot, server.url


@pytest.fixture
def serve(shared_server: tuple[AppSlot, str]) -> Iterator[Callable[[Any], str]]:
    slot, url = shared_server

    def plug(app: Any) -> str:
        slot.app = app
        return url

    yield plug
    slot.app = None


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as client:
        yield client
