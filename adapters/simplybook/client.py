"""SimplyBook.me JSON-RPC client: token login, booking details with the md5 sign, cached lists.

Shared servers allow about 5,000 requests a day and 2 in parallel per account, so calls are
throttled per company account (one busy company does not slow another), tokens are reused for
their hour, and service/provider lists are cached.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import time
from typing import Any

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from adapters.edge.outbound import answered
from adapters.edge.zones import known_zone
from adapters.simplybook.parsing import UnreadableBooking, booking_details, catalog
from bot.domain import BookingDetails, CatalogEntry, CompanyInfo, SimplyBookCredentials
from bot.errors import BookingSystemError, BookingSystemRejected, BookingUnknown

TOKEN_LIFETIME_SECONDS = 50 * 60  # tokens last about an hour; renew early
CATALOG_TTL_SECONDS = 10 * 60


# getBookingDetails' answers for a booking it does not know, or one whose hash does not match.
BOOKING_UNKNOWN_CODES = frozenset({-32080, -32085})
ACCESS_DENIED = -32600  # SimplyBook answers an expired or unknown token with this JSON-RPC code


class RpcError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{message} (code {code})")
        self.code, self.message = code, message

    @property
    def about_token(self) -> bool:
        words = self.message.lower()
        return self.code == ACCESS_DENIED or any(
            word in words for word in ("token", "access denied")
        )


def _error_code(value: object) -> int:
    try:  # the API has been seen sending codes as strings
        return int(str(value))
    except ValueError:
        return 0


def _known_zone(name: str) -> str:
    """The zone if Python knows it, else "" (the caller decides what to do without one)."""
    return name if known_zone(name) is not None else ""


def booking_sign(booking_id: str, booking_hash: str, api_secret: str) -> str:
    """SimplyBook's proof that we know the booking: md5(id + hash + API secret), hex."""
    return hashlib.md5(
        f"{booking_id}{booking_hash}{api_secret}".encode(), usedforsecurity=False
    ).hexdigest()


def _token_key(credentials: SimplyBookCredentials) -> tuple[str, str]:
    return (
        credentials.company_login,
        hashlib.sha256(credentials.api_key.encode()).hexdigest(),
    )


