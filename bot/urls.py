"""meetbot's public addresses: every link a person or a platform is given, built in one place.

The paths are constants so that the route tables serve exactly what these links point at. A link
is the public base URL (as configured, with or without a trailing slash) plus a path; tokens and
sign-in ids are already URL-safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

CLIENT_PATH, HOST_PATH = "/m/", "/h/"  # + a meeting's client token, or its host token
SIMPLYBOOK_CALLBACK_PATH = "/webhooks/simplybook/"  # + the company's webhook token
BOOKING_WEBHOOK_PATH = "/webhooks/bookings/"  # + a generic booking source's id
ZOOM_START_PATH, ZOOM_CALLBACK_PATH = "/oauth/zoom/start", "/oauth/zoom/callback"
MICROSOFT_START_PATH = "/oauth/microsoft/start"
MICROSOFT_CALLBACK_PATH = "/oauth/microsoft/callback"
SLACK_INSTALL_PATH, SLACK_REDIRECT_PATH = "/slack/install", "/slack/oauth_redirect"
HOME_PATH, PRIVACY_PATH, TERMS_PATH = "/", "/privacy", "/terms"  # meetbot's own pages


@dataclass(frozen=True, slots=True)
class PublicUrls:
    base: str

    def _at(self, path: str) -> str:
        return f"{self.base.rstrip('/')}{path}"

    def client_link(self, token: str) -> str:
        return self._at(f"{CLIENT_PATH}{token}")

    def host_link(self, token: str) -> str:
        return self._at(f"{HOST_PATH}{token}")

    def simplybook_callback(self, webhook_token: str) -> str:
        """Pasted into SimplyBook.me by the admin; works like a password."""
        return self._at(f"{SIMPLYBOOK_CALLBACK_PATH}{webhook_token}")

    def booking_webhook(self, source_id: str) -> str:
        """Where a generic booking source sends its signed events."""
        return self._at(f"{BOOKING_WEBHOOK_PATH}{source_id}")

    def zoom_start(self, start_id: str) -> str:
        return self._at(f"{ZOOM_START_PATH}?{urlencode({'id': start_id})}")

    def microsoft_start(self, start_id: str) -> str:
        return self._at(f"{MICROSOFT_START_PATH}?{urlencode({'id': start_id})}")

    def zoom_redirect(self) -> str:
        """The OAuth redirect URL registered with Zoom."""
        return self._at(ZOOM_CALLBACK_PATH)

    def microsoft_redirect(self) -> str:
        """The OAuth redirect URL registered with Microsoft."""
        return self._at(MICROSOFT_CALLBACK_PATH)

    def slack_install(self) -> str:
        return self._at(SLACK_INSTALL_PATH)

    def slack_redirect(self) -> str:
        """The OAuth redirect URL registered with Slack."""
        return self._at(SLACK_REDIRECT_PATH)
