"""The composition root: builds everything from settings. Nothing is built at import time.

`Core` holds what is thread-safe and shared (database, encryption, repositories, job queue);
`Integrations` holds the HTTP clients, which belong to one event loop. The web app and each worker
build their own `Integrations` on their own loop.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx
from sqlalchemy import Engine

from adapters.simplybook.client import SimplyBookClient
from adapters.slack.sender import (
    CHANNEL_MAX_WAIT_SECONDS,
    CHANNEL_PACE_REASON,
    CHANNEL_SPACING_SECONDS,
    SlackSender,
)
from adapters.zoom.api import ZoomApi
from adapters.zoom.directory import ZoomDirectory
from adapters.zoom.meetings import ZoomMeetings
from adapters.zoom.oauth import ZoomOAuth
from adapters.zoom.tokens import ZoomAccessTokens
from app.http_clients import platform_client
from app.logs import install_redaction
from app.metrics import Metrics, slack_trace
from app.settings import Settings
from bot.clock import Clock, SystemClock
from bot.domain import ChatPlatform, MeetingPlatform
from bot.pacing import SendPacer
from bot.ports import ChatSender, MeetingPlatformPort
from bot.urls import PublicUrls
from storage.accounts import SqlChatWorkspaces, SqlZoomAccounts
from storage.admin_records import SqlAdminRecords
from storage.alerts import SqlAlerts
from storage.booking_webhooks import SqlBookingWebhooks
from storage.bookings import SqlBookings
from storage.callbacks import SqlCallbackInbox
from storage.catalog import SqlCatalog
from storage.companies import SqlCompanies
from storage.crypto import SecretBox, SecretKeyError
from storage.db import make_engine, migrate
from storage.home import SqlHome
from storage.jobs import SqlJobQueue
from storage.links import SqlLinks
from storage.meetings import SqlMeetings
from storage.ms_accounts import SqlMsAccounts
from storage.ms_sign_ins import SqlMsSignIns
from storage.oauth_states import SqlOAuthStates
from storage.outbox import SqlOutbox
from storage.pacing import SqlPacer
from storage.seats import SqlSeats
from storage.staff import SqlStaff
from storage.teams_conversations import SqlTeamsConversations
from storage.templates import SqlTemplates
from storage.zoom_connections import SqlZoomConnections

if TYPE_CHECKING:  # Microsoft's SDKs are imported only when Teams or Microsoft is configured
    from adapters.msgraph.connect import MsConnect
    from adapters.msgraph.meetings import GraphMeetings
    from adapters.msgraph.msal_apps import MsalApps
    from adapters.teams.config import TeamsConfig
    from adapters.teams.sender import TeamsSender
    from adapters.teams.unconfigured import TeamsNotConfigured

log = logging.getLogger("meetbot")


class ConfigurationError(RuntimeError):
    pass


def _platform_tls() -> ssl.SSLContext:
    # The platforms' certificates are checked against httpx's bundle, whatever SSL_CERT_FILE says.
    return httpx.create_ssl_context(trust_env=False)


@dataclass
class Core:
    settings: Settings
    clock: Clock
    box: SecretBox
    # One repository per aggregate, named after the core's port it implements.
    companies: SqlCompanies
    catalog: SqlCatalog
    staff: SqlStaff
    zoom_accounts: SqlZoomConnections
    booking_records: SqlBookings
    meetings: SqlMeetings
    seats: SqlSeats
    callbacks: SqlCallbackInbox
    links: SqlLinks
    zoom_tokens: SqlZoomAccounts
    workspaces: SqlChatWorkspaces
    queue: SqlJobQueue
    states: SqlOAuthStates
    alerts: SqlAlerts
    outbox: SqlOutbox
    records: SqlAdminRecords
    templates: SqlTemplates
    ms_accounts: SqlMsAccounts
    home: SqlHome
    booking_webhooks: SqlBookingWebhooks
    engine: Engine = field(repr=False)
    metrics: Metrics = field(default_factory=Metrics, repr=False)
    # httpx loads the CA bundle into a new context for each client (~0.8 MiB each, and the web
    # app and every worker build their own clients); a context is safe to share across threads.
    tls: ssl.SSLContext = field(default_factory=_platform_tls, repr=False)

    def migrate(self) -> None:
        migrate(self.engine, box=self.box)  # a migration may need to encrypt what it moves

    def slack_token(self, workspace_id: str) -> str | None:
        stored = self.workspaces.bot_token(
            platform=ChatPlatform.SLACK.value, external_id=workspace_id
        )
        if stored:
            return stored
        settings = self.settings
        if settings.slack_client_id and settings.slack_client_secret:
            return None  # install mode: a workspace that did not install meetbot gets no token
        configured = settings.slack_bot_token
        return configured.get_secret_value() if configured else None


def build_core(settings: Settings, *, clock: Clock | None = None) -> Core:
    install_redaction(settings.secret_values())  # whoever embeds meetbot gets clean logs too
    keys = settings.secret_key_list()
    if not keys:
        raise ConfigurationError(
            "MEETBOT_SECRET_KEYS is not set: tokens are encrypted at rest. "
            "Create a key with `meetbot keys new` and set MEETBOT_SECRET_KEYS to it."
        )
    try:
        box = SecretBox(keys)
    except SecretKeyError as error:
        raise ConfigurationError(f"MEETBOT_SECRET_KEYS: {error}") from error
    clock = clock or SystemClock()
    engine = make_engine(
        settings.database_url,
        sqlite_synchronous=settings.sqlite_synchronous,
        sqlite_busy_timeout_seconds=settings.sqlite_busy_timeout_seconds,
        connections=settings.worker_concurrency + 4,
    )
    staff = SqlStaff(engine, clock)
    core = Core(
        settings=settings,
        clock=clock,
        box=box,
        companies=SqlCompanies(engine, box, clock),
        catalog=SqlCatalog(engine),
        staff=staff,
        zoom_accounts=SqlZoomConnections(engine, box, clock),
        booking_records=SqlBookings(engine, clock),
        meetings=SqlMeetings(engine, box, clock),
        seats=SqlSeats(engine, box, clock),
        callbacks=SqlCallbackInbox(engine, clock),
        links=SqlLinks(engine, box),
        zoom_tokens=SqlZoomAccounts(engine, box, clock),
        workspaces=SqlChatWorkspaces(engine, box),
        queue=SqlJobQueue(engine, clock),
        states=SqlOAuthStates(engine, clock, box),
        alerts=SqlAlerts(engine, clock),
        outbox=SqlOutbox(engine, clock, staff=staff),
        records=SqlAdminRecords(engine, clock, box),
        templates=SqlTemplates(engine, clock),
        ms_accounts=SqlMsAccounts(engine, box, clock),
        home=SqlHome(engine, box, clock),
        booking_webhooks=SqlBookingWebhooks(engine, box, clock),
        engine=engine,
    )
    core.metrics.watch(core)
    return core


def _http_client(core: Core, platform: str) -> httpx.AsyncClient:
    settings = core.settings
    return platform_client(
        core.metrics,
        platform,
        tls=core.tls,
        timeout_seconds=settings.http_timeout_seconds,
        max_connections=settings.http_max_connections,
    )


@dataclass
class MicrosoftParts:
    """Teams meetings through Graph, and Microsoft's sign-in (only when configured)."""

    apps: MsalApps
    graph: GraphMeetings
    sign_in: MsConnect


