"""`meetbot check`: the configuration checked end to end, one line per check.

Settings, the database (reachable, schema at the newest revision), then one harmless call per
configured platform: Slack `auth.test` per workspace, Zoom and Microsoft token validity per
connected account, SimplyBook.me's company info per company. Each line says OK, or what is wrong
and how to fix it. Never a token or a secret: only names, which stay on the operator's screen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from sqlalchemy import select
from sqlmodel import col

from adapters.msgraph.tokens import GraphTokens
from adapters.slack.identity import auth_test
from adapters.zoom.api import ZoomApi
from adapters.zoom.tokens import ZoomAccessTokens
from app.bootstrap import ConfigurationError, Core, Integrations, build_core, build_integrations
from app.settings import Settings
from app.startup import (
    StartupProblem,
    check_sqlite_folder,
    configuration_warnings,
    database_kind,
    database_problem,
)
from bot.errors import (
    BookingSystemRejected,
    MeetbotError,
    MeetingAccountRevoked,
    MeetingPlatformRejected,
)
from bot.redaction import redact
from storage.crypto import SecretBox, SecretKeyError
from storage.db import DatabaseConnectionError, check_connection, database_state, normalise_url
from storage.sessions import read_session
from storage.tables import ChatWorkspaceRow, CompanyRow, MsAccountRow, ZoomAccountRow

OK, PROBLEM, NOTE = "OK", "PROBLEM", "NOTE"
PARALLEL_CALLS = 8  # many companies: a few calls at a time, never a burst at one platform
DISCONNECTED = "disconnected"
SLACK = "slack"


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    status: str
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.status == PROBLEM


def passed(name: str, detail: str = "") -> CheckResult:
    return CheckResult(name, OK, detail)


def problem(name: str, what: str, fix: str = "") -> CheckResult:
    return CheckResult(name, PROBLEM, f"{what}; {fix}" if fix else what)


def run_checks(settings: Settings) -> list[CheckResult]:
    """Every check, in the order a person would fix them."""
    results = [*settings_checks(settings)]
    core, database = open_database(settings)
    results.append(database)
    if core is None:
        results.extend(asyncio.run(_slack_setting_only(settings)))
        return results
    try:
        results.extend(asyncio.run(platform_checks(core, schema_ready=not database.failed)))
    finally:
        core.engine.dispose()
    return results


def settings_checks(settings: Settings) -> list[CheckResult]:
    results = []
    token = settings.slack_bot_token
    if token is not None and token.get_secret_value().startswith("xoxp-"):
        results.append(
            problem(
                "settings",
                "MEETBOT_SLACK_BOT_TOKEN is a user token (xoxp-)",
                "set it to the app's Bot User OAuth Token (xoxb-…, Slack app settings → "
                "OAuth & Permissions)",
            )
        )
    keys = settings.secret_key_list()
    if not keys:
        results.append(
            problem(
                "settings",
                "MEETBOT_SECRET_KEYS is not set (tokens are encrypted at rest)",
                "create a key with `meetbot keys new` and set MEETBOT_SECRET_KEYS to it",
            )
        )
    else:
        try:
            SecretBox(keys)
        except SecretKeyError as error:
            results.append(
                problem(
                    "settings",
                    f"MEETBOT_SECRET_KEYS: {error}",
                    "set it to keys made by `meetbot keys new`, separated by commas",
                )
            )
    if not results:
        results.append(passed("settings"))
    results.extend(
        CheckResult("note", NOTE, warning) for warning in configuration_warnings(settings)
    )
    return results


def open_database(settings: Settings) -> tuple[Core | None, CheckResult]:
    """The core, once the database answers (None when it does not), and the database's line."""
    name = "database"
    try:
        check_sqlite_folder(settings.database_url)
        core = build_core(settings)
    except StartupProblem as error:
        return None, problem(name, str(error))
    except ConfigurationError:
        return None, problem(name, "not checked", "fix MEETBOT_SECRET_KEYS first (see settings)")
    try:
        check_connection(core.engine)
    except DatabaseConnectionError as error:
        core.engine.dispose()
        return None, problem(name, str(database_problem(settings.database_url, str(error))))
    state = database_state(core.engine)
    kind = database_kind(normalise_url(settings.database_url))
    revision = state.get("schema_revision")
    if revision is None:
        return core, problem(
            name, f"{kind} answers but holds no meetbot schema", "run `meetbot migrate`"
        )
    if not state.get("schema_current"):
        return core, problem(
            name,
            f"{kind} schema is at revision {revision}, not the newest this meetbot knows",
            "run `meetbot migrate`",
        )
    if not state.get("ok"):
        return core, problem(name, f"{kind}: {state.get('problem') or state.get('error')}")
    return core, passed(name, f"{kind}, schema revision {revision} (the newest)")


