"""The composition root: builds everything from settings. Nothing is built at import time.

`Core` holds what is thread-safe and shared (database, encryption, repositories, job queue);
`Integrations` holds the HTTP clients, which belong to one event loop. The web app and each worker
build their own `Integrations` on their own loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.edge.guard import BodyLimits, RequestGuard
from adapters.edge.server import ServerLimits
from adapters.msgraph.connect import MsConnect
from adapters.msgraph.meetings import GraphMeetings
from adapters.msgraph.msal_apps import MsalApps, MsalConfig
from adapters.msgraph.routes import CALLBACK_PATH as TEAMS_CALLBACK_PATH
from adapters.msgraph.routes import MAX_BODY_BYTES as MS_CALLBACK_MAX_BODY
from adapters.msgraph.routes import teams_connect_routes
from adapters.msgraph.tokens import GraphTokens
from adapters.pages.routes import link_routes
from adapters.simplybook.client import SimplyBookClient
from adapters.simplybook.routes import CallbackRateLimit, simplybook_routes
from adapters.simplybook.webhook import MAX_BODY_BYTES as SIMPLYBOOK_MAX_BODY
from adapters.slack.app import SlackConfig, SlackHandlers, answer_later, build_slack_app
from adapters.slack.routes import MAX_BODY_BYTES as SLACK_MAX_BODY
from adapters.slack.routes import SLACK_REPLAY_WINDOW_SECONDS, slack_routes
from adapters.slack.sender import SlackSender
from adapters.teams.bot import MeetbotTeamsBot, TeamsHandlers
from adapters.teams.connector import TeamsConfig, TeamsConnector
from adapters.teams.routes import MAX_BODY_BYTES as TEAMS_MAX_BODY
from adapters.teams.routes import teams_routes
from adapters.teams.sender import TeamsSender
from adapters.zoom.api import ZoomApi
from adapters.zoom.directory import ZoomDirectory
from adapters.zoom.meetings import ZoomMeetings
from adapters.zoom.oauth import ZoomOAuth
from adapters.zoom.routes import MAX_BODY_BYTES as ZOOM_MAX_BODY
from adapters.zoom.routes import zoom_routes
from adapters.zoom.tokens import ZoomAccessTokens
from bot.clock import Clock, SystemClock
from bot.domain import Actor, BookingCallback, ChatPlatform, ChatTarget, Job, MeetingPlatform
from bot.errors import StorageUnavailable
from bot.logs import install_redaction
from bot.ports import ChatSender, MeetingPlatformPort
from bot.settings import Settings
from bot.usecases import admin, links
from bot.usecases.account_actions import run_action
from bot.usecases.alerts import DeadJobAlerts, NoticeDeps, notify_admins
from bot.usecases.connect_teams import (
    begin_teams_sign_in,
    complete_teams_connect,
    teams_consent,
)
from bot.usecases.connect_zoom import (
    begin_zoom_sign_in,
    complete_zoom_connect,
    zoom_consent,
    zoom_deauthorized,
)
from bot.usecases.ingest import IngestResult, accept_booking_callback
from bot.usecases.routine import ROUTINE, RoutineDeps, next_run, run_routine
from bot.usecases.sync_booking import SYNC_BOOKING, LinkBuilder, SyncDeps, remind, sync_booking
from bot.usecases.uninstall import slack_workspace_installed, slack_workspace_removed
from bot.worker import JobHandler, Worker, WorkerPolicy
from storage.accounts import SqlChatWorkspaces, SqlZoomAccounts
from storage.admin_records import SqlAdminRecords
from storage.alerts import NOTIFY_ADMINS, SqlAlerts
from storage.crypto import SecretBox, SecretKeyError
from storage.db import database_state, make_engine, migrate
from storage.job_secrets import SqlJobSecrets
from storage.jobs import SqlJobQueue
from storage.ms_accounts import SqlMsAccounts
from storage.oauth_states import SqlOAuthStates
from storage.replays import SqlSeenRequests
from storage.repository import MEETING_REMINDER_JOB as MEETING_REMINDER
from storage.repository import SqlStore
from storage.setup import SqlSetup
from storage.teams_conversations import SqlTeamsConversations
from storage.templates import SqlTemplates

log = logging.getLogger("meetbot")
CHAT_COMMAND = "chat_command"


class ConfigurationError(RuntimeError):
    pass


@dataclass
class Core:
    settings: Settings
    clock: Clock
    box: SecretBox
    store: SqlStore
    setup: SqlSetup
    zoom_accounts: SqlZoomAccounts
    workspaces: SqlChatWorkspaces
    queue: SqlJobQueue
    states: SqlOAuthStates
    alerts: SqlAlerts
    records: SqlAdminRecords
    templates: SqlTemplates
    ms_accounts: SqlMsAccounts
    engine: Engine = field(repr=False)

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
    )
    store = SqlStore(engine, box, clock)
    return Core(
        settings=settings,
        clock=clock,
        box=box,
        store=store,
        setup=SqlSetup(engine, box, clock),
        zoom_accounts=SqlZoomAccounts(engine, box, clock),
        workspaces=SqlChatWorkspaces(engine, box),
        queue=SqlJobQueue(engine, clock),
        states=SqlOAuthStates(engine, clock, box),
        alerts=SqlAlerts(engine, clock, store),
        records=SqlAdminRecords(engine, clock, box),
        templates=SqlTemplates(engine, clock),
        ms_accounts=SqlMsAccounts(engine, box, clock),
        engine=engine,
    )


def _http_client(settings: Settings) -> httpx.AsyncClient:
    # Past ~32 connections httpx's throughput collapses; explicit timeouts on every call.
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.http_timeout_seconds, connect=5.0),
        limits=httpx.Limits(
            max_connections=settings.http_max_connections,
            max_keepalive_connections=settings.http_max_connections,
        ),
        trust_env=False,
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
    teams: TeamsSender | None = None

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


def build_microsoft(core: Core, http: httpx.AsyncClient) -> MicrosoftParts | None:
    settings = core.settings
    secret = settings.ms_client_secret
    if not settings.ms_client_id or secret is None:
        return None
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
    return MicrosoftParts(
        apps=apps,
        graph=GraphMeetings(
            http, api_url=settings.graph_api_url, tokens=GraphTokens(core.ms_accounts, apps)
        ),
        sign_in=MsConnect(
            apps, core.ms_accounts, redirect_uri=f"{settings.public_url}{TEAMS_CALLBACK_PATH}"
        ),
    )


def build_integrations(core: Core) -> Integrations:
    settings = core.settings
    simplybook_http, zoom_http = _http_client(settings), _http_client(settings)
    graph_http = _http_client(settings)
    secret = settings.zoom_client_secret
    zoom_oauth = ZoomOAuth(
        zoom_http,
        oauth_url=settings.zoom_oauth_url,
        client_id=settings.zoom_client_id or "",
        client_secret=secret.get_secret_value() if secret else "",
    )
    tokens = ZoomAccessTokens(core.zoom_accounts, zoom_oauth, core.clock)
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
            redirect_uri=f"{settings.public_url}/oauth/zoom/callback",
        ),
        slack=SlackSender(
            api_url=settings.slack_api_url,
            token_for=core.slack_token,
            timeout=int(settings.http_timeout_seconds),
        ),
        _clients=[simplybook_http, zoom_http, graph_http],
        microsoft=build_microsoft(core, graph_http),
        teams=build_teams_sender(core),
    )


def teams_config(settings: Settings) -> TeamsConfig:
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


def build_teams_sender(core: Core) -> TeamsSender:
    """Always there, so a Teams target never meets a missing sender: without Teams configured it
    refuses every post in plain words."""
    settings = core.settings
    connector = TeamsConnector(teams_config(settings)) if settings.teams_enabled else None
    return TeamsSender(connector, SqlTeamsConversations(core.engine, core.clock))


def sync_deps(core: Core, integrations: Integrations) -> SyncDeps:
    return SyncDeps(
        store=core.store,
        bookings=integrations.simplybook,
        platforms=integrations.platforms(),
        chats=integrations.chats(),
        links=LinkBuilder(core.settings.public_url),
        alerts=core.alerts,
        inbox=core.alerts,
        templates=core.templates,
        clock=core.clock,
        teams_accounts=core.ms_accounts if integrations.microsoft else None,
    )


def notice_deps(core: Core, integrations: Integrations) -> NoticeDeps:
    return NoticeDeps(alerts=core.alerts, inbox=core.alerts, chats=integrations.chats())


def admin_deps(core: Core, integrations: Integrations) -> admin.AdminDeps:
    return admin.AdminDeps(
        store=core.setup,
        bookings=integrations.simplybook,
        zoom=integrations.zoom_directory,
        states=core.states,
        zoom_authorize_url=integrations.zoom_directory.authorize_url,
        public_url=core.settings.public_url,
        alerts=core.alerts,
        records=core.records,
        templates=core.templates,
        requeue=lambda company_id, job_id: core.queue.requeue(job_id=job_id, company_id=company_id),
        chats=integrations.chats(),
        clock=core.clock,
        teams_accounts=core.ms_accounts if integrations.microsoft else None,
        teams_sign_in=integrations.microsoft.sign_in if integrations.microsoft else None,
    )


def job_handlers(core: Core, integrations: Integrations) -> dict[str, JobHandler]:
    deps = sync_deps(core, integrations)

    async def run_sync(job: Job) -> str:
        assert job.company_id is not None
        return await sync_booking(
            deps,
            company_id=job.company_id,
            booking_id=job.payload["booking_id"],
            booking_hash=job.payload["booking_hash"],
            take_turn=lambda key: core.queue.hold(job=job, key=key),
        )

    async def run_chat_command(job: Job) -> str:
        payload = job.payload
        actor = Actor(
            ChatPlatform(payload["platform"]),
            payload["workspace_id"],
            payload["user_id"],
            payload["is_admin"] == "1",
            payload["channel_id"],
        )
        reply = await admin.run_command(admin_deps(core, integrations), actor, payload["text"])
        response_url = job_secrets(core).open(payload.get("response_url_id", ""))
        if response_url:  # Slack: where the slash command said to answer
            await answer_later(response_url, reply)
        else:  # elsewhere: the person's own chat with meetbot, as private as Slack's answer
            inbox = ChatTarget(actor.platform, actor.workspace_id, actor.user_id)
            await integrations.chats()[actor.platform].post(
                target=inbox, message=reply.message, marker=f"{CHAT_COMMAND}:{job.id}"
            )
        return f"answered {reply.message.title!r}"

    notices = notice_deps(core, integrations)

    async def run_notice(job: Job) -> str:
        assert job.company_id is not None
        company = core.store.company(company_id=job.company_id)
        return await notify_admins(
            notices, company_id=company.id, key=job.payload["key"], timezone=company.timezone
        )

    routine = RoutineDeps(
        store=core.store,
        bookings=integrations.simplybook,
        alerts=core.alerts,
        records=core.records,
        notices=notices,
        clock=core.clock,
    )

    async def run_company_routine(job: Job) -> str:
        assert job.company_id is not None
        schedule_routine(core, job.company_id, later=True)  # first: a failing run keeps the chain
        return await run_routine(routine, company_id=job.company_id)

    async def run_reminder(job: Job) -> str:
        assert job.company_id is not None
        return await remind(
            deps,
            company_id=job.company_id,
            meeting_id=job.payload["meeting_id"],
            start=job.payload["start"],
        )

    return {
        SYNC_BOOKING: run_sync,
        MEETING_REMINDER: run_reminder,
        CHAT_COMMAND: run_chat_command,
        NOTIFY_ADMINS: run_notice,
        ROUTINE: run_company_routine,
    }


def schedule_routine(core: Core, company_id: str, *, later: bool = False) -> None:
    """Queues the company's hourly routine: now, or at its next full hour."""
    now = core.clock.now()
    run_at = now
    if later:
        run_at = next_run(now, core.store.company(company_id=company_id).timezone)
    core.queue.enqueue(
        kind=ROUTINE,
        dedupe_key=f"{ROUTINE}:{company_id}",
        payload={},
        company_id=company_id,
        run_at=run_at,
    )