@dataclass
class Integrations:
    simplybook: SimplyBookClient
    zoom_oauth: ZoomOAuth
    zoom: ZoomMeetings
    zoom_directory: ZoomDirectory
    slack: SlackSender
    _clients: list[httpx.AsyncClient]
    microsoft: MicrosoftParts | None = None
    teams: TeamsSender | TeamsNotConfigured | None = None

    def chats(self) -> dict[ChatPlatform, ChatSender]:
        found: dict[ChatPlatform, ChatSender] = {ChatPlatform.SLACK: self.slack}
        if self.teams is not None:
            found[ChatPlatform.TEAMS] = self.teams
        return found

    def platforms(self) -> dict[MeetingPlatform, MeetingPlatformPort]:
        found: dict[MeetingPlatform, MeetingPlatformPort] = {MeetingPlatform.ZOOM: self.zoom}
        if self.microsoft is not None:
            found[MeetingPlatform.TEAMS] = self.microsoft.graph
        return found

    async def aclose(self) -> None:
        await self.slack.aclose()
        if self.teams is not None:
            await self.teams.aclose()
        for client in self._clients:
            await client.aclose()
        if self.microsoft is not None:
            await asyncio.to_thread(self.microsoft.apps.close)


def build_microsoft(core: Core) -> tuple[MicrosoftParts, httpx.AsyncClient] | None:
    settings = core.settings
    secret = settings.ms_client_secret
    if not settings.ms_client_id or secret is None:
        return None
    # Here, not at the top: msal and its dependencies cost memory a deployment without
    # Microsoft should not pay.
    from adapters.msgraph.connect import MsConnect
    from adapters.msgraph.meetings import GraphMeetings
    from adapters.msgraph.msal_apps import MsalApps, MsalConfig
    from adapters.msgraph.tokens import GraphTokens

    http = _http_client(core, "microsoft")
    apps = MsalApps(
        MsalConfig(
            settings.ms_client_id,
            secret.get_secret_value(),
            settings.ms_authority,
            ca_bundle=settings.ms_ca_bundle,
            validate_authority=not settings.ms_simulated_authority,
            timeout_seconds=settings.http_timeout_seconds,
        )
    )
    parts = MicrosoftParts(
        apps=apps,
        graph=GraphMeetings(
            http, api_url=settings.graph_api_url, tokens=GraphTokens(core.ms_accounts, apps)
        ),
        sign_in=MsConnect(
            apps,
            SqlMsSignIns(core.engine, core.box, core.clock, core.ms_accounts),
            redirect_uri=PublicUrls(settings.public_url).microsoft_redirect(),
        ),
    )
    return parts, http


