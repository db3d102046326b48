"""msal's confidential client, built the same way for signing in and for refreshing tokens.

Wire facts relied on (msal-python 1.3x):
- msal is synchronous and speaks through the `requests.Session` given as `http_client`; callers run
  it in a thread. A session ignores `verify` when the environment names a CA bundle unless
  `trust_env` is off, so it is off and `verify` is the configured bundle or the system's trust.
- An app fetches `{authority}/v2.0/.well-known/openid-configuration` when it is built (and, for an
  authority msal does not know, instance discovery too; `instance_discovery=False` with
  `validate_authority=False` turns both checks off for a simulated authority). A 4xx there raises
  ValueError, a 5xx `MsalServiceError`, a network failure `requests.RequestException`.
- msal adds `openid`, `profile` and `offline_access` to every request itself and raises if they are
  asked for; the scopes asked for here are Graph's only.
- Each app throttles by caching error answers of the token endpoint in its own http cache: HTTP 400
  for 60 seconds and 429/5xx for their Retry-After. Apps are built per operation, so a later retry
  (a new job attempt) really asks Microsoft again instead of replaying a cached refusal.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msal
import requests

from bot.errors import MeetingPlatformRejected

SCOPES = ["OnlineMeetings.ReadWrite", "User.Read"]
CONSUMER_TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"  # personal Microsoft accounts
DISCOVERY_SUFFIX = "/.well-known/openid-configuration"
DISCOVERY_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class MsalConfig:
    client_id: str
    client_secret: str
    authority: str  # e.g. https://login.microsoftonline.com/organizations
    ca_bundle: str | None = None  # None: the system's trust store
    validate_authority: bool = True  # False only for a simulated authority
    timeout_seconds: float = 15.0

    def __repr__(self) -> str:
        return f"MsalConfig(client_id={self.client_id!r}, authority={self.authority!r})"


class _Session(requests.Session):
    """A session with a default timeout that remembers discovery documents for a while.

    Apps are built per operation; without the memory each would fetch the same document again.
    """

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout
        self._discovered: dict[str, tuple[float, requests.Response]] = {}
        self._lock = threading.Lock()

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self._timeout)
        return super().request(method, url, *args, **kwargs)

    def get(self, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        if args or kwargs.get("params") or not str(url).endswith(DISCOVERY_SUFFIX):
            return super().get(url, *args, **kwargs)
        with self._lock:
            remembered = self._discovered.get(str(url))
        if remembered is not None and remembered[0] > time.monotonic():
            return remembered[1]
        response = super().get(url, **kwargs)
        if response.status_code == 200:
            kept = (time.monotonic() + DISCOVERY_SECONDS, _detached(response))
            with self._lock:
                self._discovered[str(url)] = kept
        return response


def _detached(response: requests.Response) -> requests.Response:
    """A copy holding no connection, safe to keep and to hand to several threads."""
    copy = requests.Response()
    copy.status_code, copy.url = response.status_code, response.url
    copy.encoding = response.encoding
    copy.headers.update(response.headers)
    copy._content = response.content
    response.close()
    return copy


class MsalApps:
    """Builds msal apps over one HTTP session; each app gets the token cache it is given."""

    def __init__(self, config: MsalConfig) -> None:
        self.config = config
        self._session = _Session(config.timeout_seconds)
        self._session.trust_env = False
        self._session.verify = config.ca_bundle or True

    def app(self, cache: msal.SerializableTokenCache) -> msal.ConfidentialClientApplication:
        """A new app bound to `cache` (blocking: it fetches the discovery document)."""
        checks: dict[str, Any] = (
            {} if self.config.validate_authority else {"instance_discovery": False}
        )
        try:
            return msal.ConfidentialClientApplication(
                self.config.client_id,
                client_credential=self.config.client_secret,
                authority=self.config.authority,
                token_cache=cache,
                http_client=self._session,
                validate_authority=self.config.validate_authority,
                **checks,
            )
        except ValueError as error:  # discovery answered 4xx: no such authority or tenant
            raise MeetingPlatformRejected(
                "Microsoft does not know meetbot's sign-in address (check MEETBOT_MS_AUTHORITY)"
            ) from error

    def close(self) -> None:
        self._session.close()


def aadsts_codes(result: Mapping[str, Any]) -> set[int]:
    """The AADSTS error codes of a token answer or of a sign-in redirect's description."""
    listed = result.get("error_codes")
    codes = {int(c) for c in listed if str(c).isdigit()} if isinstance(listed, list) else set()
    described = re.findall(r"AADSTS(\d+)", str(result.get("error_description") or ""))
    return codes | {int(code) for code in described}


def first_line(text: object) -> str:
    """An error description without the trace and correlation ids Microsoft appends."""
    return str(text or "").replace("\r", "").split("\n", 1)[0].strip()
