"""Zoom OAuth: the authorize URL, code exchange and refresh (HTTP Basic client credentials)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

from adapters.edge.outbound import answered, json_object
from bot.errors import MeetingPlatformRejected, RetryLater


class InvalidGrant(Exception):
    """Zoom refused the code or refresh token (used, expired, or the app was removed)."""


@dataclass(frozen=True, slots=True)
class ZoomGrant:
    access_token: str
    refresh_token: str
    expires_in: int
    scope: str

    def __repr__(self) -> str:
        return f"ZoomGrant(expires_in={self.expires_in}, scope={self.scope!r})"


class ZoomOAuth:
    def __init__(
        self, http: httpx.AsyncClient, *, oauth_url: str, client_id: str, client_secret: str
    ) -> None:
        self._http = http
        self._oauth_url = oauth_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret

    def authorize_url(self, *, redirect_uri: str, state: str) -> str:
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self._client_id,
                "redirect_uri": redirect_uri,
                "state": state,
            }
        )
        return f"{self._oauth_url}/oauth/authorize?{query}"

    async def exchange_code(self, *, code: str, redirect_uri: str) -> ZoomGrant:
        return await self._token(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        )

    async def refresh(self, *, refresh_token: str) -> ZoomGrant:
        return await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    async def _token(self, form: dict[str, str]) -> ZoomGrant:
        response = await answered(
            self._http.post(
                f"{self._oauth_url}/oauth/token",
                data=form,
                auth=(self._client_id, self._client_secret),
            ),
            party="Zoom sign-in service",
        )
        body = json_object(response)
        if response.status_code == 401 or body.get("error") == "invalid_client":
            raise MeetingPlatformRejected(
                "Zoom refused meetbot's client id or secret (check MEETBOT_ZOOM_CLIENT_ID/_SECRET)"
            )
        if response.status_code >= 400:
            raise InvalidGrant(str(body.get("reason") or body.get("error") or response.status_code))
        try:
            return ZoomGrant(
                str(body["access_token"]),
                str(body["refresh_token"]),
                int(str(body.get("expires_in", 3600))),
                str(body.get("scope", "")),
            )
        except KeyError as error:
            raise RetryLater("Zoom's token answer was incomplete") from error