def build_worker(core: Core, integrations: Integrations, *, role: str = "worker") -> Worker:
    return Worker(
        queue=core.queue,
        handlers=job_handlers(core, integrations),
        clock=core.clock,
        worker_id=worker_id(role),
        policy=worker_policy(core.settings),
        observer=DeadJobAlerts(core.alerts, kinds=frozenset({SYNC_BOOKING})),
    )


# Slack takes answers on a response_url for 30 minutes; one that has expired answers by DM.
RESPONSE_URL_LIFETIME = timedelta(minutes=30)


def job_secrets(core: Core) -> SqlJobSecrets:
    return SqlJobSecrets(core.engine, core.box, core.clock)


def defer_command(core: Core, actor: Actor, text: str, response_url: str) -> None:
    """A chat command that needs longer than the platform waits: redone by a worker. The
    response_url works like a password for half an hour, so the payload names it, encrypted."""
    response_url_id = (
        job_secrets(core).seal(response_url, company_id=None, ttl=RESPONSE_URL_LIFETIME)
        if response_url
        else ""
    )
    core.queue.enqueue(
        kind=CHAT_COMMAND,
        dedupe_key=f"{CHAT_COMMAND}:{uuid.uuid4().hex}",
        payload={
            "platform": actor.platform.value,
            "workspace_id": actor.workspace_id,
            "user_id": actor.user_id,
            "is_admin": "1" if actor.is_workspace_admin else "0",
            "channel_id": actor.channel_id,
            "text": text,
            "response_url_id": response_url_id,
        },
    )


