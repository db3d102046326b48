"""The web app: every route of `meetbot serve` assembled, with its body limits and health."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.booking_webhooks.events import MAX_BODY_BYTES as BOOKING_EVENT_MAX_BODY
from adapters.booking_webhooks.routes import booking_webhook_routes
from adapters.edge.guard import BodyLimits, RequestGuard
from adapters.edge.rate_limit import RateLimit
from adapters.edge.server import ServerLimits
from adapters.msgraph.routes import MAX_BODY_BYTES as MS_CALLBACK_MAX_BODY
from adapters.msgraph.routes import teams_connect_routes
from adapters.pages.routes import link_routes
from adapters.pages.site import site_routes
from adapters.simplybook.routes import CallbackRateLimit, simplybook_routes
from adapters.simplybook.webhook import MAX_BODY_BYTES as SIMPLYBOOK_MAX_BODY
from adapters.slack.app import SlackConfig, SlackHandlers, build_slack_app
from adapters.slack.routes import MAX_BODY_BYTES as SLACK_MAX_BODY
from adapters.slack.routes import SLACK_REPLAY_WINDOW_SECONDS, slack_routes
from adapters.teams.config import MAX_BODY_BYTES as TEAMS_MAX_BODY
from adapters.zoom.routes import MAX_BODY_BYTES as ZOOM_MAX_BODY
from adapters.zoom.routes import zoom_routes
from app.access import RequestLog, metrics_routes
from app.bootstrap import Core, Integrations, build_integrations, teams_config
from app.deps import admin_deps, home_deps
from app.group_commit import GroupCommit
from app.jobs import defer_command
from app.settings import Settings
from app.worker import WorkerThread
from bot import commands
from bot.domain import Actor, BookingCallback
from bot.domain.booking_events import BookingEvent, WebhookSource
from bot.errors import StorageUnavailable
from bot.urls import (
    BOOKING_WEBHOOK_PATH,
    MICROSOFT_CALLBACK_PATH,
    SIMPLYBOOK_CALLBACK_PATH,
    PublicUrls,
)
from bot.usecases import links
from bot.usecases.account_actions import run_action
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
from bot.usecases.home import HomeDeps, home_opened
from bot.usecases.ingest import Delivery, IngestResult, accept_booking_callbacks
from bot.usecases.ingest_event import EventResult, accept_booking_event
from bot.usecases.uninstall import slack_workspace_installed, slack_workspace_removed
from storage.db import database_state
from storage.replays import SqlSeenRequests
from storage.teams_conversations import SqlTeamsConversations

log = logging.getLogger("meetbot")


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


def accept_together(core: Core, deliveries: Sequence[Delivery]) -> list[IngestResult | Exception]:
    """One transaction for callbacks that arrived together. Should one of them break it (not an
    outage, which refuses them all for now), each is tried alone, so the others still get in."""
    try:
        return list(accept_booking_callbacks(core.callbacks, deliveries))
    except StorageUnavailable:
        raise
    except Exception as error:
        if len(deliveries) == 1:
            return [error]
    outcomes: list[IngestResult | Exception] = []
    for number, delivery in enumerate(deliveries):
        try:
            outcomes += accept_together(core, [delivery])
        except StorageUnavailable as outage:  # those before it are stored: only the rest wait
            return outcomes + [outage] * (len(deliveries) - number)
    return outcomes


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

    def ingest_all(deliveries: Sequence[Delivery]) -> list[IngestResult | Exception]:
        with _turn(writers, wait_seconds=waiting):
            return accept_together(core, deliveries)

    batches = GroupCommit(ingest_all)

    async def ingest(token: str, callback: BookingCallback, raw: str) -> IngestResult:
        return await batches.submit(Delivery(token, callback, raw))

    def ingest_event(source: WebhookSource, event: BookingEvent, raw: str) -> EventResult:
        with _turn(writers, wait_seconds=waiting):
            return accept_booking_event(
                core.booking_webhooks, core.companies, source=source, event=event, raw_body=raw
            )

    async def host_link(token: str) -> links.LinkDecision:
        platforms = state["integrations"].platforms()
        return await links.host_link(core.links, platforms, token=token)

    async def healthz(_request: Request) -> JSONResponse:
        report = await asyncio.to_thread(health, core)
        return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)

    async def livez(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})  # the process answers; nothing else is asked

    async def readyz(_request: Request) -> JSONResponse:
        database = await asyncio.to_thread(database_state, core.engine)
        ready = bool(database["ok"])
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "database": database},
            status_code=200 if ready else 503,
        )

    def deps() -> commands.AdminDeps:
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
        *booking_webhook_routes(
            lambda source_id: core.booking_webhooks.source(source_id=source_id),
            ingest_event,
            on_accepted=worker.wake if worker else lambda: None,
            limit=RateLimit(core.settings.booking_webhook_rate, scope="booking_webhook"),
        ),
        *link_routes(
            client=lambda token: links.client_link(core.links, token=token, now=core.clock.now()),
            host=host_link,
            urls=PublicUrls(core.settings.public_url),
            clock=core.clock,
        ),
        *site_routes(),
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
        *_slack_routes(core, deps, lambda: home_deps(core, state["integrations"])),
        *_teams_routes(core, deps),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/livez", livez, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        *metrics_routes(core),
    ]
    guard = Middleware(RequestGuard, limits=body_limits(core.settings))
    # Outermost: every line of a request, a refused one too, carries its id, and each is counted.
    observed = Middleware(RequestLog, routes=routes, metrics=core.metrics)
    return Starlette(routes=routes, lifespan=lifespan, middleware=[observed, guard])


def body_limits(settings: Settings) -> BodyLimits:
    """Each route's body cap: every body is read and counted before any route sees it."""
    return BodyLimits(
        caps={
            SIMPLYBOOK_CALLBACK_PATH: SIMPLYBOOK_MAX_BODY,
            BOOKING_WEBHOOK_PATH: BOOKING_EVENT_MAX_BODY,
            "/webhooks/zoom": ZOOM_MAX_BODY,
            MICROSOFT_CALLBACK_PATH: MS_CALLBACK_MAX_BODY,
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
    deps: Callable[[], commands.AdminDeps],
) -> Callable[[Actor, dict[str, str]], Awaitable[tuple[dict[str, str], commands.Reply | None]]]:
    """The SimplyBook.me credentials form, as both chat front-ends hand it over."""

    async def submit(
        actor: Actor, values: dict[str, str]
    ) -> tuple[dict[str, str], commands.Reply | None]:
        return await commands.submit_simplybook(
            deps(),
            actor,
            login=values.get("login", ""),
            api_key=values.get("api_key", ""),
            api_secret=values.get("api_secret", ""),
        )

    return submit


def _slack_routes(
    core: Core, deps: Callable[[], commands.AdminDeps], home: Callable[[], HomeDeps]
) -> list[Route]:
    settings = core.settings
    if settings.slack_signing_secret is None:
        return []  # without the signing secret no Slack request can be verified, so none is taken

    handlers = SlackHandlers(
        run_command=lambda actor, text: commands.run_command(deps(), actor, text),
        run_action=lambda actor, action_id, value: run_action(deps(), actor, action_id, value),
        submit_simplybook=_simplybook_form(deps),
        defer_command=lambda actor, text, response_url: defer_command(
            core, actor, text, response_url
        ),
        workspace_removed=lambda team_id, what: slack_workspace_removed(
            deps(), workspace_id=team_id, what=what
        ),
        workspace_installed=lambda team_id: slack_workspace_installed(deps(), workspace_id=team_id),
        home_opened=lambda viewer: home_opened(home(), viewer),
    )
    secret = settings.slack_client_secret
    config = SlackConfig(
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        api_url=settings.slack_api_url,
        bot_token=settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None,
        client_id=settings.slack_client_id,
        client_secret=secret.get_secret_value() if secret else None,
        redirect_uri=PublicUrls(settings.public_url).slack_redirect(),
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


def _teams_routes(core: Core, deps: Callable[[], commands.AdminDeps]) -> list[Route]:
    settings = core.settings
    if not settings.teams_enabled:
        return []  # no Teams app configured: /api/messages is not served at all
    if not settings.teams_app_id:
        log.warning(
            "Teams: MEETBOT_TEAMS_APP_ID is not set, so /api/messages accepts activities WITHOUT "
            "authentication: anyone who can reach it can act as any Teams user. Use this for local "
            "development only (MEETBOT_TEAMS_ALLOW_UNAUTHENTICATED)."
        )
    # Here, not at the top: botbuilder costs memory a deployment without Teams should not pay.
    from adapters.teams.bot import MeetbotTeamsBot, TeamsHandlers
    from adapters.teams.connector import TeamsConnector
    from adapters.teams.routes import teams_routes

    handlers = TeamsHandlers(
        run_command=lambda actor, text: commands.run_command(deps(), actor, text),
        run_action=lambda actor, action_id, value: run_action(deps(), actor, action_id, value),
        submit_simplybook=_simplybook_form(deps),
        defer_command=lambda actor, text: defer_command(core, actor, text, ""),
    )
    connector = TeamsConnector(teams_config(settings))
    store = SqlTeamsConversations(core.engine, core.clock)
    return teams_routes(connector, MeetbotTeamsBot(handlers, connector, store))
