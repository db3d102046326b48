"""botbuilder behind one door: the CloudAdapter, the bot's credentials, the service-URL allow-list
and the Connector's errors in the core's words. The rest of `adapters.teams` talks to this module.

Wire facts relied on (botbuilder-python 4.17.1 sources; Bot Connector API reference; Teams docs
"Status codes from bot conversational APIs"):
- Every outbound call goes to the activity's or the stored reference's `serviceUrl`, with the
  bot's token; botbuilder's `trust_service_url` is a no-op, so the allow-list is ours. Public
  Teams answers from smba.trafficmanager.net (and its regional paths), the GCC and onyx hosts
  below; sovereign clouds have their own hosts and must be configured.
- botbuilder asks a `ServiceClientCredentialsFactory` for credentials on every turn and every
  connector client; its own factory builds a new msal app (and so a new token request) each
  time. The factory here keeps one credentials object per audience and login endpoint, and
  fetches the token in a worker thread because msrest reads it synchronously on the event loop.
- msrest raises `ErrorResponseException` (`.response.status_code`, `.response.headers`,
  `.error.error.code`) for any answer other than 200/201/202, and `ClientRequestError` when the
  request did not complete. Teams' error codes: 403 BotNotInConversationRoster (removed from the
  team or chat), 404 ConversationNotFound / ActivityNotFoundInConversation, 412, 429 (with
  Retry-After), 502, 503 and 504 are worth retrying; 400, 401 and 413 are not.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Protocol
from urllib.parse import urlsplit

import msal
import requests
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AppCredentials,
    AuthenticateRequestResult,
    MicrosoftAppCredentials,
    ServiceClientCredentialsFactory,
)
from msrest.exceptions import ClientRequestError, HttpOperationError

from bot.errors import (
    ChatAuthRevoked,
    ChatChannelUnavailable,
    ChatMessageGone,
    MeetbotError,
    OutcomeUnknown,
    PermanentFailure,
    RetryLater,
)

log = logging.getLogger("meetbot.teams")

CHANNEL_ID = "msteams"
PUBLIC_LOGIN_PREFIX = "https://login.microsoftonline.com/"
# Microsoft's own Teams SDK trusts these for the public cloud (its service-URL validation).
DEFAULT_SERVICE_URL_HOSTS = (
    "smba.trafficmanager.net",
    "smba.onyx.prod.teams.trafficmanager.net",
    "smba.infra.gcc.teams.microsoft.com",
)
RETRYABLE = {412, 429, 502, 503, 504}
DEFAULT_RETRY_SECONDS = 5.0


@dataclass(frozen=True)
class TeamsConfig:
    """What the Teams front-end needs; every endpoint left None is botbuilder's public cloud."""

    app_id: str = ""
    app_password: str = ""
    tenant_id: str = ""  # a single-tenant bot registration; "" for multi-tenant
    service_url_hosts: tuple[str, ...] = DEFAULT_SERVICE_URL_HOSTS
    openid_metadata_url: str | None = None
    token_issuer: str | None = None
    login_url: str | None = None
    oauth_scope: str | None = None
    ca_bundle: str | None = None  # trusted for the login endpoint only (a private or test cloud)
    timeout_seconds: float = 15.0

    @property
    def authenticated(self) -> bool:
        return bool(self.app_id)

    def __repr__(self) -> str:
        return f"TeamsConfig(app_id={self.app_id!r}, hosts={self.service_url_hosts!r})"


class ServiceUrlRefused(PermanentFailure):
    """A service URL outside the allow-list: nothing is sent there, the bot's token least of all."""


def allowed_service_url(url: str, hosts: Iterable[str]) -> bool:
    """https to a listed host and port (`*.example.com` matches its subdomains; an entry without
    a port allows only the scheme's default one); plain http only to a listed loopback host,
    which is what a local simulator or tunnel looks like."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:  # a malformed port
        return False
    if not host or parts.username is not None or parts.password is not None:
        return False
    if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(host)):
        return False
    return any(_entry_matches(entry, host, port, parts.scheme) for entry in hosts)


_DEFAULT_PORTS = {"https": 443, "http": 80}


def _entry_matches(entry: str, host: str, port: int | None, scheme: str) -> bool:
    try:
        allowed = urlsplit("//" + entry.strip().lower())
        allowed_host = allowed.hostname or ""
        allowed_port = allowed.port or _DEFAULT_PORTS[scheme]
    except ValueError:
        return False
    if not allowed_host or port != allowed_port:
        return False
    if allowed_host.startswith("*."):
        return host.endswith(allowed_host[1:]) and host != allowed_host[2:]
    return host == allowed_host


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ConversationStore(Protocol):
    """Where the bot can post proactively: conversation references as botbuilder serialises
    them (JSON text), and who installed meetbot in each tenant (a Teams tenant is a workspace)."""

    def remember(
        self,
        *,
        tenant_id: str,
        conversation_id: str,
        conversation_type: str,
        service_url: str,
        reference: str,
        team_id: str = "",
        channel_name: str = "",
        user_aad_id: str = "",
    ) -> None: ...

    def reference(self, *, conversation_id: str) -> str | None: ...

    def personal_reference(self, *, tenant_id: str, user_aad_id: str) -> str | None: ...

    def tenant_references(self, *, tenant_id: str) -> list[str]:
        """The tenant's team and channel conversations first, newest first."""
        ...

    def channel_names(self, *, tenant_id: str) -> dict[str, str]: ...

    def installer(self, *, tenant_id: str) -> str | None: ...

    def bind_tenant(self, *, tenant_id: str, installed_by: str) -> str:
        """Records the tenant; the installer is kept once known. Returns the installer."""
        ...


