"""A Microsoft simulator: the identity platform as msal drives it, and Graph online meetings.

One app serves both halves, so it can be put behind two servers (the identity part
over HTTPS, because msal refuses an http authority, and Graph over either) that
share one state:
- identity: /{tenant}/v2.0/.well-known/openid-configuration, /{tenant}/oauth2/v2.0/
  authorize and token, /{tenant}/discovery/v2.0/keys; the tenant segment is
  `organizations`, `common` or a tenant id;
- Graph: /v1.0/me, /v1.0/me/onlineMeetings[/createOrGet|/{id}];
- join pages: /l/meetup-join/... (each meeting's joinWebUrl has the real path shape,
  on the simulator's host, so end-to-end tests can follow it).

Wire facts relied on, and where they come from:
- Discovery: `issuer` is "https://login.microsoftonline.com/{tenantid}/v2.0" with the
  literal placeholder for /organizations and /common, the tenant id otherwise; id
  tokens carry the signing-in user's home tenant in `iss` ("/{tid}/v2.0"). An unknown
  tenant answers 400 invalid_tenant AADSTS90002 (login.microsoftonline.com discovery
  documents; msal's authority.py quotes that answer). msal 1.39 reads only
  authorization_endpoint, token_endpoint, issuer and device_authorization_endpoint, and
  takes the tenant from token_endpoint's path (msal/authority.py). A string
  client_credential goes in the token request body as client_secret (application.py);
  the token endpoint also takes HTTP Basic, as the real one does.
- msal 1.39 no longer validates id tokens (msal/oauth2cli/oidc.py, AzureAD
  microsoft-authentication-library-for-python issue #911): an unsigned `alg: none` token
  is accepted, and `iss` is not compared with the discovery issuer. It still demands
  that the id token `nonce` equals what it sent to authorize, which is already the
  SHA-256 hex of the flow's nonce (oidc.py obtain_token_by_auth_code_flow). It builds
  the account from `client_info`, base64url JSON {"uid", "utid"} returned because it
  sends client_info=1 (token_cache.py), and treats a cached access token with under
  five minutes left as expired (application.py), so a short `expires_in` makes
  acquire_token_silent refresh. It warns unless response_mode="form_post" (oauth2.py);
  form_post answers are an auto-submitting HTML form POSTed to redirect_uri
  (OAuth 2.0 Form Post Response Mode).
- PKCE: msal sends code_challenge with code_challenge_method=S256; a wrong verifier is
  400 invalid_grant AADSTS50148 "The code_verifier does not match the code_challenge
  supplied in the authorization request for PKCE." (reports of real answers).
- Token errors are {"error", "error_description", "error_codes", "timestamp",
  "trace_id", "correlation_id", "error_uri"}, the description ending in
  "\\r\\nTrace ID: ...\\r\\nCorrelation ID: ...\\r\\nTimestamp: ..." (Microsoft Entra
  "authentication and authorization error codes" reference). Codes used: 54005 code
  already redeemed, 70008 expired code or refresh token, 700082 refresh token expired
  by inactivity, 50173 grant revoked, 9002313 malformed request, 7000215 wrong client
  secret, 7000218 no secret (401 invalid_client), 700016 unknown application, 70003
  unsupported grant type, 500112 reply address mismatch.
- A personal Microsoft account on an /organizations-only endpoint fails with
  AADSTS500200 "User account '...' is a personal Microsoft account. Personal Microsoft
  accounts are not supported for this application unless explicitly invited to an
  organization. Try signing out and signing back in with an organizational account."
  (files-community/Files issue #17852, 2025); an account from another directory (or a
  personal one) on a single-tenant endpoint fails with AADSTS50020 (next-auth
  discussion #7448, MicrosoftDocs azure-docs issue #57031). The real service mostly
  shows these on its own error page; this simulator redirects them to redirect_uri as
  error=invalid_request, as it does for errors it can redirect, so clients see them.
- Personal accounts have tid 9188040d-6c67-4c5b-b112-36a304b66dad and an oid of the
  form 00000000-0000-0000-xxxx-xxxxxxxxxxxx.
- Real Entra refresh tokens stay valid after use until they expire or are revoked;
  `single_use_refresh_tokens` (default True) is stricter, to catch clients that lose
  the rotated token. Set it False for the real behaviour.
- Graph errors are {"error": {"code", "message", "innerError": {"date",
  "request-id", "client-request-id"}}} (Graph "errors" documentation). 401
  InvalidAuthenticationToken: "Access token is empty.", "Access token has expired or
  is not yet valid."; a revoked grant is answered the way continuous access
  evaluation does (without it, real access tokens outlive revocation for up to their
  lifetime). 429 TooManyRequests with Retry-After in seconds (Graph throttling
  guidance). Cloud-communications errors use PascalCase codes ("BadRequest",
  "NotFound", "Forbidden"); the exact 403/404 messages are not documented, so clients
  must key on the status.
- onlineMeetings (Graph v1.0 reference): create answers 201; createOrGet answers 201
  when it creates and 200 with the stored meeting (unchanged) when the same organizer
  repeats an externalId, the key being tenant + organizer + externalId; without times
  the meeting starts now and lasts an hour, an end without a start or an end before
  the start is an error; PATCH answers 200 with the meeting and needs both times to
  move it; DELETE answers 204. Times come back in UTC with seven fractional digits.
  Ids are base64 of "1*{organizer oid}*0**{thread id}" (here base64url without
  padding, so they never need quoting in a path). joinWebUrl is
  /l/meetup-join/19%3ameeting_...%40thread.v2/0?context={"Tid","Oid"}. Personal
  accounts are not supported for online meetings (permissions table).
- After a real DELETE the join link keeps working (microsoft-graph-docs issue
  #17590); here the join page answers 404 once the meeting is deleted.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import unquote_plus

from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from simulators.base import Simulator, add_query, base_url, json_response, read_form

CONSUMER_TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"
DEFAULT_TENANT_ID = "6f1c3b2a-4d5e-4f60-8a7b-9c0d1e2f3a4b"
DEFAULT_CLIENT_ID = "2b7f4c1e-8a3d-4e6f-9b0a-1c2d3e4f5a6b"
# A well-known fake secret, so tests and the sandbox need no configuration.
DEFAULT_CLIENT_SECRET = "microsoft-client-secret"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
ACCESS_TOKEN_SECONDS = 3600
ID_TOKEN_SECONDS = 3600
CODE_SECONDS = 600
MEETING_DEFAULT_LENGTH = timedelta(hours=1)
MULTI_TENANT_SEGMENTS = ("organizations", "common")
# Scopes msal adds by itself; the rest name Graph permissions.
OIDC_SCOPES = ("openid", "profile", "email", "offline_access")
_GRAPH_CREATE_KEYS = frozenset(
    {
        "startDateTime",
        "endDateTime",
        "subject",
        "externalId",
        "participants",
        "lobbyBypassSettings",
        "allowedPresenters",
        "isEntryExitAnnounced",
        "joinMeetingIdSettings",
        "allowMeetingChat",
        "allowAttendeeToEnableCamera",
        "allowAttendeeToEnableMic",
        "allowTeamworkReactions",
        "recordAutomatically",
        "allowRecording",
        "allowTranscription",
        "chatInfo",
    }
)
_GRAPH_PATCH_KEYS = _GRAPH_CREATE_KEYS - {"externalId", "joinMeetingIdSettings", "chatInfo"}
# Settings stored as given and echoed back; the simulator does not interpret them.
_ECHOED_KEYS = _GRAPH_CREATE_KEYS - {
    "startDateTime",
    "endDateTime",
    "subject",
    "externalId",
    "participants",
    "joinMeetingIdSettings",
    "chatInfo",
}


class AccountKind(StrEnum):
    WORK = "work"  # a work account of the company's own tenant
    EXTERNAL = "external"  # a work account of some other organisation's tenant
    PERSONAL = "personal"  # a personal Microsoft account (outlook.com, ...)


@dataclass(frozen=True)
class MicrosoftUser:
    oid: str
    tid: str
    display_name: str
    upn: str
    mail: str
    kind: AccountKind

    @property
    def personal(self) -> bool:
        return self.kind is AccountKind.PERSONAL

    @property
    def home_account_id(self) -> str:
        """msal's account key: "{uid}.{utid}" from client_info."""
        return f"{self.oid}.{self.tid}"