def worker_policy(settings: Settings) -> WorkerPolicy:
    return WorkerPolicy(
        lease_seconds=settings.job_lease_seconds,
        max_attempts=settings.job_max_attempts,
        backoff_base_seconds=settings.job_backoff_base_seconds,
        backoff_cap_seconds=settings.job_backoff_cap_seconds,
        idle_poll_seconds=settings.worker_idle_poll_seconds,
        concurrency=settings.worker_concurrency,
    )


def worker_id(role: str) -> str:
    return f"{role}@{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"


async def run_worker(
    core: Core,
    stop: asyncio.Event,
    *,
    role: str = "worker",
    ready: threading.Event | None = None,
    on_worker: list[Worker] | None = None,
) -> None:
    integrations = build_integrations(core)
    worker = build_worker(core, integrations, role=role)
    if core.settings.company_routines:  # each company's routine, if none is queued
        for company_id in core.records.company_ids():
            schedule_routine(core, company_id)
    if on_worker is not None:
        on_worker.append(worker)
    try:
        if ready is not None:
            ready.set()
        log.info("worker %s started", worker.worker_id)
        await worker.run(stop)
    finally:
        await integrations.aclose()


class WorkerThread:
    """The in-process worker of `meetbot serve`: its own thread, loop and HTTP clients."""

    def __init__(self, core: Core) -> None:
        self._core = core
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._workers: list[Worker] = []
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="meetbot-worker", daemon=True)

    def _main(self) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        await run_worker(
            self._core, self._stop, role="serve", ready=self._ready, on_worker=self._workers
        )

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(10)

    def wake(self) -> None:
        for worker in self._workers:
            worker.wake()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)


