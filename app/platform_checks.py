"""`meetbot check`'s calls to the platforms: one harmless call per Slack workspace, per connected
Zoom and Microsoft account and per SimplyBook.me company, through the adapters. Each answer
becomes a `CheckResult`: OK, or what is wrong and how to fix it (never a token).
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
from app.bootstrap import Core, Integrations, build_integrations
from app.settings import Settings
from bot.errors import (
    BookingSystemRejected,
    MeetbotError,
    MeetingAccountRevoked,
    MeetingPlatformRejected,
)
from storage.crypto import DecryptionError
from storage.mappers import NO_SIMPLYBOOK_LOGIN
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


async def slack_setting_only(settings: Settings) -> list[CheckResult]:
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
        results.extend(await slack_setting_only(settings))
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
        label = f"Slack workspace {name} ({team_id})" if name else f"Slack workspace {team_id}"
        try:
            token = core.workspaces.bot_token(platform=SLACK, external_id=team_id)
        except DecryptionError:
            checks.append(_unreadable(label, "bot token"))
            continue
        if token and token != configured:
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
            select(col(CompanyRow.id), col(CompanyRow.name), col(CompanyRow.simplybook_login))
            # A company fed only by the generic booking webhook has no SimplyBook.me login.
            .where(~col(CompanyRow.simplybook_login).startswith(NO_SIMPLYBOOK_LOGIN))
            .order_by(col(CompanyRow.name))
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
    except DecryptionError:
        return await _unreadable(name, "token")
    return passed(name, "the connection's token works")


async def _unreadable(name: str, what: str) -> CheckResult:
    return problem(
        name,
        f"the stored {what} cannot be read",
        "keep every key that encrypted it in MEETBOT_SECRET_KEYS",
    )
