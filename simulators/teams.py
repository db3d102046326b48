"""A Microsoft Teams simulator: the Bot Connector service a bot calls back, the channel that
sends activities to the bot, and the Bot Framework token authority both sides trust.

One app serves all three; mount it on plain HTTP for the Connector and the channel's
OpenID metadata, and on HTTPS (simulators.tls) for the login endpoints, which msal
refuses to reach over HTTP.

Wire facts relied on:
- Connector REST, relative to the activity's serviceUrl (Bot Framework Connector API
  reference; botframework-connector's ConversationsOperations): POST v3/conversations,
  POST v3/conversations/{id}/activities (send), POST .../activities/{activityId} (reply),
  PUT .../activities/{activityId} (update), DELETE .../activities/{activityId},
  GET v3/conversations/{id}/members and .../members/{memberId} (what TeamsInfo.get_members
  and get_member call). Writes answer a ResourceResponse {"id"}; errors are
  {"error": {"code", "message"}}. msrest joins "{serviceUrl}v3/...", so a serviceUrl with
  a path (real ones end in "/teams/" or "/emea/") must be kept whole by clients.
- Create conversation in Teams (microsoft/teams.net docs, CreateConversation-API-Behavior,
  captured against the live service): a personal chat needs exactly one member and a
  tenant id, answers 201 {"id": "a:..."} and the same id for the same user again; a
  channel thread is isGroup with channelData.channel.id and an activity, answering
  {"id": "<channel>;messageid=<activityId>", "activityId"}; group chats are 400 BadSyntax.
- Status codes (Teams docs, "Status codes from bot conversational APIs"): 403
  BotNotInConversationRoster "The bot is not part of the conversation roster.", 404
  ConversationNotFound / ActivityNotFoundInConversation "Conversation not found.", 412
  PreconditionFailed, 413 MessageSizeTooBig (messages are limited to about 28 KB), 429
  Throttled with Retry-After, 502 ServiceError; 412/429/502/503/504 are the retryable ones.
  Per-thread limits (Teams docs, "Optimize your bot with rate limiting"): 7 sends a
  second, 8 per 2 s, 60 per 30 s, 1800 per hour.
- A bot's proactive turn replies to the random id of its continuation activity
  (botbuilder's get_continuation_activity + apply_conversation_reference), so a reply to
  an unknown activity id is posted, not refused; only update and delete need a real id.
- The Connector refuses a missing or invalid bearer with 401 {"message": "Authorization
  has been denied for this request."} (the ASP.NET Web API answer developers report from
  it); a valid token of an app that is no registered bot is 401 BotNotRegistered.
- Mentions in an Adaptive Card (Teams docs, "Mention support within Adaptive Cards"): the
  card's `msteams.entities` lists {"type": "mention", "text": "<at>name</at>", "mentioned":
  {"id", "name"}}; a person is notified only when that text also stands in the card's text.
  `mentioned(post)` gives those ids. `{{DATE(…, COMPACT|SHORT|LONG)}}` and `{{TIME(…)}}` in a
  TextBlock are shown in each reader's own zone and language; `read_by` renders a card that way.
- Channel tokens to the bot (botbuilder's JwtTokenExtractor, ChannelValidation and
  _ParameterizedBotFrameworkAuthentication): RS256 with a "kid" found in the JWKS that
  the OpenID metadata's jwks_uri names; iss "https://api.botframework.com"; aud = the
  bot's app id; "serviceurl" equal to the activity's serviceUrl; no "ver" claim (with
  one, and an appid unlike aud, botbuilder takes the token for a skill's). Keys carry
  "endorsements" and botbuilder then demands the activity's channelId among them.
  botbuilder fetches metadata with plain requests.get, so HTTP works, and caches the keys
  per metadata URL for a day, process-wide: every simulator signs with one shared key.
- The bot's own token (msal client credentials, as botbuilder's MicrosoftAppCredentials
  asks): msal reads "{authority}/v2.0/.well-known/openid-configuration" ("{authority}/
  .well-known/openid-configuration" for an ADFS authority) and posts to its
  token_endpoint; the answer is {"token_type": "Bearer", "expires_in", "ext_expires_in",
  "access_token"}. A wrong secret is 401 invalid_client AADSTS7000215, an unknown client
  400 unauthorized_client AADSTS700016 (Microsoft identity platform error reference).
"""

from __future__ import annotations

import base64
import enum
import hashlib
import itertools
import json
import math
import re
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from simulators.base import Simulator, base_url, json_response, read_form, read_json

CHANNEL_ID = "msteams"
CHANNEL_ISSUER = "https://api.botframework.com"
CONNECTOR_AUDIENCE = "https://api.botframework.com"
# The botframework.com tenant: Connector tokens for multi-tenant bots come from it.
BOT_FRAMEWORK_TENANT = "d6d49420-f39b-4df7-a1dc-d59a935871db"
SERVICE_PATH = "/teams/"
OPENID_METADATA_PATH = "/v1/.well-known/openidconfiguration"
KEYS_PATH = "/v1/.well-known/keys"
# msal skips instance discovery (a call to login.microsoftonline.com) only for ADFS, B2C
# or dSTS authorities, and botbuilder gives msal no way to turn it off: the simulated
# login authority therefore has the ADFS shape.
LOGIN_AUTHORITY = "adfs"
# botbuilder builds a new msal app (and HTTP session) on every turn and never closes it:
# the login endpoints close each connection, so no idle TLS connection outlives its app
# and keeps a stopping server waiting.
CLOSE: Final = {"Connection": "close"}
TOKEN_SECONDS = 3600
MESSAGE_LIMIT_BYTES = 28 * 1024
# Well-known fake credentials, so tests and the sandbox need no configuration.
DEFAULT_APP_ID = "5c0f4ea5-6e2b-4a51-9d0c-6d2f1b1e7a11"
DEFAULT_APP_PASSWORD = "teams-app-password"
DEFAULT_TENANT_ID = "8a3c1f5e-2b7d-4e19-a0c4-3f6b9d2e1c70"
DEFAULT_BOT_NAME = "meetbot"
# (window seconds, sends allowed) per bot per conversation thread.
THREAD_LIMITS: Final = ((1.0, 7), (2.0, 8), (30.0, 60), (3600.0, 1800))