class _BotCredentials(AppCredentials):
    """One msal app per audience and login endpoint, so its token cache lives across turns."""

    def __init__(
        self, *, app_id: str, password: str, authority: str, scope: str, ca_bundle: str | None
    ) -> None:
        super().__init__(app_id=app_id, oauth_scope=scope)
        self.oauth_endpoint = authority
        self._password = password
        self._ca_bundle = ca_bundle
        self._app: msal.ConfidentialClientApplication | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # keeps the password out of tracebacks and logs
        return (
            f"_BotCredentials(app_id={self.microsoft_app_id!r}, authority={self.oauth_endpoint!r})"
        )

    def get_access_token(self, force_refresh: bool = False) -> str:
        scope = (
            self.oauth_scope
            if self.oauth_scope.endswith("/.default")
            else f"{self.oauth_scope}/.default"
        )
        with self._lock:  # msal answers from its cache until the token is about to expire
            result = self._msal().acquire_token_for_client(scopes=[scope])
        token = result.get("access_token") if isinstance(result, dict) else None
        if not token:
            error = (
                result.get("error", "unknown_error") if isinstance(result, dict) else "no answer"
            )
            raise PermissionError(f"the bot's token was refused ({error})")
        return str(token)

    def _msal(self) -> msal.ConfidentialClientApplication:
        if self._app is None:
            microsoft = self.oauth_endpoint.lower().startswith(PUBLIC_LOGIN_PREFIX)
            self._app = msal.ConfidentialClientApplication(
                self.microsoft_app_id,
                client_credential=self._password,
                authority=self.oauth_endpoint,
                http_client=_login_session(self._ca_bundle),
                instance_discovery=microsoft,
                validate_authority=microsoft,
            )
        return self._app


def _login_session(ca_bundle: str | None) -> requests.Session:
    session = requests.Session()
    if ca_bundle:
        # The environment's CA-bundle variables would otherwise win over `verify`.
        session.verify, session.trust_env = ca_bundle, False
    return session


class CachingCredentialsFactory(ServiceClientCredentialsFactory):
    def __init__(self, config: TeamsConfig) -> None:
        self._config = config
        self._cached: dict[tuple[str, str], AppCredentials] = {}
        self._lock = threading.Lock()

    async def is_valid_app_id(self, app_id: str) -> bool:
        return app_id == self._config.app_id

    async def is_authentication_disabled(self) -> bool:
        return not self._config.app_id

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> AppCredentials:
        if not self._config.app_id:
            return MicrosoftAppCredentials.empty()
        if app_id != self._config.app_id:
            raise PermissionError("Invalid app_id")
        credentials = self._credentials(oauth_scope, login_endpoint)
        # msrest asks for the token synchronously on the event loop: have it cached by then.
        await asyncio.to_thread(credentials.get_access_token)
        return credentials

    def _credentials(self, scope: str, login_endpoint: str) -> AppCredentials:
        authority = login_endpoint
        if self._config.tenant_id and authority.lower().startswith(PUBLIC_LOGIN_PREFIX):
            authority = PUBLIC_LOGIN_PREFIX + self._config.tenant_id
        with self._lock:
            found = self._cached.get((scope, authority))
            if found is None:
                found = _BotCredentials(
                    app_id=self._config.app_id,
                    password=self._config.app_password,
                    authority=authority,
                    scope=scope,
                    ca_bundle=self._config.ca_bundle,
                )
                self._cached[(scope, authority)] = found
            return found


