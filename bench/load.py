"""The load generator: asyncio lanes (one per connection) that POST JSON for a warm-up, then for a
fixed duration, each request with a body from `make_body(n)`, n never repeated in a run.

Two clients: `raw` (bench/rawhttp.py, one keep-alive connection per lane) for the figures, and
`httpx` (one httpx.AsyncClient, httpx.Limits(max_connections=concurrency)) to show what httpx
itself can generate on this machine.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

import httpx

from bench.rawhttp import HttpError, RawConnection

ClientKind = Literal["raw", "httpx"]
Post = Callable[[bytes], Awaitable[int]]


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (p99 of 100 values is the 99th smallest)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass
class LoadResult:
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, expected answers only
    statuses: Counter[str] = field(default_factory=Counter)
    failures: int = 0  # unexpected answers or transport errors, warm-up included
    warmup_requests: int = 0  # expected answers during the warm-up (not in the figures)

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def p(self, fraction: float) -> float:
        return percentile(self.latencies, fraction)


def async_client(concurrency: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        timeout=httpx.Timeout(30.0, connect=5.0),
        headers={"content-type": "application/json"},
        trust_env=False,
    )


async def _lane(
    post: Post,
    make_body: Callable[[int], bytes],
    numbers: Iterator[int],
    until: float,
    expected: int,
    result: LoadResult,
) -> None:
    while time.perf_counter() < until:
        body = make_body(next(numbers))
        started = time.perf_counter()
        try:
            async with asyncio.timeout(30.0):
                status = await post(body)
        except (HttpError, httpx.HTTPError, TimeoutError) as error:
            result.failures += 1
            result.statuses[type(error).__name__] += 1
            await asyncio.sleep(0.01)
            continue
        elapsed = time.perf_counter() - started
        result.statuses[str(status)] += 1
        if status == expected:
            result.latencies.append(elapsed)
        else:
            result.failures += 1


async def _phase(
    posts: list[Post],
    make_body: Callable[[int], bytes],
    numbers: Iterator[int],
    *,
    seconds: float,
    expected: int,
    result: LoadResult,
) -> float:
    started = time.perf_counter()
    until = started + seconds
    await asyncio.gather(*(_lane(p, make_body, numbers, until, expected, result) for p in posts))
    return time.perf_counter() - started


async def _measure(
    url: str,
    make_body: Callable[[int], bytes],
    *,
    client: ClientKind,
    concurrency: int,
    warmup: float,
    duration: float,
    expected: int,
) -> LoadResult:
    numbers = itertools.count()
    warm, result = LoadResult(), LoadResult()
    parts = urlsplit(url)
    raw = [
        RawConnection(parts.hostname or "127.0.0.1", parts.port or 80) for _ in range(concurrency)
    ]
    shared = async_client(concurrency)

    def httpx_post() -> Post:
        async def post(body: bytes) -> int:
            return (await shared.post(url, content=body)).status_code

        return post

    def raw_post(connection: RawConnection) -> Post:
        async def post(body: bytes) -> int:
            return (await connection.post(parts.path, body))[0]

        return post

    if client == "raw":
        posts = [raw_post(connection) for connection in raw]
    else:
        posts = [httpx_post() for _ in range(concurrency)]
    try:
        await _phase(posts, make_body, numbers, seconds=warmup, expected=expected, result=warm)
        result.seconds = await _phase(
            posts, make_body, numbers, seconds=duration, expected=expected, result=result
        )
    finally:
        for connection in raw:
            await connection.aclose()
        await shared.aclose()
    result.warmup_requests = warm.requests
    result.failures += warm.failures
    for status, count in warm.statuses.items():
        if status != str(expected):
            result.statuses[status] += count
    return result


def measure(
    url: str,
    make_body: Callable[[int], bytes],
    *,
    client: ClientKind = "raw",
    concurrency: int,
    warmup: float,
    duration: float,
    expected: int,
) -> LoadResult:
    """Requests answered with `expected` per second over `duration` (after `warmup`), with their
    latencies. The window closes when the requests in flight at `duration` have been answered."""
    return asyncio.run(
        _measure(
            url,
            make_body,
            client=client,
            concurrency=concurrency,
            warmup=warmup,
            duration=duration,
            expected=expected,
        )
    )
