"""botbuilder behind one door: the CloudAdapter and Connector clients that reach only allow-listed
hosts. The rest of `adapters.teams` talks to this module; its parts are `config` (what it is set up
with), `credentials` (the bot's token, cached), `service_urls` (the allow-list) and
`connector_errors` (the Connector's errors in the core's words).

Wire facts relied on: botbuilder-python 4.17.1 sources; Bot Connector API reference; Teams docs
"Status codes from bot conversational APIs" (see the modules named above).
"""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity, ChannelAccount, ConversationParameters
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import AppCredentials, AuthenticateRequestResult

from adapters.teams.config import TeamsConfig
from adapters.teams.connector_errors import connector_error
from adapters.teams.credentials import CachingCredentialsFactory
from adapters.teams.service_urls import ServiceUrlRefused, allowed_service_url
from bot.errors import ChatChannelUnavailable

# The configuration and the allow-list are part of what this door offers its callers.
__all__ = ["ServiceUrlRefused", "TeamsConfig", "TeamsConnector", "allowed_service_url"]

log = logging.getLogger("meetbot.teams")


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


def _refresh(client: ConnectorClient) -> None:
    credentials = client.config.credentials
    if isinstance(credentials, AppCredentials) and credentials.microsoft_app_id:
        credentials.get_access_token()
