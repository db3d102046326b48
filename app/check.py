"""`meetbot check`: the configuration checked end to end, one line per check.

Settings, the database (reachable, schema at the newest revision), then one harmless call per
configured platform (`app.platform_checks`): Slack `auth.test` per workspace, Zoom and Microsoft
token validity per connected account, SimplyBook.me's company info per company. Each line says
OK, or what is wrong and how to fix it. Never a token or a secret: only names, which stay on the
operator's screen.
"""

from __future__ import annotations

import asyncio

from app.bootstrap import ConfigurationError, Core, build_core
from app.platform_checks import (
    NOTE,
    CheckResult,
    passed,
    platform_checks,
    problem,
    slack_setting_only,
)
from app.settings import Settings
from app.startup import (
    StartupProblem,
    check_sqlite_folder,
    configuration_warnings,
    database_kind,
    database_problem,
)
from bot.redaction import redact
from storage.crypto import SecretBox, SecretKeyError
from storage.db import DatabaseConnectionError, check_connection, database_state, normalise_url

NO_CHAT_WARNING = "no chat platform is configured"  # app.startup's words


def run_checks(settings: Settings) -> list[CheckResult]:
    """Every check, in the order a person would fix them."""
    results = [*settings_checks(settings)]
    core, database = open_database(settings)
    results.append(database)
    if core is None:
        results.extend(asyncio.run(slack_setting_only(settings)))
        return results
    try:
        results.extend(asyncio.run(platform_checks(core, schema_ready=not database.failed)))
    finally:
        core.engine.dispose()
    if any(result.name.startswith("Slack workspace") for result in results):
        # Workspaces with their own stored tokens are a chat platform, whatever the settings say.
        results = [result for result in results if result.detail != NO_CHAT_WARNING]
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