DENIED: Final = {"message": "Authorization has been denied for this request."}


class ConnectorError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        body = {"error": {"code": self.code, "message": self.message}}
        return json_response(body, self.status, self.headers)


class _Denied(Exception):
    pass


class _LoginError(Exception):
    def __init__(self, status: int, error: str, code: int, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.code, self.description = status, error, code, description


def _conversation_not_found() -> ConnectorError:
    return ConnectorError(404, "ConversationNotFound", "Conversation not found.")


def _activity_not_found() -> ConnectorError:
    return ConnectorError(404, "ActivityNotFoundInConversation", "Conversation not found.")


def _not_in_roster() -> ConnectorError:
    return ConnectorError(
        403, "BotNotInConversationRoster", "The bot is not part of the conversation roster."
    )


def _bad_syntax(message: str) -> ConnectorError:
    return ConnectorError(400, "BadSyntax", message)


# JSON Web Tokens, by hand: the simulator must not share a JWT library's mistakes with the
# SDK it checks.


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


class SigningKey:
    """An RSA key that signs RS256 tokens and publishes itself as a JWK."""

    def __init__(self, private_key: rsa.RSAPrivateKey | None = None) -> None:
        self._private = private_key or rsa.generate_private_key(
            public_exponent=65537, key_size=2048
        )
        numbers = self._private.public_key().public_numbers()
        jwk = {
            "e": _b64url(_int_bytes(numbers.e)),
            "kty": "RSA",
            "n": _b64url(_int_bytes(numbers.n)),
        }
        # RFC 7638 thumbprint: a stable kid for the same key.
        canonical = json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()
        self.kid = _b64url(hashlib.sha256(canonical).digest())
        self._jwk = jwk

    def jwk(self, endorsements: Iterable[str] = ()) -> dict[str, Any]:
        key: dict[str, Any] = {**self._jwk, "use": "sig", "kid": self.kid, "x5t": self.kid}
        endorsed = list(endorsements)
        if endorsed:
            key["endorsements"] = endorsed
        return key

    def sign(self, claims: Mapping[str, Any], *, kid: str | None = None) -> str:
        header = {"alg": "RS256", "typ": "JWT", "kid": kid or self.kid, "x5t": kid or self.kid}
        signing_input = ".".join(
            _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        signature = self._private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a token this key signed; _Denied for anything else."""
        try:
            header_b64, claims_b64, signature_b64 = token.split(".")
            header = json.loads(_b64url_decode(header_b64))
            claims = json.loads(_b64url_decode(claims_b64))
            signature = _b64url_decode(signature_b64)
        except (ValueError, UnicodeDecodeError):
            raise _Denied from None
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise _Denied
        if header.get("alg") != "RS256" or header.get("kid") != self.kid:
            raise _Denied
        try:
            self._private.public_key().verify(
                signature,
                f"{header_b64}.{claims_b64}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature:
            raise _Denied from None
        return claims


_shared_key: SigningKey | None = None
_shared_key_lock = threading.Lock()


def shared_signing_key() -> SigningKey:
    """The process's one Bot Framework key (see the module docstring: botbuilder caches it)."""
    global _shared_key
    with _shared_key_lock:
        if _shared_key is None:
            _shared_key = SigningKey()
        return _shared_key


# State.


@dataclass
class _User:
    id: str
    aad_object_id: str
    name: str
    email: str
    timezone: str

    def account(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "aadObjectId": self.aad_object_id}

    def member(self, tenant_id: str) -> dict[str, Any]:
        given, _, surname = self.name.partition(" ")
        return {
            "id": self.id,
            "name": self.name,
            "aadObjectId": self.aad_object_id,
            "givenName": given,
            "surname": surname,
            "email": self.email,
            "userPrincipalName": self.email,
            "tenantId": tenant_id,
            "userRole": "user",
        }


@dataclass
class _Team:
    id: str
    name: str
    aad_group_id: str
    member_ids: list[str]
    channel_ids: list[str] = field(default_factory=list)


@dataclass
class _Conversation:
    id: str
    kind: str  # "personal" or "channel"
    name: str | None = None
    team_id: str | None = None
    user_id: str | None = None  # the person in a personal chat
    bot_member: bool = True
    posts: list[dict[str, Any]] = field(default_factory=list)
    roots: set[str] = field(default_factory=set)  # ids of the channel's top-level posts


def _random_id(length: int) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _copy(value: Any) -> Any:
    return json.loads(json.dumps(value))


def _view(post: dict[str, Any]) -> dict[str, Any]:
    view: dict[str, Any] = _copy({k: v for k, v in post.items() if k != "order"})
    return view


_DATE_FUNCTION = re.compile(r"\{\{(DATE|TIME)\(([^,)]+)(?:, (COMPACT|SHORT|LONG))?\)\}\}")


def _cards(activity: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        a["content"]
        for a in activity.get("attachments") or []
        if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
        and isinstance(a.get("content"), dict)
    ]


def _card_texts(activity: dict[str, Any]) -> list[str]:
    texts = [str(activity.get("text") or "")] if activity.get("text") else []
    for card in _cards(activity):
        texts += [
            str(e.get("text", "")) for e in card.get("body") or [] if e.get("type") == "TextBlock"
        ]
    return texts


def mentioned(post: dict[str, Any]) -> list[str]:
    """The ids of the people a post notifies: mention entities whose text is in the card."""
    activity = post.get("activity") or post
    texts = "\n".join(_card_texts(activity))
    entities = list(activity.get("entities") or [])
    for card in _cards(activity):
        entities += (card.get("msteams") or {}).get("entities") or []
    return [
        str(e["mentioned"]["id"])
        for e in entities
        if e.get("type") == "mention"
        and e.get("text")
        and e["text"] in texts
        and isinstance(e.get("mentioned"), dict)
        and "id" in e["mentioned"]
    ]


def _local(found: re.Match[str], zone: ZoneInfo) -> str:
    """Teams' date functions for an English reader in `zone`."""
    moment = datetime.fromisoformat(found[2].replace("Z", "+00:00")).astimezone(zone)
    if found[1] == "TIME":
        return f"{moment:%H:%M}"
    if found[3] == "LONG":
        return f"{moment:%A, %B} {moment.day}, {moment:%Y}"
    if found[3] == "SHORT":
        return f"{moment:%a, %b} {moment.day}, {moment:%Y}"
    return f"{moment:%d/%m/%Y}"


def _thread_of(conversation: _Conversation, activity_id: str) -> str | None:
    if activity_id in conversation.roots:
        return activity_id
    return next((p["thread_id"] for p in conversation.posts if p["id"] == activity_id), None)


def _split_thread(conversation_id: str) -> tuple[str, str | None]:
    base, marker, root = conversation_id.partition(";messageid=")
    return base, (root if marker else None)


class _Token(enum.Enum):
    VALID = "valid"


class TeamsConnectorSimulator(Simulator):
    """Teams as a bot sees it.

    Serve `app` and set `url` (its HTTP base) and, for a bot with an app id, `login_url`
    (its HTTPS base); `botbuilder_config()` then gives the bot's settings. Build people,
    teams and channels with add_user/add_team/add_channel; build what Teams would send
    with message/card_submit/card_execute/bot_added_to_team/bot_installed_personal and
    deliver it with send(); read what the bot posted with activities(). Switches:
    remove_bot/restore_bot, throttle, fail_transiently, enforce_rate_limits (with
    `clock`), require_auth, and the generic `faults`.
    """

    def __init__(
        self,
        *,
        app_id: str = DEFAULT_APP_ID,
        app_password: str = DEFAULT_APP_PASSWORD,
        tenant_id: str = DEFAULT_TENANT_ID,
        bot_name: str = DEFAULT_BOT_NAME,
        require_auth: bool | None = None,
        signing_key: SigningKey | None = None,
    ) -> None:
        super().__init__()
        self.app_id = app_id
        self.app_password = app_password
        self.tenant_id = tenant_id
        self.bot_name = bot_name
        self.bot_id = f"28:{app_id or DEFAULT_APP_ID}"
        # A bot without an app id sends no token, so the Connector then cannot ask for one.
        self.require_auth = bool(app_id) if require_auth is None else require_auth
        self.enforce_rate_limits = False
        self.clock: Callable[[], float] = time.monotonic
        self.url: str | None = None
        self.login_url: str | None = None
        self.key = signing_key or shared_signing_key()
        self._users: dict[str, _User] = {}
        self._teams: dict[str, _Team] = {}
        self._conversations: dict[str, _Conversation] = {}
        self._personal: dict[str, str] = {}  # user id -> conversation id
        self._created: list[dict[str, Any]] = []
        self._sends: dict[str, deque[float]] = {}
        self._last_id = 0
        self._order = itertools.count()
        self.app = self._wrap(self._build_app())

    # URLs and configuration.

    @property
    def service_url(self) -> str:
        """The serviceUrl activities carry: the Connector lives under it."""
        return self._base() + SERVICE_PATH

    @property
    def openid_metadata_url(self) -> str:
        return self._base() + OPENID_METADATA_PATH

    def botbuilder_config(self) -> dict[str, str]:
        """Settings for botbuilder's ConfigurationBotFrameworkAuthentication (attribute names).

        With an app id every endpoint botbuilder would call points here, so nothing leaves
        the machine; without one botbuilder runs unauthenticated and needs none of them.
        """
        if not self.app_id:
            return {"APP_ID": "", "APP_PASSWORD": ""}
        if not self.login_url:
            raise RuntimeError("set login_url to the HTTPS base this app is served at")
        return {
            "APP_TYPE": "MultiTenant",
            "APP_ID": self.app_id,
            "APP_PASSWORD": self.app_password,
            "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL": self.openid_metadata_url,
            "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER": CHANNEL_ISSUER,
            "TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL": self.openid_metadata_url,
            "TO_CHANNEL_FROM_BOT_LOGIN_URL": f"{self.login_url.rstrip('/')}/{LOGIN_AUTHORITY}",
            "TO_CHANNEL_FROM_BOT_OAUTH_SCOPE": CONNECTOR_AUDIENCE,
        }

    def _base(self) -> str:
        if not self.url:
            raise RuntimeError("set url to the HTTP base this app is served at")
        return self.url.rstrip("/")

    # State API.

    def add_user(
        self,
        *,
        name: str,
        user_id: str | None = None,
        aad_object_id: str | None = None,
        email: str | None = None,
        timezone: str = "Europe/Kyiv",
    ) -> str:
        """A person in the tenant; returns their Teams user id ("29:...")."""
        user = _User(
            id=user_id or f"29:1{_random_id(43)}",
            aad_object_id=aad_object_id or str(uuid.uuid4()),
            name=name,
            email=email or f"{name.lower().replace(' ', '.')}@example.com",
            timezone=timezone,
        )
        with self._lock:
            self._users[user.id] = user
        return user.id

    def add_team(
        self,
        *,
        name: str,
        members: Iterable[str] = (),
        team_id: str | None = None,
        bot_member: bool = True,
    ) -> str:
        """A team with its General channel; the team id is that channel's id, as in Teams."""
        team_id = team_id or f"19:{secrets.token_hex(16)}@thread.tacv2"
        team = _Team(team_id, name, str(uuid.uuid4()), list(members))
        with self._lock:
            for user_id in team.member_ids:
                self._user(user_id)
            self._teams[team_id] = team
            self._add_channel(team, team_id, "General", bot_member)
        return team_id

    def add_channel(self, team_id: str, *, name: str, channel_id: str | None = None) -> str:
        with self._lock:
            team = self._team(team_id)
            general = self._conversations[team.id]
            channel_id = channel_id or f"19:{secrets.token_hex(16)}@thread.tacv2"
            self._add_channel(team, channel_id, name, general.bot_member)
        return channel_id

    def personal_conversation(self, user_id: str) -> str:
        """The 1:1 chat between the bot and a person (opened on first use)."""
        with self._lock:
            return self._open_personal(self._user(user_id)).id

    def remove_bot(self, conversation_id: str) -> None:
        """The bot leaves a chat, a channel, or (given a team id) every channel of the team."""
        self._set_bot_member(conversation_id, False)

    def restore_bot(self, conversation_id: str) -> None:
        self._set_bot_member(conversation_id, True)

    def activities(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        """What the bot posted, oldest first: everything, one conversation (a channel
        includes its threads), or one thread ("<channel>;messageid=<root>")."""
        with self._lock:
            if conversation_id is None:
                posts = [p for c in self._conversations.values() for p in c.posts]
                return [_view(p) for p in sorted(posts, key=lambda p: p["order"])]
            base, root = _split_thread(conversation_id)
            conversation = self._conversations.get(base)
            if conversation is None:
                return []
            return [_view(p) for p in conversation.posts if root in (None, p["thread_id"])]

    def read_by(self, user_id: str, post: dict[str, Any]) -> str:
        """The post's card texts as the person reads them: dates and times in their zone."""
        with self._lock:
            zone = ZoneInfo(self._user(user_id).timezone)
        return "\n".join(
            _DATE_FUNCTION.sub(lambda found: _local(found, zone), text)
            for text in _card_texts(post["activity"])
        )

    def activity(self, conversation_id: str, activity_id: str) -> dict[str, Any] | None:
        return next((p for p in self.activities(conversation_id) if p["id"] == activity_id), None)

    def created_conversations(self) -> list[dict[str, Any]]:
        """Every successful POST v3/conversations: the parameters and the answer."""
        with self._lock:
            created: list[dict[str, Any]] = _copy(self._created)
        return created

    def throttle(
        self, *, times: int = 1, retry_after: int = 1, conversation_id: str | None = None
    ) -> None:
        """The next Connector calls (of one conversation, or any) answer 429 Throttled."""
        body = {"error": {"code": "Throttled", "message": "Too many requests."}}
        self.faults.fail(
            path=self._fault_path(conversation_id),
            status=429,
            body=body,
            headers={"Retry-After": str(retry_after)},
            times=times,
        )

    def fail_transiently(
        self, status: int = 412, *, times: int = 1, conversation_id: str | None = None
    ) -> None:
        """The next Connector calls fail with one of the statuses Teams says to retry."""
        codes = {
            412: ("PreconditionFailed", "Precondition failed, please try again."),
            502: ("ServiceError", "Service dependency failure."),
            503: ("ServiceUnavailable", "The service is unavailable."),
            504: ("GatewayTimeout", "Gateway timeout."),
        }
        code, message = codes[status]
        self.faults.fail(
            path=self._fault_path(conversation_id),
            status=status,
            body={"error": {"code": code, "message": message}},
            times=times,
        )

    def _fault_path(self, conversation_id: str | None) -> str:
        if conversation_id is None:
            return "^" + re.escape(SERVICE_PATH + "v3/conversations")
        base, _ = _split_thread(conversation_id)
        prefix = re.escape(f"{SERVICE_PATH}v3/conversations/{base}")
        return f"^{prefix}(;messageid=[^/]*)?(/|$)"

    # Tokens.

    def channel_token(
        self,
        *,
        audience: str | None = None,
        service_url: str | None = None,
        issuer: str = CHANNEL_ISSUER,
        lifetime: float = TOKEN_SECONDS,
        kid: str | None = None,
        key: SigningKey | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        """A token as the Bot Connector sends with each activity to the bot.

        The defaults make a valid one; each argument spoils it one way (another audience,
        serviceUrl or issuer, an expired lifetime, an unknown kid, a foreign key).
        """
        now = int(time.time())
        claims: dict[str, Any] = {
            "serviceurl": service_url if service_url is not None else self.service_url,
            "nbf": now - 5,
            "exp": now + int(lifetime),
            "iss": issuer,
            "aud": self.app_id if audience is None else audience,
            **(extra or {}),
        }
        return (key or self.key).sign(claims, kid=kid)

    def connector_token(self, *, app_id: str | None = None, lifetime: float = TOKEN_SECONDS) -> str:
        """A token as the login endpoint issues it to the bot for calling the Connector."""
        now = int(time.time())
        issuer = f"https://sts.windows.net/{BOT_FRAMEWORK_TENANT}/"
        claims = {
            "aud": CONNECTOR_AUDIENCE,
            "iss": issuer,
            "iat": now,
            "nbf": now - 5,
            "exp": now + int(lifetime),
            "appid": self.app_id if app_id is None else app_id,
            "appidacr": "1",
            "idp": issuer,
            "tid": BOT_FRAMEWORK_TENANT,
            "ver": "1.0",
        }
        return self.key.sign(claims)

    # The channel side: activities to the bot.

    def message(
        self,
        user_id: str,
        text: str,
        *,
        conversation_id: str | None = None,
        mention_bot: bool = False,
        reply_to_id: str | None = None,
    ) -> dict[str, Any]:
        """A message from a person: in their personal chat unless a channel (or a thread,
        "<channel>;messageid=<root>") is given; a new channel post starts its own thread."""
        with self._lock:
            user = self._user(user_id)
            activity_id = self._next_id()
            conversation, address = self._address(user, conversation_id, activity_id, reply_to_id)
            activity = self._activity("message", user, conversation, address, activity_id)
        activity["textFormat"] = "plain"
        activity["text"] = text
        if mention_bot:
            at = f"<at>{self.bot_name}</at>"
            activity["text"] = f"{at} {text}"
            mention = {
                "type": "mention",
                "mentioned": {"id": self.bot_id, "name": self.bot_name},
                "text": at,
            }
            activity["entities"].insert(0, mention)
        if reply_to_id:
            activity["replyToId"] = reply_to_id
        return activity

    def card_submit(
        self,
        user_id: str,
        value: Mapping[str, Any],
        *,
        reply_to_id: str,
        conversation_id: str | None = None,
    ) -> dict[str, Any]:
        """What Teams sends when a person presses an Adaptive Card Action.Submit: a message
        with no text, the card's inputs and data in `value`, replying to the card."""
        where = conversation_id or self._holder(reply_to_id)
        activity = self.message(user_id, "", conversation_id=where, reply_to_id=reply_to_id)
        del activity["text"]
        activity["value"] = dict(value)
        activity["channelData"]["source"] = {"name": "message"}
        activity["channelData"]["legacy"] = {"replyToId": reply_to_id}
        return activity

    def card_execute(
        self,
        user_id: str,
        verb: str,
        data: Mapping[str, Any],
        *,
        reply_to_id: str,
        conversation_id: str | None = None,
    ) -> dict[str, Any]:
        """An Adaptive Card Action.Execute (Universal Actions): an adaptiveCard/action invoke
        that the bot must answer in the HTTP response."""
        where = conversation_id or self._holder(reply_to_id)
        activity = self.message(user_id, "", conversation_id=where, reply_to_id=reply_to_id)
        del activity["text"], activity["textFormat"]
        activity["type"] = "invoke"
        activity["name"] = "adaptiveCard/action"
        activity["value"] = {
            "action": {"type": "Action.Execute", "verb": verb, "data": dict(data)},
            "trigger": "manual",
        }
        return activity

    def bot_added_to_team(self, team_id: str, *, by_user: str) -> dict[str, Any]:
        """The conversationUpdate Teams sends when someone adds the bot to a team."""
        with self._lock:
            team = self._team(team_id)
            user = self._user(by_user)
            for channel_id in team.channel_ids:
                self._conversations[channel_id].bot_member = True
            general = self._conversations[team.id]
            activity_id = self._next_id()
            activity = self._activity("conversationUpdate", user, general, general.id, activity_id)
        activity["membersAdded"] = [{"id": self.bot_id}]
        activity["channelData"]["eventType"] = "teamMemberAdded"
        return activity

    def bot_installed_personal(self, user_id: str) -> dict[str, Any]:
        """The conversationUpdate of a person installing the app for themselves."""
        with self._lock:
            user = self._user(user_id)
            conversation = self._open_personal(user)
            conversation.bot_member = True
            activity_id = self._next_id()
            activity = self._activity(
                "conversationUpdate", user, conversation, conversation.id, activity_id
            )
        activity["membersAdded"] = [{"id": self.bot_id}]
        return activity

    def send(
        self,
        bot_url: str,
        activity: Mapping[str, Any],
        *,
        authorization: str | _Token | None = _Token.VALID,
        timeout: float = 15.0,
    ) -> httpx.Response:
        """POST an activity to the bot's messaging endpoint, as the Bot Connector does.

        By default with a valid token for that activity (none when the bot has no app id,
        as a local channel sends); `authorization=None` sends no header, any string is
        sent as the header verbatim.
        """
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if authorization is _Token.VALID and self.app_id:
            token = self.channel_token(service_url=str(activity.get("serviceUrl", "")))
            headers["Authorization"] = f"Bearer {token}"
        elif isinstance(authorization, str):
            headers["Authorization"] = authorization
        with httpx.Client(timeout=timeout) as client:
            return client.post(bot_url, content=json.dumps(activity), headers=headers)

    def _activity(
        self,
        kind: str,
        user: _User,
        conversation: _Conversation,
        conversation_id: str,
        activity_id: str,
    ) -> dict[str, Any]:
        tenant = {"id": self.tenant_id}
        conversation_json: dict[str, Any] = {
            "conversationType": conversation.kind,
            "tenantId": self.tenant_id,
            "id": conversation_id,
        }
        channel_data: dict[str, Any] = {"tenant": tenant}
        if conversation.kind == "channel":
            assert conversation.team_id is not None
            team = self._teams[conversation.team_id]
            conversation_json["isGroup"] = True
            channel_data.update(
                teamsChannelId=conversation.id,
                teamsTeamId=team.id,
                channel={"id": conversation.id, "name": conversation.name},
                team={"id": team.id, "name": team.name, "aadGroupId": team.aad_group_id},
            )
        client_info = {
            "type": "clientInfo",
            "locale": "en-US",
            "country": "US",
            "platform": "Web",
            "timezone": user.timezone,
        }
        return {
            "type": kind,
            "id": activity_id,
            "timestamp": _now_iso(),
            "localTimezone": user.timezone,
            "channelId": CHANNEL_ID,
            "serviceUrl": self.service_url,
            "from": user.account(),
            "conversation": conversation_json,
            "recipient": {"id": self.bot_id, "name": self.bot_name},
            "entities": [client_info],
            "channelData": channel_data,
            "locale": "en-US",
        }

    # Internals: they run under _lock (reentrant, so some take it again).

    def _user(self, user_id: str) -> _User:
        try:
            return self._users[user_id]
        except KeyError:
            raise KeyError(f"unknown Teams user {user_id!r}") from None

    def _team(self, team_id: str) -> _Team:
        try:
            return self._teams[team_id]
        except KeyError:
            raise KeyError(f"unknown Teams team {team_id!r}") from None

    def _conversation(self, conversation_id: str) -> _Conversation:
        try:
            return self._conversations[conversation_id]
        except KeyError:
            raise KeyError(f"unknown Teams conversation {conversation_id!r}") from None

    def _address(
        self,
        user: _User,
        conversation_id: str | None,
        activity_id: str,
        reply_to_id: str | None,
    ) -> tuple[_Conversation, str]:
        """The conversation a person's activity belongs to, and the id Teams gives it there:
        channel activities always name their thread."""
        if conversation_id is None:
            conversation = self._open_personal(user)
            return conversation, conversation.id
        base, root = _split_thread(conversation_id)
        conversation = self._conversation(base)
        if conversation.kind != "channel":
            return conversation, conversation_id
        if root is None and reply_to_id is not None:
            root = _thread_of(conversation, reply_to_id)
        root = root or activity_id
        conversation.roots.add(root)
        return conversation, f"{base};messageid={root}"

    def _holder(self, activity_id: str) -> str | None:
        """The conversation holding a post of the bot (where a card was pressed)."""
        with self._lock:
            for conversation in self._conversations.values():
                if any(p["id"] == activity_id for p in conversation.posts):
                    return conversation.id
        return None

    def _add_channel(self, team: _Team, channel_id: str, name: str, bot_member: bool) -> None:
        team.channel_ids.append(channel_id)
        self._conversations[channel_id] = _Conversation(
            channel_id, "channel", name=name, team_id=team.id, bot_member=bot_member
        )

    def _open_personal(self, user: _User) -> _Conversation:
        existing = self._personal.get(user.id)
        if existing is not None:
            return self._conversations[existing]
        conversation = _Conversation(f"a:1{_random_id(80)}", "personal", user_id=user.id)
        self._conversations[conversation.id] = conversation
        self._personal[user.id] = conversation.id
        return conversation

    def _set_bot_member(self, conversation_id: str, member: bool) -> None:
        with self._lock:
            base, _ = _split_thread(conversation_id)
            team = self._teams.get(base)
            targets = team.channel_ids if team is not None else [base]
            for target in targets:
                self._conversation(target).bot_member = member

    def _next_id(self) -> str:
        # Teams message ids are epoch milliseconds; keep them unique and increasing.
        self._last_id = max(int(time.time() * 1000), self._last_id + 1)
        return str(self._last_id)

    # App.

    def _build_app(self) -> Starlette:
        conversations = SERVICE_PATH + "v3/conversations"
        routes = [
            Route(OPENID_METADATA_PATH, self._openid_metadata, methods=["GET"]),
            Route(KEYS_PATH, self._keys, methods=["GET"]),
            Route(conversations, self._create_conversation, methods=["POST"]),
            Route(conversations + "/{cid}/activities", self._send_activity, methods=["POST"]),
            Route(
                conversations + "/{cid}/activities/{aid}",
                self._activity_endpoint,
                methods=["POST", "PUT", "DELETE"],
            ),
            Route(conversations + "/{cid}/members", self._members, methods=["GET"]),
            Route(conversations + "/{cid}/members/{uid}", self._member, methods=["GET"]),
            Route(
                "/{authority:path}/.well-known/openid-configuration",
                self._login_metadata,
                methods=["GET"],
            ),
            Route("/{authority:path}/oauth2/v2.0/token", self._token, methods=["POST"]),
        ]
        return Starlette(
            routes=routes,
            exception_handlers={ConnectorError: _connector_error, _Denied: _denied},
        )

    # The channel's OpenID metadata (what botbuilder validates inbound tokens with).

    async def _openid_metadata(self, request: Request) -> Response:
        base = base_url(request)
        return json_response(
            {
                "issuer": CHANNEL_ISSUER,
                "authorization_endpoint": "https://invalid.botframework.com",
                "jwks_uri": base + KEYS_PATH,
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        )

    async def _keys(self, request: Request) -> Response:
        return json_response({"keys": [self.key.jwk(endorsements=[CHANNEL_ID])]})

    # Login (what msal asks for the bot's own token).

    async def _login_metadata(self, request: Request) -> Response:
        authority = request.path_params["authority"].removesuffix("/v2.0")
        root = f"{base_url(request)}/{authority}"
        return json_response(
            {
                "issuer": f"{root}/v2.0",
                "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                "token_endpoint": f"{root}/oauth2/v2.0/token",
                "jwks_uri": base_url(request) + KEYS_PATH,
                "response_types_supported": ["code", "id_token", "token"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "client_secret_basic",
                ],
                "id_token_signing_alg_values_supported": ["RS256"],
            },
            headers=CLOSE,
        )

    async def _token(self, request: Request) -> Response:
        form = await read_form(request)
        try:
            self._check_client(request, form)
        except _LoginError as exc:
            return _login_error(exc)
        return json_response(
            {
                "token_type": "Bearer",
                "expires_in": TOKEN_SECONDS - 1,
                "ext_expires_in": TOKEN_SECONDS - 1,
                "access_token": self.connector_token(),
            },
            headers=CLOSE,
        )

    def _check_client(self, request: Request, form: dict[str, str]) -> None:
        client_id, secret = _client_credentials(request, form)
        if form.get("grant_type") != "client_credentials":
            raise _LoginError(
                400,
                "unsupported_grant_type",
                70003,
                "AADSTS70003: The app requested an unsupported grant type.",
            )
        if not self.app_id or client_id != self.app_id:
            raise _LoginError(
                400,
                "unauthorized_client",
                700016,
                f"AADSTS700016: Application with identifier '{client_id}' was not found in "
                f"the directory 'Bot Framework'. This can happen if the application has not "
                f"been installed by the administrator of the tenant or consented to by any "
                f"user in the tenant. You may have sent your authentication request to the "
                f"wrong tenant.",
            )
        if not secrets.compare_digest(secret.encode(), self.app_password.encode()):
            raise _LoginError(
                401,
                "invalid_client",
                7000215,
                "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent "
                "in the request is the client secret value, not the client secret ID, for a "
                f"secret added to app '{self.app_id}'.",
            )
        scopes = form.get("scope", "").split()
        if f"{CONNECTOR_AUDIENCE}/.default" not in scopes:
            raise _LoginError(
                400,
                "invalid_resource",
                500011,
                f"AADSTS500011: The resource principal named {form.get('scope', '')} was not "
                f"found in the tenant named Bot Framework.",
            )

    # The Connector.

    def _authorize(self, request: Request) -> None:
        if not self.require_auth:
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _Denied
        claims = self.key.verify(token.strip())
        exp = claims.get("exp")
        if claims.get("aud") != CONNECTOR_AUDIENCE or not isinstance(exp, int | float):
            raise _Denied
        if exp < time.time():
            raise _Denied
        if claims.get("appid", claims.get("azp")) != self.app_id:
            raise ConnectorError(401, "BotNotRegistered", "No registration found for this bot.")

    async def _create_conversation(self, request: Request) -> Response:
        self._authorize(request)
        params = await _json_object(request)
        with self._lock:
            answer = self._create(params)
            self._created.append({"parameters": _copy(params), "response": dict(answer)})
        return json_response(answer, 201)

    def _create(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_data = params.get("channelData") or {}
        channel = channel_data.get("channel") if isinstance(channel_data, dict) else None
        if params.get("isGroup"):
            if not isinstance(channel, dict) or not channel.get("id"):
                raise _bad_syntax("Incorrect conversation creation parameters")
            return self._create_thread(str(channel["id"]), params)
        members = params.get("members")
        if not isinstance(members, list) or len(members) != 1:
            raise _bad_syntax("Incorrect conversation creation parameters")
        tenant = params.get("tenantId") or (
            (channel_data.get("tenant") or {}).get("id") if isinstance(channel_data, dict) else None
        )
        if not tenant:
            raise _bad_syntax("Incorrect conversation creation parameters")
        member_id = str((members[0] or {}).get("id", ""))
        user = self._users.get(member_id)
        if user is None or tenant != self.tenant_id:
            raise ConnectorError(
                400, "MemberNotFoundInConversation", "The member was not found in the tenant."
            )
        conversation = self._open_personal(user)
        if not conversation.bot_member:
            raise _not_in_roster()
        answer: dict[str, Any] = {"id": conversation.id}
        if isinstance(params.get("activity"), dict):
            post = self._post(conversation, conversation.id, params["activity"], None)
            answer["activityId"] = post["id"]
        return answer

    def _create_thread(self, channel_id: str, params: dict[str, Any]) -> dict[str, Any]:
        conversation = self._conversations.get(channel_id)
        if conversation is None or conversation.kind != "channel":
            raise _conversation_not_found()
        if not conversation.bot_member:
            raise _not_in_roster()
        activity = params.get("activity")
        if not isinstance(activity, dict):
            raise _bad_syntax("Incorrect conversation creation parameters")
        post = self._post(conversation, channel_id, activity, None)
        return {"id": f"{channel_id};messageid={post['id']}", "activityId": post["id"]}

    async def _send_activity(self, request: Request) -> Response:
        self._authorize(request)
        activity = await _json_object(request)
        _check_size(await request.body())
        with self._lock:
            conversation_id = request.path_params["cid"]
            conversation = self._writable(conversation_id)
            post = self._post(conversation, conversation_id, activity, None)
        return json_response({"id": post["id"]}, 201)

    async def _activity_endpoint(self, request: Request) -> Response:
        self._authorize(request)
        conversation_id, activity_id = request.path_params["cid"], request.path_params["aid"]
        if request.method == "DELETE":
            with self._lock:
                post = self._find(self._writable(conversation_id), activity_id)
                post["deleted"] = True
                post["deleted_at"] = _now_iso()
            return Response(status_code=200)
        activity = await _json_object(request)
        _check_size(await request.body())
        with self._lock:
            conversation = self._writable(conversation_id)
            if request.method == "PUT":
                post = self._find(conversation, activity_id)
                self._edit(post, activity)
                return json_response({"id": activity_id})
            post = self._post(conversation, conversation_id, activity, activity_id)
        return json_response({"id": post["id"]}, 201)

    async def _members(self, request: Request) -> Response:
        self._authorize(request)
        with self._lock:
            conversation = self._readable(request.path_params["cid"])
            users = self._member_users(conversation)
            return json_response([u.member(self.tenant_id) for u in users])

    async def _member(self, request: Request) -> Response:
        self._authorize(request)
        with self._lock:
            conversation = self._readable(request.path_params["cid"])
            wanted = request.path_params["uid"]
            for user in self._member_users(conversation):
                if wanted in (user.id, user.aad_object_id):
                    return json_response(user.member(self.tenant_id))
        raise ConnectorError(
            404, "MemberNotFoundInConversation", "The member was not found in the conversation."
        )

    def _member_users(self, conversation: _Conversation) -> list[_User]:
        if conversation.kind == "personal":
            assert conversation.user_id is not None
            return [self._users[conversation.user_id]]
        assert conversation.team_id is not None
        return [self._users[u] for u in self._teams[conversation.team_id].member_ids]

    def _readable(self, conversation_id: str) -> _Conversation:
        base, _ = _split_thread(conversation_id)
        conversation = self._conversations.get(base)
        if conversation is None:
            raise _conversation_not_found()
        if not conversation.bot_member:
            raise _not_in_roster()
        return conversation

    def _writable(self, conversation_id: str) -> _Conversation:
        conversation = self._readable(conversation_id)
        self._count_send(conversation_id)
        return conversation

    def _count_send(self, conversation_id: str) -> None:
        if not self.enforce_rate_limits:
            return
        now = self.clock()
        sent = self._sends.setdefault(conversation_id, deque())
        longest = THREAD_LIMITS[-1][0]
        while sent and now - sent[0] >= longest:
            sent.popleft()
        waits = []
        for window, allowed in THREAD_LIMITS:
            recent = [t for t in sent if now - t < window]
            if len(recent) >= allowed:
                waits.append(window - (now - recent[-allowed]))
        if waits:
            retry_after = str(max(1, math.ceil(max(waits))))
            raise ConnectorError(
                429, "Throttled", "Too many requests.", {"Retry-After": retry_after}
            )
        sent.append(now)

    def _post(
        self,
        conversation: _Conversation,
        conversation_id: str,
        activity: dict[str, Any],
        reply_to_id: str | None,
    ) -> dict[str, Any]:
        _, thread_root = _split_thread(conversation_id)
        activity_id = self._next_id()
        if conversation.kind == "channel" and thread_root is None:
            # Addressed to the channel itself: a reply to one of its posts joins that
            # thread, anything else (a proactive send) starts a new one.
            if reply_to_id in conversation.roots:
                thread_root = reply_to_id
            else:
                thread_root = activity_id
                conversation.roots.add(activity_id)
        stored = _copy(activity)
        stored["id"] = activity_id
        post = {
            "id": activity_id,
            "conversation_id": conversation_id,
            "thread_id": thread_root,
            "reply_to_id": reply_to_id or activity.get("replyToId"),
            "type": activity.get("type", "message"),
            "text": activity.get("text"),
            "attachments": _copy(activity.get("attachments") or []),
            "activity": stored,
            "edits": [],
            "deleted": False,
            "posted_at": _now_iso(),
            "order": next(self._order),
        }
        conversation.posts.append(post)
        return post

    def _find(self, conversation: _Conversation, activity_id: str) -> dict[str, Any]:
        for post in conversation.posts:
            if post["id"] == activity_id and not post["deleted"]:
                return post
        raise _activity_not_found()

    def _edit(self, post: dict[str, Any], activity: dict[str, Any]) -> None:
        previous = {k: post[k] for k in ("text", "attachments", "activity")}
        post["edits"].append({**_copy(previous), "replaced_at": _now_iso()})
        stored = _copy(activity)
        stored["id"] = post["id"]
        post["activity"] = stored
        post["text"] = activity.get("text")
        post["attachments"] = _copy(activity.get("attachments") or [])


async def _connector_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConnectorError)
    return exc.response()


async def _denied(request: Request, exc: Exception) -> Response:
    return json_response(DENIED, 401)


def _login_error(exc: _LoginError) -> Response:
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    description = (
        f"{exc.description}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\n"
        f"Timestamp: {stamp}"
    )
    return json_response(
        {
            "error": exc.error,
            "error_description": description,
            "error_codes": [exc.code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": f"https://login.microsoftonline.com/error?code={exc.code}",
        },
        exc.status,
        CLOSE,
    )


async def _json_object(request: Request) -> dict[str, Any]:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ConnectorError(400, "BadSyntax", "The request body is not a JSON object.")
    return body


def _check_size(raw: bytes) -> None:
    if len(raw) > MESSAGE_LIMIT_BYTES:
        raise ConnectorError(413, "MessageSizeTooBig", "Message size too large.")


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return "", ""
        return client_id, secret
    return form.get("client_id", ""), form.get("client_secret", "")