def health(core: Core) -> dict[str, object]:
    settings = core.settings
    database = database_state(core.engine)
    slack_mode = (
        "multi-workspace"
        if settings.slack_client_id and settings.slack_client_secret
        else "single-workspace"
        if settings.slack_bot_token
        else None
    )
    integrations = {
        "simplybook": {"configured": True},
        "slack": {
            "configured": slack_mode is not None,
            "mode": slack_mode,
            "signing_secret": settings.slack_signing_secret is not None,
        },
        "zoom": {"configured": bool(settings.zoom_client_id and settings.zoom_client_secret)},
        "microsoft": {"configured": bool(settings.ms_client_id and settings.ms_client_secret)},
        "teams": {
            "configured": settings.teams_enabled,
            "authenticated": bool(settings.teams_app_id),
        },
    }
    jobs = core.queue.counts() if database["ok"] else {}
    status = "ok" if database["ok"] else "unavailable"
    return {"status": status, "database": database, "integrations": integrations, "jobs": jobs}


@contextlib.contextmanager
def _turn(writers: threading.Lock | None, *, wait_seconds: float) -> Iterator[None]:
    """A turn among this process's writers, waited for no longer than SQLite waits for its lock:
    behind a writer stuck elsewhere, callbacks are refused in turn instead of piling up here."""
    if writers is None:
        yield
        return
    if not writers.acquire(timeout=wait_seconds):
        raise StorageUnavailable("the database is locked by another writer")
    try:
        yield
    finally:
        writers.release()


