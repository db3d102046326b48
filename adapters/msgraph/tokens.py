"""Graph access tokens for a connected Microsoft account, from its stored msal token cache.

Wire facts relied on (msal-python 1.3x, Microsoft Entra):
- `acquire_token_silent_with_error(scopes, account, force_refresh=...)` answers a cached access
  token while it has over five minutes left, else redeems the cached refresh token. It answers None
  when the cache holds no refresh token for the account, and the token endpoint's error otherwise:
  `invalid_grant` (AADSTS50173 revoked, 700082 unused for 90 days, 70008 expired) or
  `interaction_required` (a new sign-in policy wants the user). msal keeps a refresh token that
  failed in the cache.
- `SerializableTokenCache.has_state_changed` tells whether the call wrote the cache (a refresh).
- A refresh answers a new refresh token, and Entra keeps the previous one valid until it expires or
  is revoked, so two workers refreshing at once both succeed; the store's version check keeps the
  first cache written (see storage.ms_accounts).
- An app replays the token endpoint's HTTP 400 answers for 60 seconds and 429/5xx answers until
  their Retry-After. Apps live for one operation here, so this never hides a recovery from a later
  job attempt; within one operation a refresh token is never sent twice (the retry after a refusal
  uses another worker's newer cache, hence another refresh token).

One msal app per operation, each with its own cache deserialized from the account's row: no token
cache is ever shared between accounts.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Protocol

import msal
import requests
from msal.exceptions import MsalServiceError

from adapters.msgraph.msal_apps import SCOPES, MsalApps, aadsts_codes
from bot.errors import MeetbotError, MeetingAccountRevoked, MeetingPlatformRejected, RetryLater

NEEDS_SIGN_IN = {"invalid_grant", "interaction_required", "login_required", "consent_required"}
NO_ACCOUNT = "no_account"  # our own marker: the cache has no usable sign-in for the account
MISCONFIGURED = (
    "Microsoft refused meetbot's app registration (check MEETBOT_MS_CLIENT_ID and "
    "MEETBOT_MS_CLIENT_SECRET; the secret may have expired)"
)
_WHY = {
    50173: "the sign-in was revoked, for example by a password change or an admin ending sessions",
    700082: "the sign-in expired after 90 days without use",
    70008: "the sign-in expired",
    50076: "the organisation's sign-in policy now asks the user to sign in again",
    50079: "the organisation's sign-in policy now asks the user to sign in again",
    65001: "the permission to create meetings was withdrawn",
}


class CacheSnapshot(Protocol):
    @property
    def account_id(self) -> str: ...
    @property
    def home_account_id(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def version(self) -> str: ...


class TokenCacheStore(Protocol):
    def token_cache(self, *, account_id: str) -> CacheSnapshot: ...
    def store_token_cache(self, *, account_id: str, version: str, state: str) -> bool: ...
    def mark_needs_reconnect(
        self, *, account_id: str, reason: str, version: str | None = None
    ) -> bool: ...


@dataclass(frozen=True, slots=True)
class _Attempt:
    token: str | None
    error: dict[str, Any] | None
    changed_cache: str | None  # the cache after a refresh, to be stored

    @property
    def needs_sign_in(self) -> bool:
        return self.error is not None and str(self.error.get("error")) in {
            *NEEDS_SIGN_IN,
            NO_ACCOUNT,
        }


def revoked_reason(error: dict[str, Any] | None) -> str:
    codes = aadsts_codes(error or {})
    known = next((_WHY[code] for code in sorted(codes) if code in _WHY), "")
    if not known:
        name = str((error or {}).get("error") or "no answer")
        known = (
            "the stored sign-in is incomplete"
            if name == NO_ACCOUNT
            else ", ".join([name, *(f"AADSTS{code}" for code in sorted(codes))])
        )
    return f"Microsoft refused meetbot's access ({known})"


class GraphTokens:
    def __init__(self, store: TokenCacheStore, apps: MsalApps) -> None:
        self._store, self._apps = store, apps

    async def access_token(self, account_id: str) -> str:
        return await self._token(account_id, stale=None)

    async def refreshed(self, account_id: str, *, stale: str) -> str:
        """A token other than `stale` (Graph refused it): another worker's newer one, or a forced
        refresh."""
        return await self._token(account_id, stale=stale)

    def refused_after_refresh(self, account_id: str) -> MeetingAccountRevoked:
        """Graph refused even a freshly refreshed token: only a new sign-in can help."""
        reason = "Microsoft Graph refused meetbot's freshly renewed access"
        self._store.mark_needs_reconnect(account_id=account_id, reason=reason)
        return MeetingAccountRevoked(f"{reason}; an admin must reconnect Teams")

    async def _token(self, account_id: str, *, stale: str | None) -> str:
        snapshot = self._store.token_cache(account_id=account_id)
        attempt = await self._attempt(snapshot, stale)
        if attempt.needs_sign_in:
            # Another worker may have refreshed, or an admin reconnected, since the cache was read.
            newer = self._store.token_cache(account_id=account_id)
            if newer.version != snapshot.version:
                snapshot, attempt = newer, await self._attempt(newer, stale)
        if attempt.needs_sign_in:
            raise self._revoked(snapshot, attempt)
        if attempt.error is not None or not attempt.token:
            raise _failure(attempt.error or {})
        if attempt.changed_cache is not None:
            # False means another worker stored its cache first: that one is kept, and this
            # call still uses the token it just got (both stay valid).
            self._store.store_token_cache(
                account_id=account_id, version=snapshot.version, state=attempt.changed_cache
            )
        return attempt.token

    async def _attempt(self, snapshot: CacheSnapshot, stale: str | None) -> _Attempt:
        try:
            return await asyncio.to_thread(self._silent, snapshot, stale)
        except requests.RequestException as error:
            raise RetryLater(
                f"Microsoft's sign-in service could not be reached ({type(error).__name__})"
            ) from error
        except MsalServiceError as error:  # a 5xx from the sign-in service
            raise RetryLater("Microsoft's sign-in service answered with a server error") from error
        except ValueError as error:  # an answer that is not JSON (a proxy's error page)
            raise RetryLater("Microsoft's sign-in service gave an unreadable answer") from error

    def _silent(self, snapshot: CacheSnapshot, stale: str | None) -> _Attempt:
        cache = msal.SerializableTokenCache()
        cache.deserialize(snapshot.state)
        app = self._apps.app(cache)
        account = next(
            (a for a in app.get_accounts() if a.get("home_account_id") == snapshot.home_account_id),
            None,
        )
        if account is None:
            return _Attempt(None, {"error": NO_ACCOUNT}, None)
        result = app.acquire_token_silent_with_error(SCOPES, account)
        if stale is not None and result is not None and result.get("access_token") == stale:
            result = app.acquire_token_silent_with_error(SCOPES, account, force_refresh=True)
        changed = cache.serialize() if cache.has_state_changed else None
        if result is None:  # no refresh token in the cache
            return _Attempt(None, {"error": NO_ACCOUNT}, changed)
        if "error" in result:
            return _Attempt(None, dict(result), changed)
        return _Attempt(str(result.get("access_token") or ""), None, changed)

    def _revoked(self, snapshot: CacheSnapshot, attempt: _Attempt) -> MeetbotError:
        reason = revoked_reason(attempt.error)
        marked = self._store.mark_needs_reconnect(
            account_id=snapshot.account_id, reason=reason, version=snapshot.version
        )
        if not marked:  # reconnected, refreshed or flagged meanwhile: the next attempt re-reads
            return RetryLater("the Teams connection changed while it was being used")
        return MeetingAccountRevoked(f"{reason}; an admin must reconnect Teams")


def _failure(error: dict[str, Any]) -> MeetbotError:
    name = str(error.get("error") or "no answer")
    if name in ("invalid_client", "unauthorized_client"):
        return MeetingPlatformRejected(MISCONFIGURED)
    detail = ", ".join([name, *(f"AADSTS{code}" for code in sorted(aadsts_codes(error)))])
    return RetryLater(f"Microsoft's sign-in service refused for now ({detail})")
