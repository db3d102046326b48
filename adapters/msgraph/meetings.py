"""Microsoft Teams meetings through Microsoft Graph, as the core's meeting platform.

Wire facts relied on (Graph v1.0 onlineMeetings, delegated `OnlineMeetings.ReadWrite`):
- `POST /me/onlineMeetings/createOrGet` with `externalId`, `subject`, `startDateTime`,
  `endDateTime` (ISO 8601 with an offset) answers 201 when it creates and 200 with the stored
  meeting, unchanged, when the same organizer repeats the externalId. The answer carries `id` and
  `joinWebUrl`.
- `GET`, `PATCH` and `DELETE /me/onlineMeetings/{id}`: moving needs both times (200 with the
  meeting); delete answers 204; a meeting that is gone, or not the caller's, is 404.
- `/me` is whoever the access token belongs to: the account `host.account_id` names, whose object
  id is `host.host_user`.
- Errors are `{"error": {"code", "message", "innerError"}}`. 401 means the access token is expired
  or revoked; 403 that the organizer may not create online meetings (no Teams licence, or the
  tenant's meeting policy; the message is not documented, so the status decides); 429 comes with
  `Retry-After` in seconds; 5xx are passing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from adapters.edge.outbound import bearer_request, json_object
from adapters.msgraph.tokens import GraphTokens
from bot.domain import MeetingHostRef, MeetingRequest, PlatformMeeting
from bot.errors import MeetingGone, MeetingPlatformRejected, RetryLater

MEETINGS = "/me/onlineMeetings"
FIND_MINUTES = 60
FORBIDDEN = (
    "Microsoft Teams does not let the connected account create online meetings: it needs a "
    "Teams licence, and the organisation's Teams meeting policy must allow online meetings. An "
    "admin must change this in Microsoft 365, or connect another account."
)


def _graph_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _message(response: httpx.Response) -> str:
    error = json_object(response).get("error")
    message = error.get("message") if isinstance(error, dict) else None
    return str(message or f"HTTP {response.status_code}")


def _retry_after(response: httpx.Response) -> float | None:
    header = response.headers.get("retry-after", "").strip()
    return float(header) if header.isdigit() else None


def _platform_meeting(body: dict[str, Any]) -> PlatformMeeting:
    if not body.get("id") or not body.get("joinWebUrl"):
        raise MeetingPlatformRejected("Microsoft Graph's meeting answer had no id or join link")
    return PlatformMeeting(external_id=str(body["id"]), join_url=str(body["joinWebUrl"]))


def _meeting_path(external_id: str) -> str:
    return f"{MEETINGS}/{quote(external_id, safe='')}"


class GraphMeetings:
    def __init__(self, http: httpx.AsyncClient, *, api_url: str, tokens: GraphTokens) -> None:
        self._http = http
        self._api_url = api_url.rstrip("/")
        self._tokens = tokens

    async def create_meeting(
        self, *, host: MeetingHostRef, request: MeetingRequest
    ) -> PlatformMeeting:
        return await self._create_or_get(
            host, request.marker, request.start, request.duration_minutes, subject=request.topic
        )

    async def find_meeting(
        self,
        *,
        host: MeetingHostRef,
        marker: str,
        start: datetime,
        request: MeetingRequest | None = None,
    ) -> PlatformMeeting | None:
        """The meeting createOrGet keeps for `marker`.

        Graph cannot search meetings by a marker, but createOrGet is keyed by externalId, so asking
        it returns the meeting an earlier attempt made. If none was made, this creates one: harmless,
        because the caller either records it as the booking's meeting or deletes it.
        """
        if request is not None:  # asking again exactly as the first attempt did
            return await self.create_meeting(host=host, request=request)
        return await self._create_or_get(host, marker, start, FIND_MINUTES, subject=None)

    async def fresh_host_url(self, *, host: MeetingHostRef, external_id: str) -> str:
        # Teams has no host link that expires: the organizer joins by the join link, signed in.
        meeting = await self._call(host, "GET", _meeting_path(external_id), names_meeting=True)
        return _platform_meeting(meeting).join_url

    async def move_meeting(
        self, *, host: MeetingHostRef, external_id: str, start: datetime, duration_minutes: int
    ) -> None:
        body = {
            "startDateTime": _graph_time(start),
            "endDateTime": _graph_time(start + timedelta(minutes=duration_minutes)),
        }
        await self._call(host, "PATCH", _meeting_path(external_id), json=body, names_meeting=True)

    async def delete_meeting(self, *, host: MeetingHostRef, external_id: str) -> None:
        try:
            await self._call(host, "DELETE", _meeting_path(external_id), names_meeting=True)
        except MeetingGone:
            return

    async def add_registrant(
        self, *, host: MeetingHostRef, external_id: str, name: str, email: str
    ) -> tuple[str, str] | None:
        """None: Teams meetings have no registrations; everyone joins by the meeting's link."""
        return None

    async def cancel_registrant(
        self, *, host: MeetingHostRef, external_id: str, registrant_id: str, email: str
    ) -> None:
        return None

    async def _create_or_get(
        self,
        host: MeetingHostRef,
        marker: str,
        start: datetime,
        minutes: int,
        *,
        subject: str | None,
    ) -> PlatformMeeting:
        body: dict[str, Any] = {
            "externalId": marker,
            "startDateTime": _graph_time(start),
            "endDateTime": _graph_time(start + timedelta(minutes=minutes)),
        }
        if subject is not None:
            body["subject"] = subject
        created = await self._call(host, "POST", f"{MEETINGS}/createOrGet", json=body)
        return _platform_meeting(created)

    async def _call(
        self,
        host: MeetingHostRef,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        names_meeting: bool = False,
    ) -> dict[str, Any]:
        token = await self._tokens.access_token(host.account_id)
        response = await self._send(method, path, token, json)
        if response.status_code == 401:  # expired early or revoked: one refresh, then give up
            token = await self._tokens.refreshed(host.account_id, stale=token)
            response = await self._send(method, path, token, json)
            if response.status_code == 401:
                raise self._tokens.refused_after_refresh(host.account_id)
        return _check(response, names_meeting=names_meeting)

    async def _send(
        self, method: str, path: str, token: str, json: dict[str, Any] | None
    ) -> httpx.Response:
        url = f"{self._api_url}{path}"
        return await bearer_request(
            self._http, method, url, token=token, party="Microsoft Graph", json=json
        )


def _check(response: httpx.Response, *, names_meeting: bool) -> dict[str, Any]:
    status = response.status_code
    if status < 300:
        return json_object(response)
    if status == 403:
        raise MeetingPlatformRejected(FORBIDDEN)
    if status == 404 and names_meeting:
        raise MeetingGone("Microsoft Teams no longer has this meeting")
    if status == 429:
        raise RetryLater(
            f"Microsoft Graph is limiting meetbot's requests: {_message(response)}",
            after_seconds=_retry_after(response),
        )
    if status >= 500:
        raise RetryLater(
            f"Microsoft Graph answered HTTP {status}", after_seconds=_retry_after(response)
        )
    raise MeetingPlatformRejected(f"Microsoft Graph refused the request: {_message(response)}")
