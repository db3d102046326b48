"""The bot's own credentials, kept across turns.

botbuilder asks a `ServiceClientCredentialsFactory` for credentials on every turn and every
connector client; its own factory builds a new msal app (and so a new token request) each time.
The factory here keeps one credentials object per audience and login endpoint, and fetches the
token in a worker thread because msrest reads it synchronously on the event loop.
"""

from __future__ import annotations

import asyncio
import threading

import msal
import requests
from botframework.connector.auth import (
    AppCredentials,
    MicrosoftAppCredentials,
    ServiceClientCredentialsFactory,
)

from adapters.teams.config import TeamsConfig

PUBLIC_LOGIN_PREFIX = "https://login.microsoftonline.com/"


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