def build_integrations(core: Core) -> Integrations:
    settings = core.settings
    simplybook_http, zoom_http = _http_client(core, "simplybook"), _http_client(core, "zoom")
    clients = [simplybook_http, zoom_http]
    microsoft = build_microsoft(core)
    if microsoft is not None:
        clients.append(microsoft[1])
    secret = settings.zoom_client_secret
    zoom_oauth = ZoomOAuth(
        zoom_http,
        oauth_url=settings.zoom_oauth_url,
        client_id=settings.zoom_client_id or "",
        client_secret=secret.get_secret_value() if secret else "",
    )
    tokens = ZoomAccessTokens(core.zoom_tokens, zoom_oauth, core.clock)
    zoom = ZoomMeetings(
        ZoomApi(zoom_http, api_url=settings.zoom_api_url, tokens=tokens, clock=core.clock)
    )
    return Integrations(
        simplybook=SimplyBookClient(simplybook_http, api_url=settings.simplybook_api_url),
        zoom_oauth=zoom_oauth,
        zoom=zoom,
        zoom_directory=ZoomDirectory(
            zoom_http,
            api_url=settings.zoom_api_url,
            oauth=zoom_oauth,
            meetings=zoom,
            redirect_uri=PublicUrls(settings.public_url).zoom_redirect(),
        ),
        slack=SlackSender(
            api_url=settings.slack_api_url,
            token_for=core.slack_token,
            timeout=int(settings.http_timeout_seconds),
            pacer=slack_pacer(core),
            trace_configs=[slack_trace(core.metrics)],
        ),
        _clients=clients,
        microsoft=microsoft[0] if microsoft is not None else None,
        teams=build_teams_sender(core),
    )


def slack_pacer(core: Core) -> SendPacer | None:
    """On PostgreSQL several worker processes may post into one channel: they keep its pace
    together, through the database. SQLite has one worker process; it paces in memory."""
    if core.engine.dialect.name != "postgresql":
        return None
    return SqlPacer(
        core.engine,
        spacing=CHANNEL_SPACING_SECONDS,
        reason=CHANNEL_PACE_REASON,
        max_wait=CHANNEL_MAX_WAIT_SECONDS,
    )


def teams_config(settings: Settings) -> TeamsConfig:
    from adapters.teams.config import TeamsConfig

    password = settings.teams_app_password
    return TeamsConfig(
        app_id=settings.teams_app_id or "",
        app_password=password.get_secret_value() if password else "",
        tenant_id=settings.teams_app_tenant_id or "",
        service_url_hosts=tuple(settings.teams_service_url_host_list()),
        openid_metadata_url=settings.teams_openid_metadata_url,
        token_issuer=settings.teams_token_issuer,
        login_url=settings.teams_login_url,
        oauth_scope=settings.teams_oauth_scope,
        ca_bundle=settings.teams_ca_bundle,
        timeout_seconds=settings.http_timeout_seconds,
    )


def build_teams_sender(core: Core) -> TeamsSender | TeamsNotConfigured:
    """Always there, so a Teams target never meets a missing sender: without Teams configured it
    refuses every post in plain words (and botbuilder is never imported)."""
    if not core.settings.teams_enabled:
        from adapters.teams.unconfigured import TeamsNotConfigured

        return TeamsNotConfigured()
    from adapters.teams.connector import TeamsConnector
    from adapters.teams.sender import TeamsSender

    connector = TeamsConnector(teams_config(core.settings))
    return TeamsSender(connector, SqlTeamsConversations(core.engine, core.clock))
