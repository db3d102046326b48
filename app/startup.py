"""Start-up checks that explain themselves: each problem is one line naming the setting and the fix.

`serve` binds its port first (before migrations, before the worker), checks the database can be
opened, checks a single-workspace Slack bot token with `auth.test`, and prints one summary line.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from pathlib import Path

from adapters.slack.identity import auth_test
from app.settings import Settings
from storage.db import normalise_url

SLACK_CHECK_TIMEOUT_SECONDS = 5.0


class StartupProblem(Exception):
    """A configuration or connection problem; `str()` is the one line to print."""


def bind_port(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything else starts (uvicorn listens on it later)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise StartupProblem(
                f"MEETBOT_PORT: port {port} on {host} is already in use; stop the program using "
                "it or set MEETBOT_PORT (or --port) to a free port"
            ) from error
        if error.errno in (errno.EACCES, errno.EPERM):
            raise StartupProblem(
                f"MEETBOT_PORT: port {port} needs more privileges than meetbot has; "
                "use a port above 1023 (and a reverse proxy in front)"
            ) from error
        raise StartupProblem(
            f"MEETBOT_HOST: cannot listen on {host}:{port} ({error.strerror}); set MEETBOT_HOST "
            "to an address of this machine (127.0.0.1, or 0.0.0.0 for every interface)"
        ) from error
    sock.set_inheritable(True)
    return sock


def database_kind(url: str) -> str:
    return "SQLite" if url.startswith("sqlite") else "PostgreSQL"


def check_sqlite_folder(url: str) -> None:
    """A SQLite file in a folder that does not exist cannot be created: say so before trying."""
    if not url.startswith("sqlite") or ":memory:" in url:
        return
    path = url.split(":///", 1)[1].split("?", 1)[0] if ":///" in url else ""
    if not path:
        return
    folder = Path(path).parent
    if not folder.is_dir():
        raise StartupProblem(
            f"MEETBOT_DATABASE_URL: the folder {folder} for the SQLite file does not exist; "
            "create it, or point MEETBOT_DATABASE_URL at a file in a folder that exists"
        )


def database_problem(url: str, reason: str) -> StartupProblem:
    if url.startswith("sqlite"):
        fix = (
            "check the path in MEETBOT_DATABASE_URL, that meetbot may write its folder, "
            "and that its disk has room"
        )
    else:
        fix = (
            "check the host, port, user, password and database name in MEETBOT_DATABASE_URL "
            "and that PostgreSQL is running"
        )
    return StartupProblem(f"MEETBOT_DATABASE_URL: {reason}; {fix}")


def check_slack_token(settings: Settings) -> str | None:
    """A single-workspace bot token, checked with `auth.test`. A token that is not a bot token is a
    `StartupProblem`; Slack not answering is a warning (returned), not a reason to stay down."""
    configured = settings.slack_bot_token
    if configured is None or (settings.slack_client_id and settings.slack_client_secret):
        return None
    token = configured.get_secret_value()
    if token.startswith("xoxp-"):
        raise _not_a_bot_token("is a user token (xoxp-)")
    identity = asyncio.run(
        auth_test(
            api_url=settings.slack_api_url, token=token, wait_seconds=SLACK_CHECK_TIMEOUT_SECONDS
        )
    )
    if identity.unreachable:
        return f"Slack's auth.test could not be reached ({identity.unreachable}); token not checked"
    if identity.token_refused:
        raise _not_a_bot_token(f"was refused by Slack ({identity.error})")
    if not identity.ok:
        return f"Slack's auth.test answered {identity.error}; token not checked"
    if not identity.bot_id:
        raise _not_a_bot_token("belongs to a user, not a bot")
    return None


def _not_a_bot_token(why: str) -> StartupProblem:
    return StartupProblem(
        f"MEETBOT_SLACK_BOT_TOKEN {why}; set it to the app's Bot User OAuth Token (xoxb-…, "
        "Slack app settings → OAuth & Permissions)"
    )


def integrations(settings: Settings) -> list[str]:
    found = []
    if settings.slack_client_id and settings.slack_client_secret:
        found.append("Slack (install flow)")
    elif settings.slack_bot_token is not None:
        found.append("Slack (one workspace)")
    if settings.zoom_client_id and settings.zoom_client_secret is not None:
        found.append("Zoom")
    if settings.ms_client_id and settings.ms_client_secret is not None:
        found.append("Teams meetings")
    if settings.teams_enabled:
        found.append("Teams chat")
    return found


def configuration_warnings(settings: Settings) -> list[str]:
    warnings = []
    if not settings.public_url.startswith("https://"):
        warnings.append("MEETBOT_PUBLIC_URL is not https (Slack, Zoom and Teams need https)")
    chat = (
        settings.slack_bot_token is not None or settings.slack_client_id or settings.teams_enabled
    )
    if not chat:
        warnings.append("no chat platform is configured")
    if settings.teams_allow_unauthenticated:
        warnings.append(
            "Teams requests are not authenticated (MEETBOT_TEAMS_ALLOW_UNAUTHENTICATED)"
        )
    return warnings


def summary_line(settings: Settings, *, head: str, warnings: list[str]) -> str:
    """One line: what runs, its public URL, the database kind, integrations and warnings."""
    url = normalise_url(settings.database_url)
    parts = [
        f"meetbot {head}: public URL {settings.public_url}",
        f"database {database_kind(url)}",
        f"integrations: {', '.join(integrations(settings)) or 'none'}",
    ]
    if warnings:
        parts.append(f"warnings: {'; '.join(warnings)}")
    return ", ".join(parts)
