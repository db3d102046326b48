"""A lean start: a deployment pays in memory only for the integrations it configures.

`meetbot serve` with only Slack and Zoom configured must not import Microsoft's SDKs (botbuilder,
msal), and once the schema is the newest it must not load alembic either."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from alembic.config import Config
from alembic.script import ScriptDirectory

from storage.crypto import generate_key
from storage.db import MIGRATIONS, head_revision

MICROSOFT_SDKS = ("botbuilder", "botframework", "msal", "msrest", "azure")
# Loaded on first use by the one route that needs them (the .ics file, the booking webhook, the
# HTML pages), or never by a server (httpx's command-line client, which pulls in rich and pygments).
FIRST_USE_ONLY = (
    "icalendar",
    "jsonschema",
    "standardwebhooks",
    "jinja2",
    "markupsafe",
    "rich",
    "pygments",
)
# Not loaded at all: httpx's own connection layer (requests go out through aiohttp), and the
# PostgreSQL driver by a deployment on SQLite.
NEVER_LOADED = ("httpcore", "psycopg")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _slack_and_zoom_env(tmp: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEETBOT_")}
    return {
        **env,
        "MEETBOT_SECRET_KEYS": generate_key(),
        "MEETBOT_DATABASE_URL": f"sqlite:///{tmp}/meetbot.db",
        "MEETBOT_PORT": str(port),
        "MEETBOT_SLACK_BOT_TOKEN": "xoxb-a-real-looking-token",
        "MEETBOT_SLACK_SIGNING_SECRET": "a-real-signing-secret",
        "MEETBOT_SLACK_API_URL": f"http://127.0.0.1:{_free_port()}/api",  # nobody answers
        "MEETBOT_ZOOM_CLIENT_ID": "zoom-client",
        "MEETBOT_ZOOM_CLIENT_SECRET": "zoom-secret",
    }


def _modules_imported_until_ready(tmp: Path) -> set[str]:
    """Every module `meetbot serve` imported until /readyz answered 200 (from -X importtime)."""
    port = _free_port()
    env = _slack_and_zoom_env(tmp, port)
    migrated = subprocess.run(
        [sys.executable, "-m", "app", "migrate"], env=env, cwd=tmp, capture_output=True, timeout=60
    )
    assert migrated.returncode == 0, migrated.stderr
    log = tmp / "serve.log"  # a file, not a pipe: -X importtime writes more than a pipe holds
    with log.open("w") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-X", "importtime", "-m", "app", "serve"],
            env=env,
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        ready = False
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not ready:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
            except httpx.TransportError:
                time.sleep(0.2)
        assert ready
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    return {
        line.rsplit("|", 1)[1].strip()
        for line in log.read_text().splitlines()
        if line.startswith("import time:") and "|" in line
    }


def test_slack_and_zoom_only_start_imports_neither_microsoft_sdks_nor_alembic(
    tmp_path: Path,
) -> None:
    modules = _modules_imported_until_ready(tmp_path)
    assert "app.web" in modules and "slack_bolt" in modules  # the start was really observed
    loaded = sorted(name for name in modules if name.split(".")[0] in MICROSOFT_SDKS)
    assert loaded == []
    assert not any(name.split(".")[0] == "alembic" for name in modules)
    assert sorted(name for name in modules if name.split(".")[0] in FIRST_USE_ONLY) == []
    assert sorted(name for name in modules if name.split(".")[0] in NEVER_LOADED) == []


def test_head_revision_is_alembics_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()
