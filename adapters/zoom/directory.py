"""Zoom as the admin sees it: the connected account's users, and finishing the OAuth connection."""

from __future__ import annotations

import httpx

from adapters.zoom.meetings import ZoomMeetings
from adapters.zoom.oauth import InvalidGrant, ZoomOAuth
from bot.domain import PlatformUser, ZoomConnection
from bot.errors import MeetingPlatformRejected, RetryLater


class ZoomDirectory:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_url: str,
        oauth: ZoomOAuth,
        meetings: ZoomMeetings,
        redirect_uri: str,
    ) -> None:
        self._http = http
        self._api_url = api_url.rstrip("/")
        self._oauth = oauth
        self._meetings = meetings
        self._redirect_uri = redirect_uri

    def authorize_url(self, state: str) -> str:
        return self._oauth.authorize_url(redirect_uri=self._redirect_uri, state=state)

    async def users(self, *, account_id: str) -> list[PlatformUser]:
        users = await self._meetings.users(account_id=account_id)
        return [
            PlatformUser(
                id=str(u.get("id", "")),
                email=str(u.get("email", "")),
                name=str(u.get("display_name") or u.get("email") or ""),
            )
            for u in users
            if u.get("id")
        ]

    async def exchange_code(self, *, code: str) -> ZoomConnection:
        try:
            grant = await self._oauth.exchange_code(code=code, redirect_uri=self._redirect_uri)
        except InvalidGrant as error:
            raise MeetingPlatformRejected(
                "Zoom did not accept the sign-in (it may have been used already)"
            ) from error
        try:
            answer = await self._http.get(
                f"{self._api_url}/users/me",
                headers={"Authorization": f"Bearer {grant.access_token}"},
            )
        except httpx.TransportError as error:
            raise RetryLater("Zoom could not be reached") from error
        if answer.status_code != 200:
            raise MeetingPlatformRejected(
                f"Zoom did not tell which account signed in (HTTP {answer.status_code})"
            )
        try:
            me = answer.json()
        except ValueError as error:
            raise MeetingPlatformRejected(
                "Zoom's answer about the signed-in account was unreadable"
            ) from error
        return ZoomConnection(
            zoom_account_id=str(me.get("account_id", "")),
            user_id=str(me.get("id", "")),
            email=str(me.get("email", "")),
            access_token=grant.access_token,
            refresh_token=grant.refresh_token,
            expires_in=grant.expires_in,
        )
