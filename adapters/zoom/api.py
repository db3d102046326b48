"""Zoom REST API: one thin client, bearer token in the header, errors mapped to the core's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from adapters.edge.outbound import bearer_request, json_object
from adapters.zoom.tokens import ZoomAccessTokens
from bot.clock import Clock
from bot.errors import (
    HostDailyLimit,
    MeetingAccountRevoked,
    MeetingGone,
    MeetingPlatformRejected,
    RetryLater,
)

TOKEN_INVALID = 124
MEETING_MISSING = 3001


def seconds_until_utc_midnight(now: datetime) -> float:
    tomorrow = (now.astimezone(UTC) + timedelta(days=1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return (tomorrow - now).total_seconds() + 60


class ZoomApi:
    def __init__(
        self, http: httpx.AsyncClient, *, api_url: str, tokens: ZoomAccessTokens, clock: Clock
    ) -> None:
        self._http = http
        self._api_url = api_url.rstrip("/")
        self._tokens = tokens
        self._clock = clock

    async def request(
        self,
        account_id: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        tokens = await self._tokens.current(account_id)
        response = await self._send(method, path, tokens.access_token, json, params)
        if response.status_code == 401 and json_object(response).get("code") == TOKEN_INVALID:
            tokens = await self._tokens.refreshed(account_id, stale=tokens)
            response = await self._send(method, path, tokens.access_token, json, params)
        return self._check(response)

    async def _send(
        self, method: str, path: str, access_token: str, json: Any, params: dict[str, Any] | None
    ) -> httpx.Response:
        url = f"{self._api_url}{path}"
        return await bearer_request(
            self._http, method, url, token=access_token, party="Zoom", json=json, params=params
        )

    def _check(self, response: httpx.Response) -> dict[str, Any]:
        status, body = response.status_code, json_object(response)
        message = str(body.get("message") or f"HTTP {status}")
        if status < 300:
            return body
        if status == 401:
            raise MeetingAccountRevoked(
                f"Zoom refused meetbot's access: {message}; an admin must reconnect Zoom"
            )
        if status == 404:
            if body.get("code") == MEETING_MISSING:
                raise MeetingGone(message)
            raise MeetingPlatformRejected(f"Zoom: {message}")
        if status == 429:
            after = self._retry_after(response, message)
            if self._is_daily_limit(response, message):
                raise HostDailyLimit(
                    f"Zoom's daily limit for this host: {message}", after_seconds=after
                )
            raise RetryLater(f"Zoom rate limit: {message}", after_seconds=after)
        if status >= 500:
            raise RetryLater(f"Zoom answered HTTP {status}")
        raise MeetingPlatformRejected(f"Zoom refused the request: {message}")

    @staticmethod
    def _is_daily_limit(response: httpx.Response, message: str) -> bool:
        return (
            "daily" in message.lower()
            or response.headers.get("x-ratelimit-type", "").lower() == "daily-limit"
        )

    def _retry_after(self, response: httpx.Response, message: str) -> float:
        if self._is_daily_limit(response, message):  # the per-host daily limit resets at 00:00 UTC
            return seconds_until_utc_midnight(self._clock.now())
        header = response.headers.get("retry-after", "")
        return float(header) if header.replace(".", "", 1).isdigit() else 5.0
