"""The platforms' HTTP clients (app/http_clients.py): whatever goes wrong on the wire reaches the
adapters as an httpx transport error, which they turn into "try again" or "outcome unknown", and
no cookie one answer sets rides along on the next request."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest

from app.http_clients import platform_client
from app.metrics import Metrics

Answer = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\r\n\r\n")


async def _with_server(
    answer: Answer, call: Callable[[httpx.AsyncClient, str], Awaitable[None]]
) -> None:
    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = platform_client(
        Metrics(),
        "test",
        tls=httpx.create_ssl_context(),
        timeout_seconds=5.0,
        max_connections=4,
    )
    try:
        async with server:
            await call(client, f"http://127.0.0.1:{port}/")
    finally:
        await client.aclose()


async def _garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_request(reader)
    writer.write(b"NOT HTTP AT ALL\r\n\r\n")
    await writer.drain()
    writer.close()


async def _hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_request(reader)
    writer.close()


@pytest.mark.parametrize("answer", [_garbage, _hang_up], ids=["malformed", "hung-up"])
def test_a_broken_answer_is_an_httpx_transport_error(answer: Answer) -> None:
    async def call(client: httpx.AsyncClient, url: str) -> None:
        with pytest.raises(httpx.TransportError):
            await client.post(url, json={"a": 1})

    asyncio.run(_with_server(answer, call))


def test_a_refused_connection_is_an_httpx_transport_error() -> None:
    async def call(client: httpx.AsyncClient, _url: str) -> None:
        with pytest.raises(httpx.TransportError):
            await client.get("http://127.0.0.1:1/")

    asyncio.run(_with_server(_hang_up, call))


def test_cookies_an_answer_sets_are_not_sent_again() -> None:
    seen: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while not reader.at_eof():
            try:
                seen.append(await _read_request(reader))
            except asyncio.IncompleteReadError:
                break
            writer.write(
                b"HTTP/1.1 200 OK\r\nSet-Cookie: session=company-a; Path=/\r\n"
                b"Content-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"
            )
            await writer.drain()
        writer.close()

    async def call(client: httpx.AsyncClient, url: str) -> None:
        for _ in range(2):
            assert (await client.get(url)).status_code == 200

    asyncio.run(_with_server(answer, call))
    assert len(seen) == 2
    assert all(b"cookie:" not in request.lower() for request in seen)