async def _slack_setting_only(settings: Settings) -> list[CheckResult]:
    """Without a database only the configured Slack token can still be checked."""
    token = _configured_slack_token(settings)
    if token is None:
        return []
    return [await _slack_check(settings, "Slack (MEETBOT_SLACK_BOT_TOKEN)", token, setting=True)]


def _configured_slack_token(settings: Settings) -> str | None:
    """The single-workspace token, when meetbot runs in that mode (not the install flow)."""
    configured = settings.slack_bot_token
    if configured is None or (settings.slack_client_id and settings.slack_client_secret):
        return None
    token = configured.get_secret_value()
    return None if token.startswith("xoxp-") else token  # already a settings problem


async def platform_checks(core: Core, *, schema_ready: bool) -> list[CheckResult]:
    settings = core.settings
    results: list[CheckResult] = []
    if not schema_ready:
        results.extend(await _slack_setting_only(settings))
        return results
    integrations = build_integrations(core)
    zoom_http = httpx.AsyncClient(
        timeout=httpx.Timeout(settings.http_timeout_seconds, connect=5.0), trust_env=False
    )
    gate = asyncio.Semaphore(PARALLEL_CALLS)

    async def gated(check: Awaitable[CheckResult]) -> CheckResult:
        async with gate:
            return await check

    try:
        for group in (
            _slack_checks(core),
            _zoom_checks(core, integrations, zoom_http),
            _microsoft_checks(core, integrations),
            _simplybook_checks(core, integrations),
        ):
            results.extend(await asyncio.gather(*(gated(check) for check in group)))
    finally:
        await zoom_http.aclose()
        await integrations.aclose()
    return results


def _company_names(core: Core) -> dict[str, str]:
    with read_session(core.engine) as session:
        rows = session.execute(select(col(CompanyRow.id), col(CompanyRow.name))).all()
    return {company_id: name for company_id, name in rows}


# Slack.


def _slack_checks(core: Core) -> list[Awaitable[CheckResult]]:
    settings = core.settings
    checks: list[Awaitable[CheckResult]] = []
    configured = _configured_slack_token(settings)
    if configured is not None:
        checks.append(
            _slack_check(settings, "Slack (MEETBOT_SLACK_BOT_TOKEN)", configured, setting=True)
        )
    with read_session(core.engine) as session:
        workspaces = session.execute(
            select(col(ChatWorkspaceRow.external_id), col(ChatWorkspaceRow.name))
            .where(
                col(ChatWorkspaceRow.platform) == SLACK,
                col(ChatWorkspaceRow.bot_token_enc).is_not(None),
            )
            .order_by(col(ChatWorkspaceRow.name))
        ).all()
    for team_id, name in workspaces:
        token = core.workspaces.bot_token(platform=SLACK, external_id=team_id)
        if token and token != configured:
            label = f"Slack workspace {name} ({team_id})" if name else f"Slack workspace {team_id}"
            checks.append(_slack_check(settings, label, token, setting=False))
    return checks


async def _slack_check(settings: Settings, name: str, token: str, *, setting: bool) -> CheckResult:
    identity = await auth_test(
        api_url=settings.slack_api_url, token=token, wait_seconds=settings.http_timeout_seconds
    )
    if identity.token_refused:
        fix = (
            "set MEETBOT_SLACK_BOT_TOKEN to the app's current Bot User OAuth Token (xoxb-…)"
            if setting
            else "a workspace admin installs meetbot again (Add to Slack)"
        )
        return problem(name, f"Slack refused the bot token ({identity.error})", fix)
    if not identity.ok:
        return problem(
            name,
            f"Slack could not be reached ({identity.unreachable})"
            if identity.unreachable
            else f"Slack's auth.test answered {identity.error}",
            "check MEETBOT_SLACK_API_URL and the network, then run `meetbot check` again",
        )
    if not identity.bot_id:
        return problem(
            name,
            "the token belongs to a user, not a bot",
            "use the app's Bot User OAuth Token (xoxb-…)",
        )
    return passed(name, f"auth.test answered for {identity.team or identity.team_id}")


# Zoom.


def _zoom_checks(
    core: Core, integrations: Integrations, http: httpx.AsyncClient
) -> list[Awaitable[CheckResult]]:
    with read_session(core.engine) as session:
        accounts = session.execute(
            select(col(ZoomAccountRow.id), col(ZoomAccountRow.company_id)).where(
                col(ZoomAccountRow.state) != DISCONNECTED
            )
        ).all()
    if not accounts:
        return []
    names = _company_names(core)
    settings = core.settings
    api = ZoomApi(
        http,
        api_url=settings.zoom_api_url,
        tokens=ZoomAccessTokens(core.zoom_tokens, integrations.zoom_oauth, core.clock),
        clock=core.clock,
    )

    async def one(account_id: str, company: str) -> CheckResult:
        name = f"Zoom account of {company}"
        return await _platform_call(
            name,
            lambda: api.request(account_id, "GET", "/users/me"),
            revoked_fix=f"an admin of {company} connects Zoom again with `/meetings connect zoom`",
            platform="Zoom",
        )

    return [
        one(account_id, names.get(company_id, company_id)) for account_id, company_id in accounts
    ]


