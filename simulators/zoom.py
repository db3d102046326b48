"""A Zoom simulator: OAuth (zoom.us/oauth/...) and REST (api.zoom.us/v2/...) in one app.

Wire facts checked against Zoom's docs and developer forum answers:
- OAuth errors: 401 {"reason": "Invalid client_id or client_secret", "error": "invalid_client"};
  400 {"reason": "Invalid Token!", "error": "invalid_grant"} for a dead refresh token;
  400 {"reason": "Invalid authorization code <code>", "error": "invalid_grant"};
  redirect mismatch is documented as "Redirect URI mismatch." (error code 4709).
- REST errors are {"code": int, "message": str}: 124 "Invalid access token." (401),
  1001 "User does not exist: <id>." (404), 3001 "Meeting does not exist: <id>." (404),
  300 "Validation Failed." with "errors": [{"field", "message"}] (400), 3027 "Host can not
  register" (400), and 404 with code 404 "Registration has not been enabled for this
  meeting: <id>." (the registrant endpoint answers that, not 3001).
- Daily limit (100 meeting creates/updates per host user, reset 00:00 UTC): 429
  {"code": 429, "message": "You have exceeded the daily rate limit (100) of Meeting
  Create/Update API requests permitted for this particular user. You may resume these
  requests at GMT 00:00:00."}. The docs show X-RateLimit-Type: Daily-limit and a
  Retry-After that is a date-time ("2020-05-31T00:00:00Z"), not seconds; forum reports
  say real answers sometimes lack those headers, so clients must not depend on them.
- A recurring meeting with no fixed time (type 3) silently keeps approval_type 2.
- GET /users/{id}/meetings shows only the first 250 characters of each agenda; GET
  /meetings/{id} shows it whole (`listed_agenda_chars = 250` here; off by default).
"""

from __future__ import annotations

import base64
import html
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from simulators.base import (
    Simulator,
    add_query,
    base_url,
    json_response,
    read_form,
    read_json,
)

ACCESS_TOKEN_SECONDS = 3600
START_URL_SECONDS = 2 * 3600
AGENDA_MAX = 2000
TOPIC_MAX = 200
SCOPE = "meeting:read meeting:write user:read"
# A well-known fake secret, so tests and the sandbox need no configuration.
DEFAULT_CLIENT_SECRET = "zoom-client-secret"
DEFAULT_SETTINGS: dict[str, Any] = {
    "host_video": False,
    "participant_video": False,
    "join_before_host": False,
    "jbh_time": 0,
    "mute_upon_entry": False,
    "waiting_room": False,
    "approval_type": 2,
    "registration_type": 1,
    "audio": "voip",
    "auto_recording": "none",
    "meeting_authentication": False,
    "registrants_confirmation_email": True,
    "registrants_email_notification": True,
}
_UPDATABLE = ("topic", "type", "start_time", "duration", "timezone", "agenda", "password")


class ZoomError(Exception):
    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.errors, self.headers = errors, headers

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors:
            body["errors"] = self.errors
        return json_response(body, self.status, self.headers)


