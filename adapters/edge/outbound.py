"""Calls to an outside party's HTTP API, as Zoom's and Microsoft Graph's clients make them: one
request with a bearer token, and the JSON object its answer carries.

A connection that fails, or an answer that says the party is busy (429, 5xx), is the core's
`RetryLater` (`answered`); for a bearer request a failed connection is that too, except for a POST: it may have arrived, so its
outcome is unknown (`OutcomeUnknown`) and what it made must be looked for before it is repeated.
An answer that is not JSON, or not an object, reads as one with no fields, so the status decides.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import httpx

from bot.errors import OutcomeUnknown, RetryLater


async def bearer_request(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    token: str,
    party: str,
    json: Any = None,
    params: dict[str, Any] | None = None,
) -> httpx.Response:
    """`party` names the API in the error ("Zoom", "Microsoft Graph")."""
    try:
        return await http.request(
            method, url, json=json, params=params, headers={"Authorization": f"Bearer {token}"}
        )
    except httpx.TransportError as error:
        what = f"{party} could not be reached ({type(error).__name__})"
        raise (OutcomeUnknown(what) if method == "POST" else RetryLater(what)) from error


async def answered(
    call: Awaitable[httpx.Response], *, party: str, error: type[RetryLater] = RetryLater
) -> httpx.Response:
    """`call`'s response, or `error` when `party` could not be reached or answered busy."""
    try:
        response = await call
    except httpx.TransportError as failure:
        raise error(f"{party} could not be reached ({type(failure).__name__})") from failure
    if response.status_code == 429 or response.status_code >= 500:
        raise error(f"{party} answered HTTP {response.status_code}")
    return response


def json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
