"""Access tokens for a connected Zoom account, refreshed one process at a time.

Zoom kills the old refresh token the moment a new one is issued, so two processes refreshing at once
would lose the connection. The store's compare-and-swap (token version plus a short refresh lease)
lets one process refresh; the others wait for the new version. On `invalid_grant` the stored token
is re-read before the connection is declared dead: another process may just have rotated it.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Protocol

from adapters.zoom.oauth import InvalidGrant, ZoomOAuth
from bot.clock import Clock
from bot.domain import ZoomTokens
from bot.errors import MeetingAccountRevoked, RetryLater


class TokenStore(Protocol):
    def tokens(self, *, account_id: str) -> ZoomTokens: ...
    def try_lease_refresh(self, *, account_id: str, version: int, seconds: float) -> bool: ...
    def store_refreshed(self, *, account_id: str, tokens: ZoomTokens) -> ZoomTokens:
        """Keeps tokens refreshed from the version before theirs (NotFound if it changed)."""
        ...

    def release_refresh(self, *, account_id: str) -> None: ...
    def mark_needs_reconnect(self, *, account_id: str, reason: str) -> None: ...


RECONNECT_REASON = (
    "Zoom no longer accepts meetbot's access (the app was removed or the grant expired)"
)


class ZoomAccessTokens:
    def __init__(
        self,
        store: TokenStore,
        oauth: ZoomOAuth,
        clock: Clock,
        *,
        lease_seconds: float = 30.0,
        early_seconds: float = 120.0,
    ) -> None:
        self._store, self._oauth, self._clock = store, oauth, clock
        self._lease_seconds = lease_seconds
        self._early = timedelta(seconds=early_seconds)

    async def current(self, account_id: str) -> ZoomTokens:
        tokens = self._store.tokens(account_id=account_id)
        if tokens.expires_at - self._early > self._clock.now():
            return tokens
        return await self.refreshed(account_id, stale=tokens)

    async def refreshed(self, account_id: str, *, stale: ZoomTokens) -> ZoomTokens:
        """Tokens newer than `stale`: refreshed here, or by whichever process holds the lease."""
        deadline = asyncio.get_running_loop().time() + self._lease_seconds * 2
        while asyncio.get_running_loop().time() < deadline:
            latest = self._store.tokens(account_id=account_id)
            if latest.version != stale.version:
                return latest
            if self._store.try_lease_refresh(
                account_id=account_id, version=stale.version, seconds=self._lease_seconds
            ):
                return await self._refresh(account_id, latest)
            await asyncio.sleep(0.05)
        raise RetryLater("another process is still refreshing the Zoom token")

    async def _refresh(self, account_id: str, latest: ZoomTokens) -> ZoomTokens:
        try:
            grant = await self._oauth.refresh(refresh_token=latest.refresh_token)
        except InvalidGrant as error:
            newer = self._store.tokens(account_id=account_id)
            if newer.version != latest.version:
                return newer
            self._store.mark_needs_reconnect(account_id=account_id, reason=RECONNECT_REASON)
            raise MeetingAccountRevoked(
                f"{RECONNECT_REASON}; an admin must reconnect Zoom"
            ) from error
        except BaseException:
            self._store.release_refresh(account_id=account_id)
            raise
        expires_at = self._clock.now() + timedelta(seconds=grant.expires_in)
        fresh = ZoomTokens(grant.access_token, grant.refresh_token, expires_at, latest.version + 1)
        return self._store.store_refreshed(account_id=account_id, tokens=fresh)
