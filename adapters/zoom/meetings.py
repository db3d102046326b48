"""Zoom as the core's meeting platform."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from adapters.zoom.api import ZoomApi
from bot.domain import MeetingHostRef, MeetingRequest, PlatformMeeting
from bot.errors import MeetingGone, MeetingPlatformRejected

SCHEDULED = 2
AUTOMATIC_APPROVAL = 0
PAGE_SIZE = 300
AGENDA_LIMIT = 2000
# Zoom's meeting list shows only the first 250 characters of an agenda.
LISTED_AGENDA = 250


def _zoom_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _agenda(request: MeetingRequest) -> str:
    """The marker goes first: Zoom's meeting list cuts agendas short, and a retry looks for it
    there (a long provider or service name must not push it out of sight)."""
    rest = request.agenda.replace(request.marker, "").strip()
    return f"{request.marker}\n{rest}"[:AGENDA_LIMIT] if rest else request.marker


def _platform_meeting(body: dict[str, Any]) -> PlatformMeeting:
    try:
        return PlatformMeeting(external_id=str(body["id"]), join_url=str(body["join_url"]))
    except KeyError as error:
        raise MeetingPlatformRejected("Zoom's meeting answer had no id or join URL") from error


def _starts_at(meeting: dict[str, Any], start: datetime) -> bool:
    try:
        listed = datetime.fromisoformat(str(meeting.get("start_time") or "").replace("Z", "+00:00"))
    except ValueError:
        return False
    return listed.tzinfo is not None and listed == start.astimezone(UTC).replace(microsecond=0)


class ZoomMeetings:
    def __init__(self, api: ZoomApi) -> None:
        self._api = api

    async def create_meeting(
        self, *, host: MeetingHostRef, request: MeetingRequest
    ) -> PlatformMeeting:
        settings: dict[str, Any] = {"join_before_host": False, "waiting_room": True}
        if request.registration:  # a class: each client registers and gets a join URL of their own
            settings |= {
                "approval_type": AUTOMATIC_APPROVAL,
                "registration_type": 1,
                # meetbot hands out the links; Zoom's own e-mails would duplicate them
                "registrants_confirmation_email": False,
                "registrants_email_notification": False,
            }
        body = {
            "topic": request.topic,
            "type": SCHEDULED,
            "start_time": _zoom_time(request.start),
            "duration": request.duration_minutes,
            "timezone": request.timezone,
            "agenda": _agenda(request),
            "settings": settings,
        }
        created = await self._api.request(
            host.account_id, "POST", f"/users/{quote(host.host_user, safe='@')}/meetings", json=body
        )
        return _platform_meeting(created)

    async def find_meeting(
        self,
        *,
        host: MeetingHostRef,
        marker: str,
        start: datetime,
        request: MeetingRequest | None = None,
    ) -> PlatformMeeting | None:
        """Looks through the host's scheduled meetings for one whose agenda carries `marker`,
        anywhere in it: meetbot puts it first, older versions put it last. The list shows only
        the start of each agenda, so a cut-short agenda of a meeting at the booking's start is
        read in full (how a meeting made by an older version is still found)."""
        page_token = ""
        cut_short: list[dict[str, Any]] = []
        while True:
            params: dict[str, Any] = {"type": "scheduled", "page_size": PAGE_SIZE}
            if page_token:
                params["next_page_token"] = page_token
            page = await self._api.request(
                host.account_id,
                "GET",
                f"/users/{quote(host.host_user, safe='@')}/meetings",
                params=params,
            )
            for meeting in page.get("meetings") or []:
                agenda = str(meeting.get("agenda") or "")
                if marker in agenda:
                    return _platform_meeting(meeting)
                if len(agenda) >= LISTED_AGENDA and _starts_at(meeting, start):
                    cut_short.append(meeting)
            page_token = str(page.get("next_page_token") or "")
            if not page_token:
                break
        for meeting in cut_short:
            try:
                full = await self._api.request(
                    host.account_id, "GET", f"/meetings/{quote(str(meeting['id']))}"
                )
            except MeetingGone:
                continue
            if marker in str(full.get("agenda") or ""):
                return _platform_meeting({**meeting, **full})
        return None

    async def fresh_host_url(self, *, host: MeetingHostRef, external_id: str) -> str:
        meeting = await self._api.request(host.account_id, "GET", f"/meetings/{quote(external_id)}")
        url = meeting.get("start_url")
        if not url:
            raise MeetingPlatformRejected("Zoom gave no host link for this meeting")
        return str(url)

    async def move_meeting(
        self, *, host: MeetingHostRef, external_id: str, start: datetime, duration_minutes: int
    ) -> None:
        body = {"start_time": _zoom_time(start), "duration": duration_minutes, "timezone": "UTC"}
        await self._api.request(
            host.account_id, "PATCH", f"/meetings/{quote(external_id)}", json=body
        )

    async def delete_meeting(self, *, host: MeetingHostRef, external_id: str) -> None:
        try:
            await self._api.request(host.account_id, "DELETE", f"/meetings/{quote(external_id)}")
        except MeetingGone:
            return

    async def add_registrant(
        self, *, host: MeetingHostRef, external_id: str, name: str, email: str
    ) -> tuple[str, str] | None:
        first, _, last = (name.strip() or "Client").partition(" ")
        body = {"email": email, "first_name": first[:64], "last_name": last[:64]}
        answer = await self._api.request(
            host.account_id, "POST", f"/meetings/{quote(external_id)}/registrants", json=body
        )
        try:
            return str(answer["registrant_id"]), str(answer["join_url"])
        except KeyError as error:
            raise MeetingPlatformRejected("Zoom's registration answer had no join URL") from error

    async def cancel_registrant(
        self, *, host: MeetingHostRef, external_id: str, registrant_id: str, email: str
    ) -> None:
        body = {"action": "cancel", "registrants": [{"id": registrant_id, "email": email}]}
        try:
            await self._api.request(
                host.account_id,
                "PUT",
                f"/meetings/{quote(external_id)}/registrants/status",
                json=body,
            )
        except MeetingGone:
            return

    async def users(self, *, account_id: str) -> list[dict[str, Any]]:
        users: list[dict[str, Any]] = []
        page_token = ""
        while True:
            params: dict[str, Any] = {"page_size": PAGE_SIZE}
            if page_token:
                params["next_page_token"] = page_token
            page = await self._api.request(account_id, "GET", "/users", params=params)
            users.extend(page.get("users") or [])
            page_token = str(page.get("next_page_token") or "")
            if not page_token:
                return users