def _botbuilder_settings(config: TeamsConfig) -> SimpleNamespace:
    settings: dict[str, Any] = {"APP_ID": config.app_id, "APP_TYPE": "MultiTenant"}
    overrides = {
        "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL": config.openid_metadata_url,
        # An emulator-shaped token is then checked against the same keys, never Microsoft's.
        "TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL": config.openid_metadata_url,
        "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER": config.token_issuer,
        "TO_CHANNEL_FROM_BOT_LOGIN_URL": config.login_url,
        "TO_CHANNEL_FROM_BOT_OAUTH_SCOPE": config.oauth_scope,
    }
    settings.update({name: value for name, value in overrides.items() if value})
    return SimpleNamespace(**settings)


class TeamsConnector:
    """botbuilder's CloudAdapter plus Connector clients that only reach allow-listed hosts."""

    def __init__(self, config: TeamsConfig) -> None:
        self.config = config
        self.credentials = CachingCredentialsFactory(config)
        self.adapter = CloudAdapter(
            ConfigurationBotFrameworkAuthentication(
                _botbuilder_settings(config), credentials_factory=self.credentials
            )
        )
        self._clients: dict[str, ConnectorClient] = {}

    @property
    def app_id(self) -> str:
        return self.config.app_id

    def allowed(self, service_url: str) -> bool:
        return allowed_service_url(service_url, self.config.service_url_hosts)

    def check(self, service_url: str) -> None:
        if not self.allowed(service_url):
            raise ServiceUrlRefused(
                f"Teams: {urlsplit(service_url).hostname or 'that address'} is not one of "
                "Microsoft's Teams hosts (MEETBOT_TEAMS_SERVICE_URL_HOSTS); nothing was sent"
            )

    async def authenticate(
        self, activity: Activity, header: str | None
    ) -> AuthenticateRequestResult:
        """Raises for every way the token can be bad (not only PermissionError)."""
        auth = self.adapter.bot_framework_authentication
        return await auth.authenticate_request(activity, header)

    async def client(self, service_url: str) -> ConnectorClient:
        """A Connector client for `service_url`, after the allow-list check; one per host URL."""
        self.check(service_url)
        client = self._clients.get(service_url)
        if client is None:
            identity = self.adapter.create_claims_identity(self.app_id)
            factory = self.adapter.bot_framework_authentication.create_connector_factory(identity)
            client = await factory.create(service_url, None)
            client.config.connection.timeout = self.config.timeout_seconds
            self._clients[service_url] = client
        else:  # the credentials object is shared: refresh its token off the event loop
            await asyncio.to_thread(_refresh, client)
        return client

    async def _checked_client(self, service_url: str) -> ConnectorClient:
        try:
            return await self.client(service_url)
        except Exception as error:  # nothing was sent yet: a plain retry is safe
            raise connector_error(error, posting=False) from error

    async def send(self, *, service_url: str, conversation_id: str, activity: Activity) -> str:
        """Posts into a conversation (a thread when the id names one); the new activity's id."""
        client = await self._checked_client(service_url)
        try:
            answer = await client.conversations.send_to_conversation(conversation_id, activity)
        except Exception as error:
            raise connector_error(error, posting=True) from error
        return str(getattr(answer, "id", "") or "")

    async def update(
        self, *, service_url: str, conversation_id: str, activity_id: str, activity: Activity
    ) -> None:
        client = await self._checked_client(service_url)
        activity.id = activity_id
        try:
            await client.conversations.update_activity(conversation_id, activity_id, activity)
        except Exception as error:
            raise connector_error(error, posting=False) from error

    async def create_thread(
        self, *, service_url: str, channel_id: str, activity: Activity
    ) -> tuple[str, str]:
        """A new thread in a channel: (the thread's conversation id, the first activity's id)."""
        client = await self._checked_client(service_url)
        parameters = ConversationParameters(
            is_group=True, channel_data={"channel": {"id": channel_id}}, activity=activity
        )
        try:
            answer = await client.conversations.create_conversation(parameters)
        except Exception as error:
            raise connector_error(error, posting=True) from error
        activity_id = str(answer.activity_id or "")
        return str(answer.id or f"{channel_id};messageid={activity_id}"), activity_id

    async def open_personal_chat(
        self, *, service_url: str, bot_id: str, user_id: str, tenant_id: str
    ) -> str:
        """The 1:1 chat with a person ("29:..." id); Teams answers the same chat every time."""
        client = await self._checked_client(service_url)
        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=bot_id),
            members=[ChannelAccount(id=user_id)],
            tenant_id=tenant_id,
            channel_data={"tenant": {"id": tenant_id}},
        )
        try:
            answer = await client.conversations.create_conversation(parameters)
        except Exception as error:
            raise connector_error(error, posting=False) from error
        return str(answer.id)

    async def member_id(
        self, *, service_url: str, conversation_id: str, user_aad_id: str
    ) -> str | None:
        """A person's Teams user id ("29:...") from their Entra object id, if they are a member."""
        client = await self._checked_client(service_url)
        try:
            member = await client.conversations.get_conversation_member(
                conversation_id, user_aad_id
            )
        except Exception as error:
            problem = connector_error(error, posting=False)
            if isinstance(problem, ChatChannelUnavailable):
                return None
            raise problem from error
        return str(getattr(member, "id", "") or "") or None

    async def aclose(self) -> None:
        """Closes the clients' HTTP sessions (msrest clients close through their async exit)."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            try:
                await client.__aexit__(None, None, None)
            except Exception as error:  # closing must not stop the other clients from closing
                log.warning("could not close a Teams connector client: %s", type(error).__name__)


def parse_reference(text: str) -> ConversationReference:
    reference: ConversationReference = ConversationReference().deserialize(json.loads(text))
    return reference


def reference_json(reference: ConversationReference) -> str:
    return json.dumps(reference.serialize(), sort_keys=True)


def personal_reference(
    *,
    service_url: str,
    conversation_id: str,
    tenant_id: str,
    bot: ChannelAccount,
    user: ChannelAccount,
) -> ConversationReference:
    return ConversationReference(
        channel_id=CHANNEL_ID,
        service_url=service_url,
        bot=bot,
        user=user,
        conversation=ConversationAccount(
            id=conversation_id, conversation_type="personal", tenant_id=tenant_id
        ),
    )


def _refresh(client: ConnectorClient) -> None:
    credentials = client.config.credentials
    if isinstance(credentials, AppCredentials) and credentials.microsoft_app_id:
        credentials.get_access_token()


def connector_error(error: Exception, *, posting: bool) -> MeetbotError:
    """A failed Connector call in the core's words. `posting`: the call creates something, so a
    lost answer leaves its outcome unknown."""
    if isinstance(error, MeetbotError):
        return error
    if isinstance(error, HttpOperationError):
        return _status_error(error, posting=posting)
    if isinstance(error, PermissionError):
        return ChatAuthRevoked(
            "Microsoft refused meetbot's Teams app credentials: check MEETBOT_TEAMS_APP_ID and "
            "MEETBOT_TEAMS_APP_PASSWORD (an app password expires; create a new one in Azure)"
        )
    if isinstance(error, ClientRequestError | requests.RequestException | TimeoutError):
        what = f"Teams could not be reached ({type(error).__name__})"
        return OutcomeUnknown(what) if posting else RetryLater(what)
    return RetryLater(f"Teams call failed ({type(error).__name__})")


def _status_error(error: HttpOperationError, *, posting: bool) -> MeetbotError:
    response = error.response
    status = int(getattr(response, "status_code", 0) or 0)
    code, message = _error_body(error)
    if status == 401:
        return ChatAuthRevoked(
            "Teams refused meetbot's credentials (401): check the Teams app id and password"
        )
    if status == 403 and code in ("BotNotInConversationRoster", "ConversationBlockedByUser"):
        why = (
            "the person blocked meetbot"
            if code == "ConversationBlockedByUser"
            else "meetbot was removed from this team, channel or chat"
        )
        return ChatChannelUnavailable(f"Teams: {why}", code=code)
    if status == 404 and code == "ActivityNotFoundInConversation":
        return ChatMessageGone("Teams: the message was deleted")
    if status == 404:
        return ChatChannelUnavailable(
            "Teams: the conversation or message no longer exists (deleted, or meetbot was removed)",
            code=code or "ConversationNotFound",
        )
    if status in RETRYABLE:
        return RetryLater(
            f"Teams asked to try again later ({status} {code})".rstrip(),
            after_seconds=_retry_after(response),
        )
    if status == 413:
        return PermanentFailure("Teams refused the message: it is larger than Teams allows")
    if status >= 500:
        what = f"Teams answered {status} {code}".rstrip()
        return OutcomeUnknown(what) if posting else RetryLater(what)
    return PermanentFailure(f"Teams refused the request ({status} {code}): {message}".rstrip(": "))


def _error_body(error: HttpOperationError) -> tuple[str, str]:
    body = getattr(getattr(error, "error", None), "error", None)
    code = str(getattr(body, "code", "") or "")
    message = str(getattr(body, "message", "") or "")
    return code, message[:200]


def _retry_after(response: Any) -> float:
    headers = getattr(response, "headers", None) or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else DEFAULT_RETRY_SECONDS
    except ValueError:
        return DEFAULT_RETRY_SECONDS