# Microsoft.


def _microsoft_checks(core: Core, integrations: Integrations) -> list[Awaitable[CheckResult]]:
    with read_session(core.engine) as session:
        accounts = session.execute(
            select(
                col(MsAccountRow.id),
                col(MsAccountRow.company_id),
                col(MsAccountRow.provider_external_id),
            ).where(col(MsAccountRow.state) != DISCONNECTED)
        ).all()
    if not accounts:
        return []
    names = _company_names(core)
    microsoft = integrations.microsoft

    async def one(account_id: str, company: str, provider: str) -> CheckResult:
        whose = f"provider {provider} of {company}" if provider else company
        name = f"Microsoft account of {whose}"
        if microsoft is None:
            return problem(
                name,
                "a Microsoft account is connected but Teams meetings are not configured",
                "set MEETBOT_MS_CLIENT_ID and MEETBOT_MS_CLIENT_SECRET",
            )
        tokens = GraphTokens(core.ms_accounts, microsoft.apps)
        return await _platform_call(
            name,
            lambda: _renewed(tokens, account_id),
            revoked_fix=f"an admin of {company} connects Teams again with `/meetings connect teams`",
            platform="Microsoft",
        )

    return [
        one(account_id, names.get(company_id, company_id), provider)
        for account_id, company_id, provider in accounts
    ]


async def _renewed(tokens: GraphTokens, account_id: str) -> None:
    """msal answers from its cache while the access token lasts: only a renewal through the
    refresh token proves Microsoft still accepts the sign-in."""
    cached = await tokens.access_token(account_id)
    await tokens.refreshed(account_id, stale=cached)


# SimplyBook.me.


def _simplybook_checks(core: Core, integrations: Integrations) -> list[Awaitable[CheckResult]]:
    with read_session(core.engine) as session:
        companies = session.execute(
            select(
                col(CompanyRow.id), col(CompanyRow.name), col(CompanyRow.simplybook_login)
            ).order_by(col(CompanyRow.name))
        ).all()

    async def one(company_id: str, company: str, login: str) -> CheckResult:
        name = f"SimplyBook.me company {company} ({login})"
        try:
            credentials = core.companies.simplybook_credentials(company_id=company_id)
        except Exception as error:  # a key missing from MEETBOT_SECRET_KEYS, for instance
            return problem(
                name,
                f"the stored API key cannot be read ({type(error).__name__})",
                "keep every key that encrypted it in MEETBOT_SECRET_KEYS",
            )
        try:
            await integrations.simplybook.company_info(credentials=credentials)
        except BookingSystemRejected:
            return problem(
                name,
                "SimplyBook.me refused the company login or API key",
                f"an admin of {company} connects SimplyBook.me again with "
                "`/meetings connect simplybook` and the current API key "
                "(SimplyBook.me → Settings → API)",
            )
        except MeetbotError as error:
            return problem(name, _could_not("SimplyBook.me", error), _LATER)
        return passed(name, "the login and API key work")

    return [one(company_id, name or login, login) for company_id, name, login in companies]


# Shared.

_LATER = "check the platform's URL setting and the network, then run `meetbot check` again"


def _could_not(platform: str, error: BaseException) -> str:
    return f"{platform} could not be checked: {error}"


async def _platform_call(
    name: str, call: Callable[[], Awaitable[object]], *, revoked_fix: str, platform: str
) -> CheckResult:
    try:
        await call()
    except MeetingAccountRevoked as error:
        return problem(name, str(error).split("; an admin must")[0], revoked_fix)
    except MeetingPlatformRejected as error:  # says which setting is wrong
        return problem(name, str(error))
    except MeetbotError as error:
        return problem(name, _could_not(platform, error), _LATER)
    except (httpx.HTTPError, OSError) as error:
        return problem(name, f"{platform} could not be reached ({type(error).__name__})", _LATER)
    return passed(name, "the connection's token works")


def render(results: list[CheckResult]) -> str:
    """A plain table: check, result, and for a problem what is wrong and how to fix it."""
    width = max([len("CHECK"), *(len(result.name) for result in results)])
    lines = [f"{'CHECK':<{width}}  {'RESULT':<7}  DETAILS"]
    for result in results:
        lines.append(
            redact(f"{result.name:<{width}}  {result.status:<7}  {result.detail}".rstrip())
        )
    failed = sum(result.failed for result in results)
    checked = sum(result.status != NOTE for result in results)
    lines.append(
        f"\n{failed} of {checked} checks found a problem"
        if failed
        else f"\nall {checked} checks passed"
    )
    return "\n".join(lines)