class SimplyBookClient:
    def __init__(self, http: httpx.AsyncClient, *, api_url: str, parallel: int = 2) -> None:
        self._http = http
        self._api_url = api_url.rstrip("/")
        self._parallel = parallel
        self._gates: dict[str, asyncio.Semaphore] = {}
        self._ids = itertools.count(1)
        # Keyed by login and API key: a token won with one key never answers for another.
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}
        self._catalogs: dict[tuple[str, str], tuple[list[CatalogEntry], float]] = {}

    def _gate(self, company_login: str) -> asyncio.Semaphore:
        gate = self._gates.get(company_login)
        if gate is None:
            gate = self._gates[company_login] = asyncio.Semaphore(self._parallel)
        return gate

    async def _rpc(
        self, company_login: str, path: str, method: str, params: list[Any], headers: dict[str, str]
    ) -> Any:
        body = {"jsonrpc": "2.0", "method": method, "params": params, "id": next(self._ids)}
        retrying = AsyncRetrying(  # reads are safe to repeat after a dropped connection
            retry=retry_if_exception_type(httpx.TransportError),
            stop=stop_after_attempt(3),
            wait=wait_exponential(multiplier=0.2, max=2),
            reraise=True,
        )

        async def send() -> httpx.Response:
            async with self._gate(company_login):
                async for attempt in retrying:
                    with attempt:
                        sent = await self._http.post(
                            f"{self._api_url}{path}", json=body, headers=headers
                        )
            return sent

        response = await answered(send(), party="SimplyBook.me", error=BookingSystemError)
        try:
            answer = response.json()
        except ValueError as error:
            raise BookingSystemError(
                f"SimplyBook.me answered HTTP {response.status_code} without JSON"
            ) from error
        if isinstance(answer, dict) and answer.get("error"):
            error_body = answer["error"] if isinstance(answer["error"], dict) else {}
            raise RpcError(
                _error_code(error_body.get("code")), str(error_body.get("message", answer["error"]))
            )
        if response.status_code >= 400 or not isinstance(answer, dict):
            raise BookingSystemError(f"SimplyBook.me answered HTTP {response.status_code}")
        return answer.get("result")

    async def _token(self, credentials: SimplyBookCredentials, *, fresh: bool = False) -> str:
        key = _token_key(credentials)
        cached = self._tokens.get(key)
        if cached and not fresh and cached[1] > time.monotonic():
            return cached[0]
        try:
            token = await self._rpc(
                credentials.company_login,
                "/login",
                "getToken",
                [credentials.company_login, credentials.api_key],
                {},
            )
        except RpcError as error:
            raise BookingSystemRejected(
                "SimplyBook.me refused the company login or API key; check them in the connection settings"
            ) from error
        if not isinstance(token, str) or not token:
            raise BookingSystemError("SimplyBook.me gave no API token")
        self._tokens[key] = (token, time.monotonic() + TOKEN_LIFETIME_SECONDS)
        return token

    async def call(
        self,
        credentials: SimplyBookCredentials,
        method: str,
        *params: Any,
        fresh_login: bool = False,
    ) -> Any:
        """A public-API call; an expired token is renewed once. `fresh_login` skips the cached
        token, so the call proves the login and API key as they are now."""
        for fresh in (fresh_login, True):
            token = await self._token(credentials, fresh=fresh)
            headers = {"X-Company-Login": credentials.company_login, "X-Token": token}
            try:
                return await self._rpc(credentials.company_login, "", method, list(params), headers)
            except RpcError as error:
                if fresh or not error.about_token:
                    raise BookingSystemRejected(
                        f"SimplyBook.me refused {method}: {error.message}"
                    ) from error
        raise AssertionError("unreachable")

    async def booking_details(
        self,
        *,
        credentials: SimplyBookCredentials,
        booking_id: str,
        booking_hash: str,
        timezone: str,
    ) -> BookingDetails:
        sign = booking_sign(booking_id, booking_hash, credentials.api_secret)
        try:
            raw = await self.call(credentials, "getBookingDetails", booking_id, sign)
        except BookingSystemRejected as rejected:
            cause = rejected.__cause__
            if isinstance(cause, RpcError) and cause.code in BOOKING_UNKNOWN_CODES:
                raise BookingUnknown(
                    f"SimplyBook.me does not know booking {booking_id} ({cause.message})"
                ) from rejected
            raise
        try:
            return booking_details(raw, timezone=timezone)
        except UnreadableBooking as error:
            raise BookingSystemRejected(
                f"SimplyBook.me sent booking details meetbot cannot read: {error}"
            ) from error

    async def _catalog(self, credentials: SimplyBookCredentials, method: str) -> list[CatalogEntry]:
        key = (credentials.company_login, method)
        cached = self._catalogs.get(key)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        entries = catalog(await self.call(credentials, method))
        self._catalogs[key] = (entries, time.monotonic() + CATALOG_TTL_SECONDS)
        return entries

    async def services(self, *, credentials: SimplyBookCredentials) -> list[CatalogEntry]:
        return await self._catalog(credentials, "getEventList")

    async def providers(self, *, credentials: SimplyBookCredentials) -> list[CatalogEntry]:
        return await self._catalog(credentials, "getUnitList")

    async def company_info(self, *, credentials: SimplyBookCredentials) -> CompanyInfo:
        """Also the credentials check: always a fresh login, never a token cached earlier."""
        raw = await self.call(credentials, "getCompanyInfo", fresh_login=True)
        info = raw if isinstance(raw, dict) else {}
        return CompanyInfo(
            login=str(info.get("login") or credentials.company_login),
            name=str(info.get("name") or credentials.company_login),
            timezone=_known_zone(str(info.get("timezone") or "")),
        )

    async def plugin_active(self, *, credentials: SimplyBookCredentials, plugin: str) -> bool:
        return bool(await self.call(credentials, "isPluginActivated", plugin))

    def forget(self, company_login: str) -> None:
        """Drop cached token and lists, e.g. after the admin changed the credentials."""
        for key in [key for key in self._tokens if key[0] == company_login]:
            del self._tokens[key]
        for key in [key for key in self._catalogs if key[0] == company_login]:
            del self._catalogs[key]
