"""What a stranger can do to meetbot's server, against `meetbot serve` in its own process:
huge bodies are refused at each route's cap without growing memory, slow requests are cut off,
and the server keeps answering everyone else meanwhile."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.bootstrap import Core
from app.sandbox import Demo
from bench.procs import ServerProcess

from .edge_server import meetbot_serving, raw_connection, read_status, vm_kib
from .harness import SQLITE_ONLY

# The limits are the HTTP server's, met before any SQL: one database is enough.
pytestmark = [pytest.mark.slow, SQLITE_ONLY]

CHUNK = 64 * 1024
HUGE = 60 * 1024 * 1024
MIB = 1024 * 1024


@pytest.fixture
def served(core: Core, demo: Demo, tmp_path: Path) -> Iterator[tuple[ServerProcess, Demo]]:
    with meetbot_serving(
        core.settings,
        tmp_path,
        teams_allow_unauthenticated=True,  # /api/messages served; no activity gets that far
        slack_bot_token=f"xoxb-{demo.team_id}-sandbox",  # serve checks it with auth.test
        server_header_timeout_seconds=2.0,
        server_body_timeout_seconds=2.0,
    ) as server:
        yield server, demo


def post_routes(demo: Demo) -> dict[str, int]:
    """Every POST route and its cap (app.web.body_limits)."""
    return {
        f"/webhooks/simplybook/{demo.webhook_token}": 64 * 1024,
        "/webhooks/zoom": 64 * 1024,
        "/oauth/microsoft/callback": 64 * 1024,
        "/slack/events": 512 * 1024,
        "/api/messages": 256 * 1024,
    }


def send_chunked(port: int, path: str, cap: int) -> tuple[int, int]:
    """Streams up to 60 MB in 64 KiB chunks without a Content-Length; once past the cap it
    sends nothing more until the server answers. Returns the status and the bytes sent."""
    with raw_connection(port) as connection:
        connection.sendall(
            f"POST {path} HTTP/1.1\r\nHost: meetbot\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        sent = 0
        frame = f"{CHUNK:x}\r\n".encode() + b"7" * CHUNK + b"\r\n"
        while sent < HUGE:
            wait = 30.0 if sent > cap else 0.0  # past the cap the answer must come unprompted
            readable, _, _ = select.select([connection], [], [], wait)
            if readable:
                return read_status(connection), sent
            if sent > cap:
                raise AssertionError(f"{path}: no answer after {sent} bytes (cap {cap})")
            connection.sendall(frame)
            sent += CHUNK
    raise AssertionError(f"{path}: took the whole 60 MB")


def test_huge_chunked_bodies_are_refused_at_their_cap(
    served: tuple[ServerProcess, Demo],
) -> None:
    server, demo = served
    routes = post_routes(demo)
    for path in routes:  # warm up: every route has answered once before memory is measured
        httpx.post(f"{server.url}{path}", content=b"{}", timeout=10)
    before = vm_kib(server.pid, "VmRSS")
    for _ in range(3):
        for path, cap in routes.items():
            status, sent = send_chunked(server.port, path, cap)
            assert status == 413, path
            assert sent <= cap + CHUNK, (path, sent)
    grown = vm_kib(server.pid, "VmHWM") - before
    assert grown < 5 * 1024, f"peak memory grew by {grown} KiB"


def test_a_declared_huge_body_is_refused_before_it_is_sent(
    served: tuple[ServerProcess, Demo],
) -> None:
    server, demo = served
    for path in post_routes(demo):
        with raw_connection(server.port) as connection:
            connection.sendall(
                f"POST {path} HTTP/1.1\r\nHost: meetbot\r\nContent-Length: {HUGE}\r\n\r\n".encode()
            )
            assert read_status(connection) == 413, path


def test_a_body_that_stops_arriving_is_answered_408(served: tuple[ServerProcess, Demo]) -> None:
    server, _ = served
    with raw_connection(server.port) as connection:
        connection.sendall(
            b"POST /webhooks/zoom HTTP/1.1\r\nHost: meetbot\r\nContent-Length: 100\r\n\r\n{"
        )
        assert read_status(connection) == 408


def test_slow_headers_are_cut_off_while_healthz_answers(
    served: tuple[ServerProcess, Demo],
) -> None:
    server, _ = served
    timeout = 2.0  # server_header_timeout_seconds above
    connections = [raw_connection(server.port) for _ in range(200)]
    for connection in connections:
        connection.sendall(b"GET /healthz HTTP/1.1\r\n")
    stop = threading.Event()
    dribbler = threading.Thread(target=_dribble, args=(connections, stop), daemon=True)
    opened = time.monotonic()
    dribbler.start()
    try:
        slowest = 0.0
        while time.monotonic() - opened < timeout + 1:
            started = time.monotonic()
            assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
            slowest = max(slowest, time.monotonic() - started)
            time.sleep(0.1)
        closed = _closed_within(connections, deadline=opened + timeout + 15)
    finally:
        stop.set()
        dribbler.join(5)
        for connection in connections:
            connection.close()
    assert slowest < 5.0, f"/healthz took {slowest:.2f} s"  # generous: a loaded 2-core box
    assert closed == len(connections), f"{len(connections) - closed} slow connections still open"


def _dribble(connections: list[socket.socket], stop: threading.Event) -> None:
    """A header byte every half second on every connection, as slow clients do."""
    while not stop.wait(0.5):
        for connection in connections:
            try:
                connection.send(b"X")
            except OSError:
                continue  # closed by the server: what the test waits for


def _closed_within(connections: list[socket.socket], *, deadline: float) -> int:
    pending = set(connections)
    while pending and time.monotonic() < deadline:
        readable, _, _ = select.select(list(pending), [], [], 0.5)
        for connection in readable:
            try:
                if connection.recv(4096) == b"":
                    pending.discard(connection)
            except OSError:
                pending.discard(connection)
    return len(connections) - len(pending)