def build_web_app(core: Core, *, worker: WorkerThread | None = None) -> Starlette:
    state: dict[str, Integrations] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        state["integrations"] = build_integrations(core)
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                await asyncio.to_thread(worker.stop)
            await state["integrations"].aclose()

    # SQLite has one writer at a time and its busy handler waits by sleeping; queueing this
    # process's writers on a lock hands the database over without those sleeps.
    writers = threading.Lock() if core.engine.dialect.name == "sqlite" else None
    waiting = core.settings.sqlite_busy_timeout_seconds

    def ingest(token: str, callback: BookingCallback, raw: str) -> IngestResult:
        with _turn(writers, wait_seconds=waiting):
            return accept_booking_callback(core.store, token=token, callback=callback, raw_body=raw)

    async def host_link(token: str) -> links.LinkDecision:
        platforms = state["integrations"].platforms()
        return await links.host_link(core.store, platforms, token=token)

    async def healthz(_request: Request) -> JSONResponse:
        report = await asyncio.to_thread(health, core)
        return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)

    def deps() -> admin.AdminDeps:
        return admin_deps(core, state["integrations"])

    async def begin_zoom(start_id: str, pressed_continue: bool) -> Any:
        # Off the event loop: a stranger's link must not hold up every other request.
        if not pressed_continue:
            return await asyncio.to_thread(zoom_consent, deps(), start_id=start_id)
        return await asyncio.to_thread(begin_zoom_sign_in, deps(), start_id=start_id)

    async def complete(state_value: str, code: str, error: str, browser_nonce: str) -> Any:
        return await complete_zoom_connect(
            deps(), state=state_value, code=code, error=error, browser_nonce=browser_nonce
        )

    async def deauthorized(zoom_account_id: str) -> int:
        return await zoom_deauthorized(deps(), zoom_account_id=zoom_account_id)

    async def begin_teams(start_id: str, pressed_continue: bool) -> Any:
        if not pressed_continue:
            return await asyncio.to_thread(teams_consent, deps(), start_id=start_id)
        return await begin_teams_sign_in(deps(), start_id=start_id)

    async def teams_connected(form: Mapping[str, str], browser_nonce: str) -> Any:
        return await complete_teams_connect(deps(), form=form, browser_nonce=browser_nonce)

    secure_cookie = core.settings.public_url.startswith("https://")

    webhook_secret = core.settings.zoom_webhook_secret_token
    routes = [
        *simplybook_routes(
            ingest,
            on_accepted=worker.wake if worker else lambda: None,
            limit=CallbackRateLimit(core.settings.simplybook_callback_rate),
        ),
        *link_routes(
            client=lambda token: links.client_link(core.store, token=token, now=core.clock.now()),
            host=host_link,
        ),
        *zoom_routes(
            begin=begin_zoom,
            complete=complete,
            deauthorized=deauthorized,
            webhook_secret=webhook_secret.get_secret_value() if webhook_secret else None,
            clock=core.clock,
            secure_cookie=secure_cookie,
        ),
        *teams_connect_routes(
            begin=begin_teams, complete=teams_connected, secure_cookie=secure_cookie
        ),
        *_slack_routes(core, deps),
        *_teams_routes(core, deps),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    guard = Middleware(RequestGuard, limits=body_limits(core.settings))
    return Starlette(routes=routes, lifespan=lifespan, middleware=[guard])


def body_limits(settings: Settings) -> BodyLimits:
    """Each route's body cap: every body is read and counted before any route sees it."""
    return BodyLimits(
        caps={
            "/webhooks/simplybook/": SIMPLYBOOK_MAX_BODY,
            "/webhooks/zoom": ZOOM_MAX_BODY,
            TEAMS_CALLBACK_PATH: MS_CALLBACK_MAX_BODY,
            "/slack/events": SLACK_MAX_BODY,
            "/api/messages": TEAMS_MAX_BODY,
        },
        default_cap=8 * 1024,  # the rest are GET routes: no body is expected
        read_timeout_seconds=settings.server_body_timeout_seconds,
    )


def server_limits(settings: Settings) -> ServerLimits:
    return ServerLimits(
        header_timeout_seconds=settings.server_header_timeout_seconds,
        keep_alive_seconds=settings.server_keep_alive_seconds,
        max_concurrency=settings.server_max_connections,
        max_header_bytes=settings.server_max_header_bytes,
    )


def _simplybook_form(
    deps: Callable[[], admin.AdminDeps],
) -> Callable[[Actor, dict[str, str]], Awaitable[tuple[dict[str, str], admin.Reply | None]]]:
    """The SimplyBook.me credentials form, as both chat front-ends hand it over."""

    async def submit(
        actor: Actor, values: dict[str, str]
    ) -> tuple[dict[str, str], admin.Reply | None]:
        return await admin.submit_simplybook(
            deps(),
            actor,
            login=values.get("login", ""),
            api_key=values.get("api_key", ""),
            api_secret=values.get("api_secret", ""),
        )

    return submit


def _slack_routes(core: Core, deps: Callable[[], admin.AdminDeps]) -> list[Route]:
    settings = core.settings
    if settings.slack_signing_secret is None:
        return []  # without the signing secret no Slack request can be verified, so none is taken

    handlers = SlackHandlers(
        run_command=lambda actor, text: admin.run_command(deps(), actor, text),
        run_action=lambda actor, action_id, value: run_action(deps(), actor, action_id, value),
        submit_simplybook=_simplybook_form(deps),
        defer_command=lambda actor, text, response_url: defer_command(
            core, actor, text, response_url
        ),
        workspace_removed=lambda team_id, what: slack_workspace_removed(
            deps(), workspace_id=team_id, what=what
        ),
        workspace_installed=lambda team_id: slack_workspace_installed(deps(), workspace_id=team_id),
    )
    secret = settings.slack_client_secret
    config = SlackConfig(
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        api_url=settings.slack_api_url,
        bot_token=settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None,
        client_id=settings.slack_client_id,
        client_secret=secret.get_secret_value() if secret else None,
        redirect_uri=f"{settings.public_url}/slack/oauth_redirect",
    )
    multi = bool(config.client_id and config.client_secret)
    app = build_slack_app(config, handlers, installations=core.workspaces, states=core.states)
    seen = SqlSeenRequests(core.engine, core.clock)
    return slack_routes(
        app,
        signing_secret=config.signing_secret,
        with_install=multi,
        first_time=lambda signature: seen.first_time(
            source="slack", signature=signature, remember_seconds=SLACK_REPLAY_WINDOW_SECONDS
        ),
    )


def _teams_routes(core: Core, deps: Callable[[], admin.AdminDeps]) -> list[Route]:
    settings = core.settings
    if not settings.teams_enabled:
        return []  # no Teams app configured: /api/messages is not served at all
    if not settings.teams_app_id:
        log.warning(
            "Teams: MEETBOT_TEAMS_APP_ID is not set, so /api/messages accepts activities WITHOUT "
            "authentication: anyone who can reach it can act as any Teams user. Use this for local "
            "development only (MEETBOT_TEAMS_ALLOW_UNAUTHENTICATED)."
        )

    handlers = TeamsHandlers(
        run_command=lambda actor, text: admin.run_command(deps(), actor, text),
        run_action=lambda actor, action_id, value: run_action(deps(), actor, action_id, value),
        submit_simplybook=_simplybook_form(deps),
        defer_command=lambda actor, text: defer_command(core, actor, text, ""),
    )
    connector = TeamsConnector(teams_config(settings))
    store = SqlTeamsConversations(core.engine, core.clock)
    return teams_routes(connector, MeetbotTeamsBot(handlers, connector, store))
