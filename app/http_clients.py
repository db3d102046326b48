"""The HTTP clients meetbot calls the platforms with (SimplyBook.me, Zoom, Microsoft Graph).

Adapters speak httpx. Underneath, the requests go out through aiohttp (`httpx_aiohttp`), which
slack_sdk already uses for Slack: on this workload httpx's own connection layer (httpcore on
anyio) costs about twice the CPU per call, and a booking makes two or three such calls.

One client serves every company, so it keeps no cookies: a cookie one company's API answer set
must never ride along on another company's request.
"""

from __future__ import annotations

import ssl
from http.cookiejar import CookieJar, DefaultCookiePolicy

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from app.metrics import MeteredTransport, Metrics

CONNECT_TIMEOUT_SECONDS = 5.0


class _ClientErrorsAsHttpx(httpx.AsyncBaseTransport):
    """httpx_aiohttp maps the common aiohttp errors to httpx's; the rest (a malformed answer,
    say) become an httpx transport error too, which the adapters already turn into "try again"
    or "outcome unknown"."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._inner.handle_async_request(request)
        except aiohttp.ClientError as error:
            raise httpx.RemoteProtocolError(str(error), request=request) from error

    async def aclose(self) -> None:
        await self._inner.aclose()


def _no_cookies() -> CookieJar:
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


def platform_client(
    metrics: Metrics,
    platform: str,
    *,
    tls: ssl.SSLContext,
    timeout_seconds: float,
    max_connections: int,
) -> httpx.AsyncClient:
    """One platform's client; each call is counted in the metrics under `platform`. `tls` is
    shared by every client (loading the CA bundle into a context of its own costs memory)."""

    def session() -> aiohttp.ClientSession:
        # Made on the first request, inside the event loop that will use it.
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=max_connections, ssl=tls),
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    transport = _ClientErrorsAsHttpx(AiohttpTransport(verify=tls, trust_env=False, client=session))
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_seconds, connect=CONNECT_TIMEOUT_SECONDS),
        transport=MeteredTransport(transport, metrics, platform),
        cookies=_no_cookies(),
        trust_env=False,
    )