class OAuthError(Exception):
    def __init__(self, status: int, error: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.error, self.reason = status, error, reason


def _invalid_token() -> ZoomError:
    return ZoomError(401, 124, "Invalid access token.")


def _no_meeting(meeting_id: object) -> ZoomError:
    return ZoomError(404, 3001, f"Meeting does not exist: {meeting_id}.")


def _invalid_field(name: str) -> ZoomError:
    errors = [{"field": name, "message": "Invalid field."}]
    return ZoomError(400, 300, "Validation Failed.", errors=errors)


@dataclass
class _Grant:
    account_id: str
    user_id: str
    expires: float = 0.0


@dataclass
class _Registrant:
    id: str
    email: str
    first_name: str
    last_name: str
    status: str
    create_time: str
    token: str


@dataclass
class _Meeting:
    data: dict[str, Any]
    account_id: str
    deleted: bool = False
    registrants: list[_Registrant] = field(default_factory=list)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ZoomSimulator(Simulator):
    def __init__(
        self,
        *,
        client_id: str = "zoom-client-id",
        client_secret: str = DEFAULT_CLIENT_SECRET,
        daily_meeting_limit: int = 100,
    ) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.daily_meeting_limit = daily_meeting_limit
        # Wall clock for the daily limit, created_at and start_url age; tests may replace it.
        # Token lifetimes use a monotonic clock instead, so moving `now` does not kill tokens.
        self.now: Callable[[], datetime] = _utc_now
        self.authorizing_user: tuple[str, str] | None = None
        self.refresh_count = 0
        # Zoom's meeting list shows an agenda's first 250 characters; None shows it whole.
        self.listed_agenda_chars: int | None = None
        self.token_requests: list[dict[str, str]] = []
        self.base_url = ""  # learned from requests; used by issue_tokens() for api_url
        self._users: dict[str, dict[str, Any]] = {}
        self._codes: dict[str, tuple[_Grant, str]] = {}
        self._access: dict[str, _Grant] = {}
        self._refresh: dict[str, _Grant] = {}
        self._meetings: dict[int, _Meeting] = {}
        self._zaks: dict[str, tuple[int, datetime]] = {}
        self._daily: dict[tuple[str, date], int] = {}
        self._page_tokens: dict[str, int] = {}
        self.app = self._wrap(self._build_app())

    # State API.

    def add_user(
        self,
        *,
        account_id: str = "acct-1",
        email: str,
        first_name: str = "",
        last_name: str = "",
        user_id: str | None = None,
        licensed: bool = True,
        timezone: str = "UTC",
    ) -> dict[str, Any]:
        uid = user_id or secrets.token_urlsafe(16)[:22]
        display = " ".join(p for p in (first_name, last_name) if p) or email
        user = {
            "id": uid,
            "account_id": account_id,
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
            "display_name": display,
            "type": 2 if licensed else 1,
            "status": "active",
            "timezone": timezone,
            "pmi": secrets.randbelow(9_000_000_000) + 1_000_000_000,
            "verified": 1,
            "language": "en-US",
            "created_at": _iso(self.now()),
        }
        with self._lock:
            self._users[uid] = user
            if self.authorizing_user is None:
                self.authorizing_user = (account_id, uid)
            return dict(user)

    def issue_tokens(self, *, account_id: str, user_id: str) -> dict[str, Any]:
        """Tokens as the token endpoint would give them, without the OAuth dance."""
        with self._lock:
            return self._issue(_Grant(account_id, user_id), self.base_url, refresh=True)

    def expire_access_tokens(self) -> None:
        with self._lock:
            self._access.clear()

    def revoke_account(self, account_id: str) -> None:
        with self._lock:
            for store in (self._access, self._refresh):
                for token in [t for t, g in store.items() if g.account_id == account_id]:
                    del store[token]
            self._codes = {c: v for c, v in self._codes.items() if v[0].account_id != account_id}

    def live_meetings(self, host_user_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                _public(m.data)
                for m in self._meetings.values()
                if not m.deleted and host_user_id in (None, m.data["host_id"])
            ]

    def meeting(self, meeting_id: int) -> dict[str, Any] | None:
        """The stored meeting (None once deleted), with its registrants."""
        with self._lock:
            found = self._meetings.get(int(meeting_id))
            if found is None or found.deleted:
                return None
            data = _public(found.data)
            data["registrants"] = [vars(r).copy() for r in found.registrants]
            return data

    def rewrite_agenda(self, meeting_id: int, agenda: str) -> None:
        """The agenda changes behind the API's back (e.g. as an older client wrote it)."""
        with self._lock:
            self._meetings[meeting_id].data["agenda"] = agenda

    def created_count(self) -> int:
        with self._lock:
            return len(self._meetings)

    # Tokens.

    def _issue(self, grant: _Grant, api_url: str, *, refresh: bool) -> dict[str, Any]:
        access = secrets.token_urlsafe(32)
        self._access[access] = _Grant(
            grant.account_id, grant.user_id, time.monotonic() + ACCESS_TOKEN_SECONDS
        )
        answer: dict[str, Any] = {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": ACCESS_TOKEN_SECONDS,
            "scope": SCOPE,
            "api_url": api_url,
        }
        if refresh:
            token = secrets.token_urlsafe(32)
            self._refresh[token] = _Grant(grant.account_id, grant.user_id)
            answer["refresh_token"] = token
        return answer

    def _grant(self, request: Request) -> _Grant:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        grant = self._access.get(token.strip()) if scheme.lower() == "bearer" else None
        if grant is None or grant.expires < time.monotonic():
            raise _invalid_token()
        return grant

    # App.

    def _build_app(self) -> Starlette:
        routes = [
            Route("/oauth/authorize", self._authorize, methods=["GET"]),
            Route("/oauth/token", self._token, methods=["POST"]),
            Route("/v2/users", self._list_users, methods=["GET"]),
            Route("/v2/users/{user_id}", self._get_user, methods=["GET"]),
            Route("/v2/users/{user_id}/meetings", self._user_meetings, methods=["GET", "POST"]),
            Route(
                "/v2/meetings/{meeting_id}",
                self._meeting_endpoint,
                methods=["GET", "PATCH", "DELETE"],
            ),
            Route(
                "/v2/meetings/{meeting_id}/registrants",
                self._registrants,
                methods=["GET", "POST"],
            ),
            Route(
                "/v2/meetings/{meeting_id}/registrants/status",
                self._registrant_status,
                methods=["PUT"],
            ),
            Route("/j/{meeting_id}", self._join_page, methods=["GET"]),
            Route("/s/{meeting_id}", self._start_page, methods=["GET"]),
            Route("/w/{meeting_id}", self._registrant_page, methods=["GET"]),
        ]
        return Starlette(
            routes=routes,
            exception_handlers={ZoomError: _zoom_error, OAuthError: _oauth_error},
        )

    def _remember_base(self, request: Request) -> str:
        self.base_url = base_url(request)
        return self.base_url

    # OAuth endpoints.

    async def _authorize(self, request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != self.client_id:
            return _page("Invalid client_id", "The app is not known (simulated Zoom).", 400)
        if q.get("response_type") != "code" or not q.get("redirect_uri"):
            return _page("Invalid request", "response_type=code and redirect_uri needed.", 400)
        with self._lock:
            if self.authorizing_user is None:
                return _page("No user", "No Zoom user is signed in (simulated Zoom).", 400)
            account_id, user_id = self.authorizing_user
            code = secrets.token_urlsafe(24)
            self._codes[code] = (_Grant(account_id, user_id), q["redirect_uri"])
        params = {"code": code, **({"state": q["state"]} if "state" in q else {})}
        return RedirectResponse(add_query(q["redirect_uri"], params), status_code=302)

    async def _token(self, request: Request) -> JSONResponse:
        form = {**dict(request.query_params), **(await read_form(request))}
        api_url = self._remember_base(request)
        with self._lock:
            self.token_requests.append(form)
            self._check_client(request)
            grant_type = form.get("grant_type", "")
            if grant_type == "authorization_code":
                return json_response(self._exchange_code(form, api_url))
            if grant_type == "refresh_token":
                return json_response(self._exchange_refresh(form, api_url))
            if grant_type == "account_credentials":
                return json_response(self._account_credentials(form, api_url))
        raise OAuthError(400, "unsupported_grant_type", "Unsupported grant type")

    def _check_client(self, request: Request) -> None:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except ValueError:
            decoded = ""
        client_id, _, secret = decoded.partition(":")
        good = client_id == self.client_id and secrets.compare_digest(secret, self.client_secret)
        if scheme.lower() != "basic" or not good:
            raise OAuthError(401, "invalid_client", "Invalid client_id or client_secret")

    def _exchange_code(self, form: dict[str, str], api_url: str) -> dict[str, Any]:
        code = form.get("code", "")
        found = self._codes.get(code)
        if found is None:
            raise OAuthError(400, "invalid_grant", f"Invalid authorization code {code}")
        grant, redirect_uri = found
        if form.get("redirect_uri") != redirect_uri:
            raise OAuthError(400, "invalid_request", "Redirect URI mismatch.")
        del self._codes[code]  # single use
        return self._issue(grant, api_url, refresh=True)

    def _exchange_refresh(self, form: dict[str, str], api_url: str) -> dict[str, Any]:
        # Every refresh rotates: the presented token dies at once.
        grant = self._refresh.pop(form.get("refresh_token", ""), None)
        if grant is None:
            raise OAuthError(400, "invalid_grant", "Invalid Token!")
        self.refresh_count += 1
        return self._issue(grant, api_url, refresh=True)

    def _account_credentials(self, form: dict[str, str], api_url: str) -> dict[str, Any]:
        account_id = form.get("account_id", "")
        users = [u for u in self._users.values() if u["account_id"] == account_id]
        if not users:
            raise OAuthError(400, "invalid_request", "Invalid account_id")
        return self._issue(_Grant(account_id, users[0]["id"]), api_url, refresh=False)

    # Users.

    async def _list_users(self, request: Request) -> JSONResponse:
        self._remember_base(request)
        with self._lock:
            grant = self._grant(request)
            users = [_user_summary(u) for u in self._account_users(grant.account_id)]
            return json_response(self._paged(request, users, "users"))

    async def _get_user(self, request: Request) -> JSONResponse:
        self._remember_base(request)
        with self._lock:
            grant = self._grant(request)
            return json_response(dict(self._user(grant, request.path_params["user_id"])))

    def _account_users(self, account_id: str) -> list[dict[str, Any]]:
        return [u for u in self._users.values() if u["account_id"] == account_id]

    def _user(self, grant: _Grant, user_ref: str) -> dict[str, Any]:
        ref = grant.user_id if user_ref == "me" else user_ref
        for user in self._account_users(grant.account_id):
            if ref in (user["id"], user["email"]):
                return user
        raise ZoomError(404, 1001, f"User does not exist: {user_ref}.")

    def _paged(self, request: Request, items: list[Any], key: str) -> dict[str, Any]:
        try:
            size = min(max(int(request.query_params.get("page_size", 30)), 1), 300)
        except ValueError:
            size = 30
        start = self._page_tokens.get(request.query_params.get("next_page_token", ""), 0)
        next_token = ""
        if start + size < len(items):
            next_token = secrets.token_urlsafe(24)
            self._page_tokens[next_token] = start + size
        return {
            "page_count": max(1, -(-len(items) // size)),
            "page_number": start // size + 1,
            "page_size": size,
            "total_records": len(items),
            "next_page_token": next_token,
            key: items[start : start + size],
        }

    # Meetings.

    async def _user_meetings(self, request: Request) -> JSONResponse:
        base = self._remember_base(request)
        if request.method == "GET":
            with self._lock:
                return json_response(self._list_meetings(request))
        body = await _json_object(request)
        with self._lock:
            grant = self._grant(request)
            host = self._user(grant, request.path_params["user_id"])
            return json_response(self._create_meeting(host, body, base), 201)

    def _list_meetings(self, request: Request) -> dict[str, Any]:
        grant = self._grant(request)
        host = self._user(grant, request.path_params["user_id"])
        kind = request.query_params.get("type", "scheduled")
        now = self.now()
        meetings = [
            _summary(m.data, agenda_chars=self.listed_agenda_chars)
            for m in self._meetings.values()
            if not m.deleted
            and m.data["host_id"] == host["id"]
            and (kind != "upcoming" or _end(m.data) >= now)
        ]
        return self._paged(request, meetings, "meetings")

    def _create_meeting(
        self, host: dict[str, Any], body: dict[str, Any], base: str
    ) -> dict[str, Any]:
        _validate(body)
        self._count_against_daily_limit(host["id"])
        meeting_id = self._new_meeting_id()
        now = self.now()
        data: dict[str, Any] = {
            "uuid": base64.b64encode(secrets.token_bytes(16)).decode(),
            "id": meeting_id,
            "host_id": host["id"],
            "host_email": host["email"],
            "topic": str(body.get("topic") or "Zoom meeting"),
            "type": int(body.get("type", 2)),
            "status": "waiting",
            "start_time": _iso(now),
            "duration": int(body.get("duration", 60)),
            "timezone": str(body.get("timezone") or host["timezone"]),
            "agenda": str(body.get("agenda", "")),
            "created_at": _iso(now),
            "password": str(body.get("password") or _passcode()),
            "pre_schedule": False,
            "settings": dict(DEFAULT_SETTINGS),
        }
        data["join_url"] = f"{base}/j/{meeting_id}?pwd={secrets.token_urlsafe(24)}"
        meeting = _Meeting(data, host["account_id"])
        self._apply_update(meeting, body, host, base)
        self._meetings[meeting_id] = meeting
        return self._full(meeting, base)

    def _new_meeting_id(self) -> int:
        while True:
            candidate = 80_000_000_000 + secrets.randbelow(10_000_000_000)
            if candidate not in self._meetings:
                return candidate

    def _count_against_daily_limit(self, host_id: str) -> None:
        now = self.now()
        key = (host_id, now.astimezone(UTC).date())
        used = self._daily.get(key, 0)
        if used >= self.daily_meeting_limit:
            raise self._daily_limit_error(now)
        self._daily[key] = used + 1

    def _daily_limit_error(self, now: datetime) -> ZoomError:
        midnight = datetime.combine(
            now.astimezone(UTC).date() + timedelta(days=1), datetime.min.time(), UTC
        )
        message = (
            f"You have exceeded the daily rate limit ({self.daily_meeting_limit}) of Meeting "
            "Create/Update API requests permitted for this particular user. "
            "You may resume these requests at GMT 00:00:00."
        )
        headers = {
            "X-RateLimit-Type": "Daily-limit",
            "X-RateLimit-Limit": str(self.daily_meeting_limit),
            "X-RateLimit-Remaining": "0",
            "Retry-After": _iso(midnight),
        }
        return ZoomError(429, 429, message, headers=headers)

    def _apply_update(
        self, meeting: _Meeting, body: dict[str, Any], host: dict[str, Any], base: str
    ) -> None:
        data = meeting.data
        for key in _UPDATABLE:
            if key in body and key != "start_time":
                data[key] = int(body[key]) if key in ("type", "duration") else str(body[key])
        if body.get("start_time"):
            data["start_time"] = _to_utc(str(body["start_time"]), data["timezone"])
        settings = data["settings"]
        settings.update(body.get("settings") or {})
        if settings.get("waiting_room"):
            settings["join_before_host"] = False  # Zoom: a waiting room disables it
        if settings.get("approval_type") in (0, 1) and (data["type"] == 3 or host["type"] != 2):
            settings["approval_type"] = 2  # registration is silently refused here
        if settings.get("approval_type") in (0, 1):
            data.setdefault("registration_url", f"{base}/meeting/register/{_opaque()}")
        else:
            data.pop("registration_url", None)

    def _full(self, meeting: _Meeting, base: str) -> dict[str, Any]:
        """The meeting as GET/create answer it, with a freshly issued start_url."""
        zak = _opaque()
        self._zaks[zak] = (meeting.data["id"], self.now())
        full = _public(meeting.data)
        full["start_url"] = f"{base}/s/{meeting.data['id']}?zak={zak}"
        return full

    def _live(self, grant: _Grant, raw_id: str) -> _Meeting:
        try:
            meeting = self._meetings.get(int(raw_id))
        except ValueError:
            meeting = None
        if meeting is None or meeting.deleted or meeting.account_id != grant.account_id:
            raise _no_meeting(raw_id)
        return meeting

    async def _meeting_endpoint(self, request: Request) -> Response:
        base = self._remember_base(request)
        raw_id = request.path_params["meeting_id"]
        body = await _json_object(request) if request.method == "PATCH" else {}
        with self._lock:
            grant = self._grant(request)
            meeting = self._live(grant, raw_id)
            if request.method == "GET":
                return json_response(self._full(meeting, base))
            if request.method == "DELETE":
                meeting.deleted = True
                return Response(status_code=204)
            _validate(body)
            self._count_against_daily_limit(meeting.data["host_id"])
            self._apply_update(meeting, body, self._users[meeting.data["host_id"]], base)
            return Response(status_code=204)

    # Registrants.

    async def _registrants(self, request: Request) -> JSONResponse:
        base = self._remember_base(request)
        raw_id = request.path_params["meeting_id"]
        if request.method == "GET":
            with self._lock:
                meeting = self._live(self._grant(request), raw_id)
                status = request.query_params.get("status", "approved")
                items = [_registrant_view(r, meeting, base) for r in meeting.registrants]
                chosen = [r for r in items if r["status"] == status]
                return json_response(self._paged(request, chosen, "registrants"))
        body = await _json_object(request)
        with self._lock:
            meeting = self._live(self._grant(request), raw_id)
            return json_response(self._register(meeting, body, base), 201)

    def _register(self, meeting: _Meeting, body: dict[str, Any], base: str) -> dict[str, Any]:
        approval = meeting.data["settings"].get("approval_type")
        if approval not in (0, 1):
            message = f"Registration has not been enabled for this meeting: {meeting.data['id']}."
            raise ZoomError(404, 404, message)
        email = str(body.get("email", "")).strip()
        if "@" not in email:
            raise _invalid_field("email")
        if not str(body.get("first_name", "")).strip():
            raise _invalid_field("first_name")
        if email.lower() == meeting.data["host_email"].lower():
            raise ZoomError(400, 3027, "Host can not register")
        registrant = self._find_or_add(meeting, body, email, approval)
        return {
            "id": meeting.data["id"],
            "registrant_id": registrant.id,
            "join_url": _registrant_join_url(meeting, registrant, base),
            "topic": meeting.data["topic"],
            "start_time": meeting.data["start_time"],
            "occurrences": [],
            "participant_pin_code": secrets.randbelow(900_000) + 100_000,
        }

    def _find_or_add(
        self, meeting: _Meeting, body: dict[str, Any], email: str, approval: int
    ) -> _Registrant:
        for existing in meeting.registrants:
            if existing.email.lower() == email.lower() and existing.status != "denied":
                return existing  # Zoom hands back the same seat on re-registration
        registrant = _Registrant(
            id=secrets.token_urlsafe(16)[:22],
            email=email,
            first_name=str(body.get("first_name", "")),
            last_name=str(body.get("last_name", "")),
            status="approved" if approval == 0 else "pending",
            create_time=_iso(self.now()),
            token=_opaque(),
        )
        meeting.registrants.append(registrant)
        return registrant

    async def _registrant_status(self, request: Request) -> Response:
        self._remember_base(request)
        body = await _json_object(request)
        new_status = {"approve": "approved", "cancel": "denied", "deny": "denied"}
        with self._lock:
            meeting = self._live(self._grant(request), request.path_params["meeting_id"])
            status = new_status.get(str(body.get("action", "")))
            if status is None:
                raise _invalid_field("action")
            wanted = body.get("registrants") or []
            for registrant in meeting.registrants:
                if any(_names_registrant(w, registrant) for w in wanted):
                    registrant.status = status
            return Response(status_code=204)

    # Browser pages.

    async def _join_page(self, request: Request) -> Response:
        with self._lock:
            meeting = self._page_meeting(request)
            if meeting is None:
                return _page("Invalid meeting ID", "This meeting link is not valid.", 404)
            topic = meeting.data["topic"]
        return _page("Joined (simulated)", f"You joined meeting {meeting.data['id']}: {topic}.")

    async def _start_page(self, request: Request) -> Response:
        zak = request.query_params.get("zak", "")
        with self._lock:
            meeting = self._page_meeting(request)
            if meeting is None:
                return _page("Invalid meeting ID", "This meeting link is not valid.", 404)
            if not self._zak_is_fresh(zak, meeting):
                return _page("Link expired", "This start link is invalid or has expired.", 403)
            topic = meeting.data["topic"]
        return _page("Started (simulated)", f"You started meeting {meeting.data['id']}: {topic}.")

    def _zak_is_fresh(self, zak: str, meeting: _Meeting) -> bool:
        issued = self._zaks.get(zak)
        if issued is None or issued[0] != meeting.data["id"]:
            return False
        return self.now() - issued[1] <= timedelta(seconds=START_URL_SECONDS)

    async def _registrant_page(self, request: Request) -> Response:
        token = request.query_params.get("tk", "")
        with self._lock:
            meeting = self._page_meeting(request)
            seat = None
            if meeting is not None:
                seat = next((r for r in meeting.registrants if r.token == token), None)
            if meeting is None or seat is None:
                return _page("Invalid link", "This registration link is not valid.", 404)
            if seat.status != "approved":
                return _page("Not approved", "This registration is not approved.", 403)
            topic = meeting.data["topic"]
        return _page(
            "Joined (simulated)", f"{seat.email} joined meeting {meeting.data['id']}: {topic}."
        )

    def _page_meeting(self, request: Request) -> _Meeting | None:
        try:
            meeting = self._meetings.get(int(request.path_params["meeting_id"]))
        except ValueError:
            return None
        return None if meeting is None or meeting.deleted else meeting


async def _zoom_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ZoomError)
    return exc.response()


async def _oauth_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OAuthError)
    return json_response({"reason": exc.reason, "error": exc.error}, exc.status)


async def _json_object(request: Request) -> dict[str, Any]:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ZoomError(400, 300, "Request Body should be a valid JSON object.")
    return body


def _validate(body: dict[str, Any]) -> None:
    if len(str(body.get("agenda", ""))) > AGENDA_MAX:
        raise _invalid_field("agenda")
    if len(str(body.get("topic", ""))) > TOPIC_MAX:
        raise _invalid_field("topic")
    if "settings" in body and not isinstance(body["settings"], dict):
        raise _invalid_field("settings")
    try:
        int(body.get("duration", 0))
        int(body.get("type", 2))
    except (TypeError, ValueError):
        raise _invalid_field("duration/type") from None
    if body.get("start_time"):
        _to_utc(str(body["start_time"]), str(body.get("timezone") or "UTC"))


def _to_utc(value: str, timezone: str) -> str:
    """Zoom takes "yyyy-MM-ddTHH:mm:ssZ" (UTC) or a local time plus `timezone`."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _invalid_field("start_time") from None
    if moment.tzinfo is None:
        try:
            zone: Any = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = UTC
        moment = moment.replace(tzinfo=zone)
    return _iso(moment)


def _end(data: dict[str, Any]) -> datetime:
    start = datetime.fromisoformat(data["start_time"].replace("Z", "+00:00"))
    return start + timedelta(minutes=int(data["duration"]))


def _public(data: dict[str, Any]) -> dict[str, Any]:
    copy = dict(data)
    copy["settings"] = dict(data["settings"])
    return copy


def _summary(data: dict[str, Any], *, agenda_chars: int | None = None) -> dict[str, Any]:
    keys = (
        "uuid",
        "id",
        "host_id",
        "topic",
        "type",
        "start_time",
        "duration",
        "timezone",
        "agenda",
        "created_at",
        "join_url",
    )
    summary = {k: data[k] for k in keys}
    if agenda_chars is not None:
        summary["agenda"] = str(summary["agenda"])[:agenda_chars]
    return summary


def _user_summary(user: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in user.items() if k != "account_id"}


def _registrant_join_url(meeting: _Meeting, registrant: _Registrant, base: str) -> str:
    return f"{base}/w/{meeting.data['id']}?tk={registrant.token}"


def _registrant_view(registrant: _Registrant, meeting: _Meeting, base: str) -> dict[str, Any]:
    return {
        "id": registrant.id,
        "email": registrant.email,
        "first_name": registrant.first_name,
        "last_name": registrant.last_name,
        "status": registrant.status,
        "create_time": registrant.create_time,
        "join_url": _registrant_join_url(meeting, registrant, base),
    }


def _names_registrant(wanted: Any, registrant: _Registrant) -> bool:
    if not isinstance(wanted, dict):
        return False
    email = str(wanted.get("email", "")).lower()
    return wanted.get("id") == registrant.id or (bool(email) and email == registrant.email.lower())


def _page(title: str, text: str, status: int = 200) -> HTMLResponse:
    body = (
        f"<!doctype html><html><head><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
    )
    return HTMLResponse(body, status_code=status)


def _passcode() -> str:
    alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(6))


def _opaque() -> str:
    return secrets.token_urlsafe(24)