class IdentityError(Exception):
    """An error of the token or discovery endpoints, in the identity platform's shape."""

    def __init__(self, status: int, error: str, code: int, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.code, self.description = status, error, code, description

    def response(self, correlation_id: str) -> JSONResponse:
        trace_id = str(uuid.uuid4())
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        body = {
            "error": self.error,
            "error_description": (
                f"AADSTS{self.code}: {self.description}\r\nTrace ID: {trace_id}"
                f"\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {stamp}"
            ),
            "error_codes": [self.code],
            "timestamp": stamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": f"https://login.microsoftonline.com/error?code={self.code}",
        }
        return json_response(body, self.status, {"Cache-Control": "no-store"})


class GraphError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


def _invalid_grant(code: int, description: str) -> IdentityError:
    return IdentityError(400, "invalid_grant", code, description)


def _unauthenticated(message: str) -> GraphError:
    challenge = (
        'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/'
        f'oauth2/authorize", client_id="{GRAPH_APP_ID}"'
    )
    return GraphError(401, "InvalidAuthenticationToken", message, {"WWW-Authenticate": challenge})


def _bad_request(message: str) -> GraphError:
    return GraphError(400, "BadRequest", message)


def _no_meeting() -> GraphError:
    return GraphError(404, "NotFound", "The specified online meeting could not be found.")


_EXPIRED_CODE = (
    "The provided authorization code or refresh token has expired due to inactivity. "
    "Send a new interactive authorization request for this user and resource."
)
_MALFORMED = "Invalid request. Request is malformed or invalid."


@dataclass
class _Code:
    user: MicrosoftUser
    client_id: str
    redirect_uri: str
    challenge: str
    challenge_method: str
    nonce: str | None
    scopes: list[str]
    expires: float
    redeemed: bool = False


@dataclass
class _Refresh:
    user: MicrosoftUser
    scopes: list[str]
    issued: datetime
    # live, rotated (replaced by a newer one), revoked, expired
    state: str = "live"
    revoked_at: datetime | None = None


@dataclass
class _Access:
    user: MicrosoftUser
    expires: float
    revoked: bool = False


@dataclass
class _Meeting:
    id: str
    organizer: MicrosoftUser
    thread_id: str
    external_id: str | None
    subject: str
    start: datetime
    end: datetime
    created: datetime
    join_url: str
    join_meeting_id: str
    passcode: str
    attendees: list[Any] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False


def _utc_now() -> datetime:
    return datetime.now(UTC)


class MicrosoftSimulator(Simulator):
    """Identity platform + Graph online meetings, with switches for tests.

    Who signs in at /authorize: `signing_in` when a test set it, else the registered
    user named by the request's `login_hint`, else the first user added.
    """

    def __init__(
        self,
        *,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        tenant_id: str = DEFAULT_TENANT_ID,
        redirect_uris: Iterable[str] | None = None,
    ) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.tenant_id = tenant_id
        # None accepts any redirect_uri; a list is the app registration's reply URLs.
        self.redirect_uris = list(redirect_uris) if redirect_uris is not None else None
        self.signing_in: MicrosoftUser | None = None
        # Let personal accounts through /organizations, to exercise a client's own check.
        self.personal_accounts_pass = False
        self.single_use_refresh_tokens = True
        self.access_token_seconds = ACCESS_TOKEN_SECONDS
        self.code_seconds = CODE_SECONDS
        # Wall clock for token claims and meeting times; expiry uses a monotonic clock.
        self.now: Callable[[], datetime] = _utc_now
        self.token_requests: list[dict[str, str]] = []
        self.refresh_count = 0
        self._identity_base = "https://login.microsoftonline.com"
        self._users: list[MicrosoftUser] = []
        self._codes: dict[str, _Code] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._access: dict[str, _Access] = {}
        self._meetings: dict[str, _Meeting] = {}
        self._denied: set[str] = set()
        self._throttle_left = 0
        self._retry_after = 0
        self.app = self._wrap(self._build_app())

    # Users.

    def add_user(
        self,
        display_name: str,
        upn: str,
        *,
        kind: AccountKind | str = AccountKind.WORK,
        oid: str | None = None,
        tid: str | None = None,
        mail: str | None = None,
    ) -> MicrosoftUser:
        account_kind = AccountKind(kind)
        user = MicrosoftUser(
            oid=oid or _new_oid(account_kind),
            tid=tid or self._default_tid(account_kind),
            display_name=display_name,
            upn=upn,
            mail=mail if mail is not None else upn,
            kind=account_kind,
        )
        with self._lock:
            self._users.append(user)
        return user

    def _default_tid(self, kind: AccountKind) -> str:
        if kind is AccountKind.PERSONAL:
            return CONSUMER_TENANT_ID
        return self.tenant_id if kind is AccountKind.WORK else str(uuid.uuid4())

    # Test switches and state.

    def issue_tokens(
        self, user: MicrosoftUser, scopes: Iterable[str] = ("OnlineMeetings.ReadWrite", "User.Read")
    ) -> dict[str, Any]:
        """Tokens as the token endpoint gives them, without the sign-in dance."""
        wanted = [*scopes, "openid", "profile", "offline_access"]
        with self._lock:
            return self._issue(user, wanted, self._identity_base, nonce=None, client_info=True)

    def expire_access_tokens(self) -> None:
        """Graph rejects every access token issued so far; clients must refresh."""
        with self._lock:
            for grant in self._access.values():
                grant.expires = 0.0

    def expire_refresh_tokens(self, user: MicrosoftUser | None = None) -> None:
        """Live refresh tokens die as after 90 days of inactivity (AADSTS700082)."""
        with self._lock:
            for grant in self._refresh.values():
                if grant.state == "live" and user in (None, grant.user):
                    grant.state = "expired"

    def revoke(self, user: MicrosoftUser) -> None:
        """As an admin revoking sessions: refresh tokens, codes and access tokens die."""
        with self._lock:
            now = self.now()
            for grant in self._refresh.values():
                if grant.user == user and grant.state in ("live", "rotated"):
                    grant.state, grant.revoked_at = "revoked", now
            for access in self._access.values():
                access.revoked = access.revoked or access.user == user
            self._codes = {c: v for c, v in self._codes.items() if v.user != user}

    def deny_online_meetings(self, user: MicrosoftUser, denied: bool = True) -> None:
        """The user's tenant policy forbids online meetings: Graph answers 403."""
        with self._lock:
            if denied:
                self._denied.add(user.oid)
            else:
                self._denied.discard(user.oid)

    def throttle(self, times: int = 1, retry_after: int = 1) -> None:
        """The next `times` authenticated Graph requests get 429 with Retry-After."""
        with self._lock:
            self._throttle_left, self._retry_after = times, retry_after

    def meetings_of(self, user: MicrosoftUser) -> list[dict[str, Any]]:
        with self._lock:
            return [
                _view(m) for m in self._meetings.values() if m.organizer == user and not m.deleted
            ]

    def meeting(self, meeting_id: str) -> dict[str, Any] | None:
        """The stored meeting as Graph shows it, or None once deleted."""
        with self._lock:
            found = self._meetings.get(meeting_id)
            return None if found is None or found.deleted else _view(found)

    def created_count(self) -> int:
        with self._lock:
            return len(self._meetings)

    def issued_tokens(self) -> list[str]:
        """Every access and refresh token still known, for tests that look for leaks."""
        with self._lock:
            return [*self._access, *self._refresh]

    # App.

    def _build_app(self) -> Starlette:
        identity = "/{tenant}/oauth2/v2.0"
        meetings = "/v1.0/me/onlineMeetings"
        routes = [
            Route("/{tenant}/v2.0/.well-known/openid-configuration", self._discovery),
            Route("/{tenant}/discovery/v2.0/keys", self._keys),
            Route(identity + "/authorize", self._authorize, methods=["GET"]),
            Route(identity + "/token", self._token, methods=["POST"]),
            Route("/v1.0/me", self._me, methods=["GET"]),
            Route(meetings, self._create, methods=["POST"]),
            Route(meetings + "/createOrGet", self._create_or_get, methods=["POST"]),
            Route(meetings + "/{meeting_id}", self._one, methods=["GET", "PATCH", "DELETE"]),
            Route("/l/meetup-join/{rest:path}", self._join_page, methods=["GET"]),
        ]
        return Starlette(
            routes=routes,
            exception_handlers={IdentityError: _identity_error, GraphError: _graph_error},
        )

    # Identity: discovery.

    async def _discovery(self, request: Request) -> JSONResponse:
        tenant = request.path_params["tenant"]
        base = self._remember_identity_base(request)
        with self._lock:
            self._check_tenant(tenant)
        issuer_tenant = "{tenantid}" if tenant in MULTI_TENANT_SEGMENTS else tenant
        root = f"{base}/{tenant}"
        return json_response(
            {
                "issuer": f"{base}/{issuer_tenant}/v2.0",
                "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                "token_endpoint": f"{root}/oauth2/v2.0/token",
                "jwks_uri": f"{root}/discovery/v2.0/keys",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "response_modes_supported": ["query", "fragment", "form_post"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": list(OIDC_SCOPES),
                "claims_supported": [
                    *("sub", "iss", "aud", "exp", "iat", "auth_time", "nonce"),
                    *("preferred_username", "name", "tid", "ver", "oid", "email"),
                ],
                "request_uri_parameter_supported": False,
                "tenant_region_scope": None,
                "cloud_instance_name": "microsoftonline.com",
                "msgraph_host": "graph.microsoft.com",
            }
        )

    async def _keys(self, request: Request) -> JSONResponse:
        # Id tokens are unsigned here, so there is no key to publish.
        return json_response({"keys": []})

    def _remember_identity_base(self, request: Request) -> str:
        self._identity_base = base_url(request)
        return self._identity_base

    def _check_tenant(self, tenant: str) -> None:
        known = {*MULTI_TENANT_SEGMENTS, self.tenant_id, CONSUMER_TENANT_ID}
        if tenant not in known | {u.tid for u in self._users}:
            raise IdentityError(
                400,
                "invalid_tenant",
                90002,
                f"Tenant '{tenant}' not found. Check to make sure you have the correct "
                "tenant ID and are signing into the correct cloud.",
            )

    # Identity: the user signing in.

    async def _authorize(self, request: Request) -> Response:
        q = request.query_params
        tenant = request.path_params["tenant"]
        self._remember_identity_base(request)
        with self._lock:
            problem = self._authorize_problem(q, tenant)
            if problem is not None:
                return _page("Sign in failed (simulated Microsoft)", problem, 400)
            user = self._user_signing_in(q.get("login_hint"))
            if user is None:
                return _page("Sign in failed (simulated Microsoft)", "No account to sign in.", 400)
            refusal = self._refusal(user, tenant)
            params = refusal if refusal is not None else self._new_code(user, q)
        if "state" in q:
            params["state"] = q["state"]
        if q.get("response_mode") == "form_post":
            return _form_post(q["redirect_uri"], params)
        return RedirectResponse(add_query(q["redirect_uri"], params), status_code=302)

    def _authorize_problem(self, q: QueryParams, tenant: str) -> str | None:
        """Errors the real service shows on its own page: redirect_uri is not trusted yet."""
        try:
            self._check_tenant(tenant)
        except IdentityError as exc:
            return f"AADSTS{exc.code}: {exc.description}"
        if q.get("client_id") != self.client_id:
            return (
                f"AADSTS700016: Application with identifier '{q.get('client_id')}' was not found."
            )
        redirect_uri = q.get("redirect_uri", "")
        if not redirect_uri or (
            self.redirect_uris is not None and redirect_uri not in self.redirect_uris
        ):
            return (
                f"AADSTS50011: The redirect URI '{redirect_uri}' specified in the request does "
                f"not match the redirect URIs configured for the application '{self.client_id}'."
            )
        if q.get("response_type") != "code":
            return (
                f"AADSTS700054: response_type '{q.get('response_type')}' is not enabled for "
                "the application."
            )
        return None

    def _user_signing_in(self, login_hint: str | None) -> MicrosoftUser | None:
        if self.signing_in is not None:
            return self.signing_in
        hinted = [u for u in self._users if login_hint and u.upn.lower() == login_hint.lower()]
        candidates = hinted or self._users
        return candidates[0] if candidates else None

    def _refusal(self, user: MicrosoftUser, tenant: str) -> dict[str, str] | None:
        """The error a sign-in at this authority ends in, or None when it succeeds."""
        if tenant in MULTI_TENANT_SEGMENTS and not user.personal:
            return None
        if tenant == "common" or (tenant == "organizations" and self.personal_accounts_pass):
            return None
        if tenant == "organizations":
            return _sign_in_error(
                500200,
                f"User account '{user.upn}' is a personal Microsoft account. Personal Microsoft "
                "accounts are not supported for this application unless explicitly invited to "
                "an organization. Try signing out and signing back in with an organizational "
                "account.",
            )
        if tenant == user.tid:
            return None
        provider = "live.com" if user.personal else f"https://sts.windows.net/{user.tid}/"
        return _sign_in_error(
            50020,
            f"User account '{user.upn}' from identity provider '{provider}' does not exist in "
            f"tenant '{tenant}' and cannot access the application '{self.client_id}' in that "
            "tenant. The account needs to be added as an external user in the tenant first. "
            "Sign out and sign in again with a different Azure Active Directory user account.",
        )

    def _new_code(self, user: MicrosoftUser, q: QueryParams) -> dict[str, str]:
        code = secrets.token_urlsafe(48)
        self._codes[code] = _Code(
            user=user,
            client_id=q["client_id"],
            redirect_uri=q["redirect_uri"],
            challenge=q.get("code_challenge", ""),
            challenge_method=q.get("code_challenge_method", "plain"),
            nonce=q.get("nonce"),
            scopes=q.get("scope", "").split(),
            expires=time.monotonic() + self.code_seconds,
        )
        params = {"code": code, "session_state": str(uuid.uuid4())}
        if q.get("client_info") == "1":
            params["client_info"] = _client_info(user)
        return params

    # Identity: tokens.

    async def _token(self, request: Request) -> JSONResponse:
        form = await read_form(request)
        base = self._remember_identity_base(request)
        with self._lock:
            self.token_requests.append(form)
            self._authenticate_client(request, form)
            grant_type = form.get("grant_type", "")
            if grant_type == "authorization_code":
                answer = self._redeem_code(form, base)
            elif grant_type == "refresh_token":
                answer = self._redeem_refresh(form, base)
            else:
                raise IdentityError(
                    400,
                    "unsupported_grant_type",
                    70003,
                    f"The app requested an unsupported grant type '{grant_type}'.",
                )
        return json_response(answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    def _authenticate_client(self, request: Request, form: dict[str, str]) -> None:
        client_id, secret = _basic_credentials(request)
        client_id = client_id or form.get("client_id", "")
        secret = secret or form.get("client_secret", "")
        if client_id != self.client_id:
            raise IdentityError(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory.",
            )
        if not secret:
            raise IdentityError(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' "
                "or 'client_secret'.",
            )
        if not secrets.compare_digest(secret, self.client_secret):
            raise IdentityError(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is "
                f"the client secret value, not the client secret ID, for a secret added to app "
                f"'{self.client_id}'.",
            )

    def _redeem_code(self, form: dict[str, str], base: str) -> dict[str, Any]:
        code = self._codes.get(form.get("code", ""))
        if code is None:
            raise _invalid_grant(9002313, _MALFORMED)
        if code.redeemed:
            raise _invalid_grant(
                54005,
                "OAuth2 Authorization code was already redeemed, please retry with a new "
                "valid code or use an existing refresh token.",
            )
        if code.expires < time.monotonic():
            raise _invalid_grant(70008, _EXPIRED_CODE)
        if form.get("redirect_uri", "") != code.redirect_uri:
            raise _invalid_grant(
                500112,
                f"The reply address '{form.get('redirect_uri', '')}' does not match the reply "
                f"address '{code.redirect_uri}' provided when requesting Authorization code.",
            )
        if not _pkce_ok(code, form.get("code_verifier", "")):
            raise _invalid_grant(
                50148,
                "The code_verifier does not match the code_challenge supplied in the "
                "authorization request for PKCE.",
            )
        code.redeemed = True
        scopes = form.get("scope", "").split() or code.scopes
        wants_info = form.get("client_info") == "1"
        return self._issue(code.user, scopes, base, nonce=code.nonce, client_info=wants_info)

    def _redeem_refresh(self, form: dict[str, str], base: str) -> dict[str, Any]:
        grant = self._refresh.get(form.get("refresh_token", ""))
        if grant is None:
            raise _invalid_grant(9002313, _MALFORMED)
        _check_refresh_state(grant)
        if self.single_use_refresh_tokens:
            grant.state = "rotated"
        self.refresh_count += 1
        scopes = form.get("scope", "").split() or grant.scopes
        wants_info = form.get("client_info") == "1"
        return self._issue(grant.user, scopes, base, nonce=None, client_info=wants_info)

    def _issue(
        self,
        user: MicrosoftUser,
        scopes: list[str],
        base: str,
        *,
        nonce: str | None,
        client_info: bool,
    ) -> dict[str, Any]:
        now = self.now()
        seconds = self.access_token_seconds
        granted = [s for s in scopes if s != "offline_access"]
        access = _access_token(user, [s for s in granted if s not in OIDC_SCOPES], now, seconds)
        self._access[access] = _Access(user, time.monotonic() + seconds)
        answer: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join(granted),
            "expires_in": seconds,
            "ext_expires_in": seconds,
            "access_token": access,
        }
        if "offline_access" in scopes:
            refresh = secrets.token_urlsafe(64)
            self._refresh[refresh] = _Refresh(user, list(scopes), now)
            answer["refresh_token"] = refresh
        if "openid" in scopes:
            answer["id_token"] = self._id_token(user, base, now, nonce)
        if client_info:
            answer["client_info"] = _client_info(user)
        return answer

    def _id_token(self, user: MicrosoftUser, base: str, now: datetime, nonce: str | None) -> str:
        issued = int(now.timestamp())
        claims: dict[str, Any] = {
            "aud": self.client_id,
            "iss": f"{base}/{user.tid}/v2.0",
            "iat": issued,
            "nbf": issued,
            "exp": issued + ID_TOKEN_SECONDS,
            "name": user.display_name,
            "oid": user.oid,
            "preferred_username": user.upn,
            "sub": _pairwise_sub(user, self.client_id),
            "tid": user.tid,
            "uti": secrets.token_urlsafe(16),
            "ver": "2.0",
        }
        if nonce is not None:
            claims["nonce"] = nonce
        return _unsigned_jwt(claims)

    # Graph.

    def _caller(self, request: Request) -> MicrosoftUser:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _unauthenticated("Access token is empty.")
        grant = self._access.get(token)
        if grant is None:
            raise _unauthenticated("IDX14100: JWT is not well formed.")
        if grant.revoked:
            raise _unauthenticated(
                "Continuous access evaluation resulted in challenge with result: "
                "InteractionRequired and code: TokenIssuedBeforeRevocationTimestamp"
            )
        if grant.expires < time.monotonic():
            raise _unauthenticated("Access token has expired or is not yet valid.")
        self._take_throttle()
        return grant.user

    def _take_throttle(self) -> None:
        if self._throttle_left > 0:
            self._throttle_left -= 1
            headers = {"Retry-After": str(self._retry_after)}
            raise GraphError(429, "TooManyRequests", "Please retry again later.", headers)

    def _organizer(self, request: Request) -> MicrosoftUser:
        user = self._caller(request)
        if user.personal:
            raise GraphError(
                403, "Forbidden", "Online meetings are not supported for personal accounts."
            )
        if user.oid in self._denied:
            raise GraphError(
                403,
                "Forbidden",
                "The organizer's meeting policy does not allow creating online meetings.",
            )
        return user

    async def _me(self, request: Request) -> JSONResponse:
        with self._lock:
            user = self._caller(request)
        given, _, surname = user.display_name.partition(" ")
        return json_response(
            {
                "@odata.context": f"{base_url(request)}/v1.0/$metadata#users/$entity",
                "businessPhones": [],
                "displayName": user.display_name,
                "givenName": given or None,
                "jobTitle": None,
                "mail": user.mail or None,
                "mobilePhone": None,
                "officeLocation": None,
                "preferredLanguage": None,
                "surname": surname or None,
                "userPrincipalName": user.upn,
                "id": user.oid,
            }
        )

    async def _create(self, request: Request) -> JSONResponse:
        body = await _graph_body(request, _GRAPH_CREATE_KEYS)
        with self._lock:
            organizer = self._organizer(request)
            meeting = self._new_meeting(organizer, body, base_url(request))
            return json_response(_view(meeting), 201)

    async def _create_or_get(self, request: Request) -> JSONResponse:
        body = await _graph_body(request, _GRAPH_CREATE_KEYS)
        with self._lock:
            organizer = self._organizer(request)
            external_id = body.get("externalId")
            if not isinstance(external_id, str) or not external_id.strip():
                raise _bad_request("externalId is required.")
            existing = self._by_external_id(organizer, external_id)
            if existing is not None:
                return json_response(_view(existing), 200)
            meeting = self._new_meeting(organizer, body, base_url(request))
            return json_response(_view(meeting), 201)

    def _by_external_id(self, organizer: MicrosoftUser, external_id: str) -> _Meeting | None:
        for meeting in self._meetings.values():
            same = meeting.organizer == organizer and meeting.external_id == external_id
            if same and not meeting.deleted:
                return meeting
        return None

    def _new_meeting(self, organizer: MicrosoftUser, body: dict[str, Any], origin: str) -> _Meeting:
        start, end = self._times(body, creating=True)
        subject = _subject(body)
        thread_id = f"19:meeting_{_b64url(secrets.token_bytes(30))}@thread.v2"
        meeting = _Meeting(
            id=_b64url(f"1*{organizer.oid}*0**{thread_id}".encode()),
            organizer=organizer,
            thread_id=thread_id,
            external_id=body.get("externalId"),
            subject=subject if subject is not None else "",
            start=start,
            end=end,
            created=self.now(),
            join_url=_join_url(origin, thread_id, organizer),
            join_meeting_id=str(secrets.randbelow(9 * 10**11) + 10**11),
            passcode=_passcode(),
        )
        _apply_settings(meeting, body)
        self._meetings[meeting.id] = meeting
        return meeting

    def _times(self, body: dict[str, Any], *, creating: bool) -> tuple[datetime, datetime]:
        has_start, has_end = "startDateTime" in body, "endDateTime" in body
        if has_end and not has_start:
            raise _bad_request("endDateTime cannot be set without startDateTime.")
        if not creating and has_start != has_end:
            raise _bad_request("Both startDateTime and endDateTime are required to change times.")
        start = _parse_time(body, "startDateTime") if has_start else self.now()
        end = _parse_time(body, "endDateTime") if has_end else start + MEETING_DEFAULT_LENGTH
        if end < start:
            raise _bad_request("endDateTime must be later than startDateTime.")
        return start, end

    async def _one(self, request: Request) -> Response:
        body: dict[str, Any] = {}
        if request.method == "PATCH":
            body = await _graph_body(request, _GRAPH_PATCH_KEYS)
        with self._lock:
            organizer = self._organizer(request)
            meeting = self._meetings.get(request.path_params["meeting_id"])
            if meeting is None or meeting.deleted or meeting.organizer != organizer:
                raise _no_meeting()
            if request.method == "DELETE":
                meeting.deleted = True
                return Response(status_code=204)
            if request.method == "PATCH":
                self._update(meeting, body)
            return json_response(_view(meeting))

    def _update(self, meeting: _Meeting, body: dict[str, Any]) -> None:
        if "startDateTime" in body or "endDateTime" in body:
            meeting.start, meeting.end = self._times(body, creating=False)
        subject = _subject(body)
        if subject is not None:
            meeting.subject = subject
        _apply_settings(meeting, body)

    async def _join_page(self, request: Request) -> Response:
        thread_id = request.path_params["rest"].split("/", 1)[0]
        with self._lock:
            found = next(
                (m for m in self._meetings.values() if m.thread_id == thread_id and not m.deleted),
                None,
            )
            if found is None:
                return _page("Meeting not found", "This meeting link is not valid.", 404)
            subject, organizer = found.subject, found.organizer.display_name
        return _page(
            "Joined (simulated Teams)", f"You joined {subject!r}, organized by {organizer}."
        )


# Protocol helpers.


def _check_refresh_state(grant: _Refresh) -> None:
    issued = grant.issued.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if grant.state == "revoked":
        revoked = (grant.revoked_at or grant.issued).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        raise _invalid_grant(
            50173,
            "The provided grant has expired due to it being revoked, a fresh auth token is "
            "needed. The user might have changed or reset their password. The grant was issued "
            f"on '{issued}' and the TokensValidFrom date (before which tokens are not valid) for "
            f"this user is '{revoked}'.",
        )
    if grant.state == "expired":
        raise _invalid_grant(
            700082,
            f"The refresh token has expired due to inactivity. The token was issued on {issued} "
            "and was inactive for 90.00:00:00.",
        )
    if grant.state == "rotated":
        raise _invalid_grant(70008, _EXPIRED_CODE)


def _pkce_ok(code: _Code, verifier: str) -> bool:
    if not code.challenge:
        return True
    if not verifier:
        return False
    if code.challenge_method == "S256":
        computed = _b64url(hashlib.sha256(verifier.encode("ascii")).digest())
    else:
        computed = verifier
    return secrets.compare_digest(computed, code.challenge)


def _basic_credentials(request: Request) -> tuple[str, str]:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(encoded, validate=True).decode()
    except ValueError:
        return "", ""
    client_id, _, secret = decoded.partition(":")
    # RFC 6749 2.3.1: both parts are form-encoded before being joined.
    return unquote_plus(client_id), unquote_plus(secret)


def _sign_in_error(code: int, description: str) -> dict[str, str]:
    trace_id, correlation_id = uuid.uuid4(), uuid.uuid4()
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return {
        "error": "invalid_request",
        "error_description": (
            f"AADSTS{code}: {description}\r\nTrace ID: {trace_id}\r\n"
            f"Correlation ID: {correlation_id}\r\nTimestamp: {stamp}"
        ),
    }


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unsigned_jwt(claims: dict[str, Any]) -> str:
    header = _b64url(json.dumps({"typ": "JWT", "alg": "none"}).encode())
    return f"{header}.{_b64url(json.dumps(claims).encode())}."


def _client_info(user: MicrosoftUser) -> str:
    return _b64url(json.dumps({"uid": user.oid, "utid": user.tid}).encode())


def _pairwise_sub(user: MicrosoftUser, client_id: str) -> str:
    return _b64url(hashlib.sha256(f"{user.oid}:{client_id}".encode()).digest())


def _access_token(user: MicrosoftUser, scopes: list[str], now: datetime, seconds: int) -> str:
    # Shaped like Graph's (an unsigned JWT here) so logs and debuggers look familiar;
    # clients must treat it as opaque, as Microsoft asks.
    issued = int(now.timestamp())
    return _unsigned_jwt(
        {
            "aud": GRAPH_APP_ID,
            "iss": f"https://sts.windows.net/{user.tid}/",
            "iat": issued,
            "nbf": issued,
            "exp": issued + seconds,
            "oid": user.oid,
            "tid": user.tid,
            "upn": user.upn,
            "scp": " ".join(scopes),
            "uti": secrets.token_urlsafe(16),
        }
    )


def _new_oid(kind: AccountKind) -> str:
    if kind is AccountKind.PERSONAL:
        tail = secrets.token_hex(8)
        return f"00000000-0000-0000-{tail[:4]}-{tail[4:]}"
    return str(uuid.uuid4())


def _passcode() -> str:
    alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(6))


# Graph helpers.


async def _graph_body(request: Request, allowed: frozenset[str]) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        raise _bad_request("Empty Payload. JSON content expected.")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise _bad_request(
            "Unable to read JSON request payload. Please ensure Content-Type header is set "
            "and payload is of valid JSON format."
        )
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise _bad_request(
            f"The property '{unknown[0]}' does not exist on type 'microsoft.graph.onlineMeeting'."
        )
    return body


def _parse_time(body: dict[str, Any], key: str) -> datetime:
    value = body.get(key)
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or "T" not in str(value):
        raise _bad_request(f"Invalid {key}: expected an ISO 8601 date-time with an offset.")
    return moment.astimezone(UTC)


def _subject(body: dict[str, Any]) -> str | None:
    subject = body.get("subject")
    if subject is not None and not isinstance(subject, str):
        raise _bad_request("Invalid subject: expected a string.")
    return subject


def _apply_settings(meeting: _Meeting, body: dict[str, Any]) -> None:
    meeting.settings.update({k: v for k, v in body.items() if k in _ECHOED_KEYS})
    participants = body.get("participants")
    if isinstance(participants, dict) and isinstance(participants.get("attendees"), list):
        meeting.attendees = list(participants["attendees"])


def _join_url(origin: str, thread_id: str, organizer: MicrosoftUser) -> str:
    thread = thread_id.replace(":", "%3a").replace("@", "%40")
    context = f"%7b%22Tid%22%3a%22{organizer.tid}%22%2c%22Oid%22%3a%22{organizer.oid}%22%7d"
    return f"{origin}/l/meetup-join/{thread}/0?context={context}"


def _graph_time(moment: datetime) -> str:
    # Graph writes seven fractional digits; Python has six.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def _view(meeting: _Meeting) -> dict[str, Any]:
    organizer = meeting.organizer
    view: dict[str, Any] = {
        "id": meeting.id,
        "creationDateTime": _graph_time(meeting.created),
        "startDateTime": _graph_time(meeting.start),
        "endDateTime": _graph_time(meeting.end),
        "joinWebUrl": meeting.join_url,
        "subject": meeting.subject,
        "isBroadcast": False,
        "autoAdmittedUsers": "everyoneInCompany",
        "allowedPresenters": "everyone",
        "isEntryExitAnnounced": True,
        "externalId": meeting.external_id,
        "videoTeleconferenceId": None,
        "participants": {
            "organizer": {
                "upn": organizer.upn,
                "role": "presenter",
                "identity": {
                    "user": {
                        "id": organizer.oid,
                        "displayName": None,
                        "tenantId": organizer.tid,
                        "identityProvider": "AAD",
                    }
                },
            },
            "attendees": list(meeting.attendees),
        },
        "lobbyBypassSettings": {"scope": "organization", "isDialInBypassEnabled": False},
        "joinMeetingIdSettings": {
            "isPasscodeRequired": True,
            "joinMeetingId": meeting.join_meeting_id,
            "passcode": meeting.passcode,
        },
        "chatInfo": {"threadId": meeting.thread_id, "messageId": "0", "replyChainMessageId": None},
    }
    view.update(meeting.settings)
    return view


# Responses.


async def _identity_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, IdentityError)
    return exc.response(request.headers.get("client-request-id") or str(uuid.uuid4()))


async def _graph_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GraphError)
    request_id = str(uuid.uuid4())
    client_request_id = request.headers.get("client-request-id") or request_id
    body = {
        "error": {
            "code": exc.code,
            "message": exc.message,
            "innerError": {
                "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": request_id,
                "client-request-id": client_request_id,
            },
        }
    }
    headers = {"request-id": request_id, "client-request-id": client_request_id, **exc.headers}
    return json_response(body, exc.status, headers)


def _form_post(redirect_uri: str, params: dict[str, str]) -> HTMLResponse:
    """The form_post response mode: the browser POSTs the answer to redirect_uri."""
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}" />'
        for k, v in params.items()
    )
    body = (
        "<html><head><title>Working...</title></head>"
        '<body onload="document.forms[0].submit()">'
        f'<form method="POST" name="hiddenform" action="{html.escape(redirect_uri)}">'
        f"{inputs}<noscript><p>Script is disabled. Click Submit to continue.</p>"
        '<input type="submit" value="Submit" /></noscript></form></body></html>'
    )
    return HTMLResponse(body)


def _page(title: str, text: str, status: int = 200) -> HTMLResponse:
    body = (
        f"<!doctype html><html><head><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
    )
    return HTMLResponse(body, status_code=status)
