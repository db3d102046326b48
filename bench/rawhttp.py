"""A minimal HTTP/1.1 keep-alive client on asyncio streams, for load generation only.

httpx.AsyncClient costs about 1 ms of CPU per request here and slows down further past ~16
connections in one pool, so on a 2-core machine it cannot load a server that answers thousands of
requests per second: the client would be what is measured. This client does only what the
benchmark needs (POST a JSON body over one persistent connection, read a Content-Length answer).
"""

from __future__ import annotations

import asyncio
import contextlib


class HttpError(Exception):
    pass


class RawConnection:
    """One persistent connection to 127.0.0.1; one request at a time."""

    def __init__(self, host: str, port: int) -> None:
        self._host, self._port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        return self._reader, self._writer

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        reader, writer = await self._open()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self._host}:{self._port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode("latin-1")
        try:
            writer.write(head + body)
            raw_head = await reader.readuntil(b"\r\n\r\n")
            status, length, close = _parse_head(raw_head)
            payload = await reader.readexactly(length)
        except HttpError:
            await self.aclose()
            raise
        except (
            OSError,
            ValueError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
        ) as error:
            await self.aclose()
            raise HttpError(f"{type(error).__name__}: {error}") from error
        if close:
            await self.aclose()
        return status, payload

    async def aclose(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


def _parse_head(raw: bytes) -> tuple[int, int, bool]:
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise HttpError(f"not an HTTP/1.x status line: {lines[0]!r}")
    length: int | None = None
    close = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding":
            raise HttpError("chunked answers are not supported")
        elif name == "connection" and value == "close":
            close = True
    if length is None:
        raise HttpError("answer without Content-Length")
    return int(parts[1]), length, close
