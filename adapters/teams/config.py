"""What the Teams front-end is configured with: the bot's registration and the hosts it may reach."""

from __future__ import annotations

from dataclasses import dataclass

MAX_BODY_BYTES = 256 * 1024  # an activity on /api/messages; Teams messages are limited to ~28 KB

# Microsoft's own Teams SDK trusts these for the public cloud (its service-URL validation).
DEFAULT_SERVICE_URL_HOSTS = (
    "smba.trafficmanager.net",
    "smba.onyx.prod.teams.trafficmanager.net",
    "smba.infra.gcc.teams.microsoft.com",
)


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
