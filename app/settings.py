"""Typed settings from `MEETBOT_*` environment variables (and an optional `.env` file).

Placeholder secrets are refused at start-up, so a copied `.env.example` cannot run in production
with its sample values.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDERS = {
    "changeme",
    "change-me",
    "change_me",
    "secret",
    "placeholder",
    "xxx",
    "todo",
    "example",
}


DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql", "postgresql+psycopg")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _is_placeholder(value: str) -> bool:
    lowered = value.strip().lower()
    return lowered in PLACEHOLDERS or lowered.startswith(("your-", "your_", "<"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MEETBOT_", env_file=".env", extra="ignore", env_ignore_empty=True
    )

    database_url: str = "sqlite:///meetbot.db"
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    # How long a SQLite writer waits for the lock before giving up: a webhook then answers 503.
    sqlite_busy_timeout_seconds: float = Field(default=30.0, gt=0)
    # SimplyBook.me callbacks per company token and process (more get 429 with Retry-After).
    simplybook_callback_rate: str = "120/minute"
    # Booking events per generic source and process (more get 429 with Retry-After).
    booking_webhook_rate: str = "120/minute"
    public_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    secret_keys: SecretStr | None = None
    log_level: str = "INFO"
    # "json": one JSON object a line (time, level, logger, message, request_id / job_id).
    log_format: Literal["text", "json"] = "text"
    # GET /metrics (Prometheus text format), off unless turned on; with a token, only for
    # "Authorization: Bearer <token>".
    metrics: bool = False
    metrics_token: SecretStr | None = None

    slack_signing_secret: SecretStr | None = None
    slack_bot_token: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api"

    zoom_client_id: str | None = None
    zoom_client_secret: SecretStr | None = None
    zoom_api_url: str = "https://api.zoom.us/v2"
    zoom_oauth_url: str = "https://zoom.us"
    zoom_webhook_secret_token: SecretStr | None = None

    ms_client_id: str | None = None
    ms_client_secret: SecretStr | None = None
    graph_api_url: str = "https://graph.microsoft.com/v1.0"
    ms_authority: str = "https://login.microsoftonline.com/organizations"
    # Only for an authority that is not Microsoft's own (a local stand-in): a CA bundle to trust
    # and no authority validation / instance discovery, which would ask login.microsoftonline.com.
    ms_ca_bundle: str | None = None
    ms_simulated_authority: bool = False

    # Microsoft Teams as a chat front-end: the bot's Azure registration. Without an app id the
    # Teams endpoint is off, unless teams_allow_unauthenticated turns it on for local development.
    teams_app_id: str | None = None
    teams_app_password: SecretStr | None = None
    teams_app_tenant_id: str | None = None  # only for a single-tenant bot registration
    teams_allow_unauthenticated: bool = False
    # Hosts the bot may call back at (an activity's serviceUrl); "*.example.com" matches subdomains;
    # "host:port" allows that port, a bare host only the scheme's default one.
    teams_service_url_hosts: str = (
        "smba.trafficmanager.net,smba.onyx.prod.teams.trafficmanager.net,"
        "smba.infra.gcc.teams.microsoft.com"
    )
    # botbuilder's endpoints, set only to use another cloud or a local stand-in; the CA bundle is
    # trusted for the login endpoint alone.
    teams_openid_metadata_url: str | None = None
    teams_token_issuer: str | None = None
    teams_login_url: str | None = None
    teams_oauth_scope: str | None = None
    teams_ca_bundle: str | None = None

    simplybook_api_url: str = "https://user-api.simplybook.me"

    http_timeout_seconds: float = 15.0
    # meetbot's own server, facing the internet (see README, "Limits and timeouts").
    server_header_timeout_seconds: float = Field(default=10.0, gt=0)
    server_body_timeout_seconds: float = Field(default=15.0, gt=0)
    server_keep_alive_seconds: int = Field(default=5, ge=1)
    server_max_connections: int = Field(default=500, ge=2)
    server_max_header_bytes: int = Field(default=16 * 1024, ge=1024)
    http_max_connections: int = 32
    worker_concurrency: int = Field(default=4, ge=1, le=64)
    # `meetbot serve` runs a worker in its own process unless this is false (`--no-worker`): then
    # it only answers requests, and `meetbot worker` processes run the jobs.
    serve_worker: bool = True
    job_lease_seconds: float = 120.0
    job_max_attempts: int = 8
    job_backoff_base_seconds: float = 2.0
    job_backoff_cap_seconds: float = 900.0
    worker_idle_poll_seconds: float = 0.5
    # Each company's hourly routine (Kiosk check, daily digest) is queued when a worker starts.
    company_routines: bool = True

    @field_validator(
        "secret_keys",
        "slack_signing_secret",
        "slack_bot_token",
        "slack_client_secret",
        "zoom_client_secret",
        "ms_client_secret",
        "teams_app_password",
        "metrics_token",
    )
    @classmethod
    def _refuse_placeholders(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and _is_placeholder(value.get_secret_value()):
            raise ValueError("is a placeholder; set a real value or leave it unset")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme not in DATABASE_SCHEMES and not scheme.startswith("sqlite+"):
            shown = f"'{scheme}://'" if scheme else "no scheme"
            raise ValueError(
                f"has {shown}; use sqlite:///path/to/meetbot.db or postgresql://user:password@host/db"
            )
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"is '{value}'; use one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("log_format", mode="before")
    @classmethod
    def _format_any_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator(
        "public_url",
        "slack_api_url",
        "zoom_api_url",
        "zoom_oauth_url",
        "graph_api_url",
        "ms_authority",
        "simplybook_api_url",
    )
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _slack_is_complete(self) -> Settings:
        multi = bool(self.slack_client_id and self.slack_client_secret)
        if self.slack_signing_secret is not None and not (self.slack_bot_token or multi):
            raise ValueError(
                "Slack is half set up: MEETBOT_SLACK_SIGNING_SECRET needs either MEETBOT_SLACK_BOT_TOKEN "
                "(one workspace) or MEETBOT_SLACK_CLIENT_ID and MEETBOT_SLACK_CLIENT_SECRET (install flow)"
            )
        return self

    @field_validator("teams_openid_metadata_url", "teams_login_url")
    @classmethod
    def _optional_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _teams_is_complete(self) -> Settings:
        if bool(self.teams_app_id) != bool(self.teams_app_password):
            raise ValueError(
                "Teams is half set up: MEETBOT_TEAMS_APP_ID and MEETBOT_TEAMS_APP_PASSWORD go "
                "together (both from the bot's Azure registration)"
            )
        return self

    @property
    def teams_enabled(self) -> bool:
        """Teams' endpoint is served: authenticated with an app id, or explicitly without one."""
        return bool(self.teams_app_id) or self.teams_allow_unauthenticated

    def teams_service_url_host_list(self) -> list[str]:
        return [host.strip() for host in self.teams_service_url_hosts.split(",") if host.strip()]

    def secret_key_list(self) -> list[str]:
        if self.secret_keys is None:
            return []
        return [
            key.strip() for key in self.secret_keys.get_secret_value().split(",") if key.strip()
        ]

    def as_environment(self) -> dict[str, str]:
        """These settings as MEETBOT_* variables, to start another meetbot process the same way."""
        variables = {}
        for name, value in self.model_dump().items():
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            variables[f"MEETBOT_{name.upper()}"] = str(value)
        return variables

    def secret_values(self) -> list[str]:
        """Every configured secret, for the log redactor."""
        fields = (
            self.secret_keys,
            self.slack_signing_secret,
            self.slack_bot_token,
            self.slack_client_secret,
            self.zoom_client_secret,
            self.ms_client_secret,
            self.teams_app_password,
            self.metrics_token,
        )
        values = [field.get_secret_value() for field in fields if field is not None]
        return [*values, *self.secret_key_list()]
