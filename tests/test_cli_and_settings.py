"""The command line and the settings it reads: clear answers, no placeholder secrets."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from app.settings import Settings
from storage.crypto import SecretBox, SecretKeyError, generate_key
from storage.db import head_revision


def _meetbot(
    *args: str, env: dict[str, str] | None = None, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MEETBOT_")}
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        timeout=timeout,
        check=False,
    )


def test_sandbox_prints_the_provider_message_with_both_links() -> None:
    """What each link answers is tests/test_sandbox_tour.py's; here: the command, its exit code,
    and no stray log line on either stream."""
    result = _meetbot("sandbox", "--once", "--port", "0")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "The provider's Slack channel #olena-bookings received:" in out
    assert "Online meeting: Online yoga consultation" in out
    assert "The Teams channel #taras-bookings received this card:" in out
    sections = re.split(r"^\d+\. \[([\w-]+)\] ", out, flags=re.M)[1:]
    names = sections[::2]
    assert names == [
        "today",
        "countdown",
        "payment-pending",
        "cancelled",
        "class",
        "teams",
        "webhook",
    ]
    for name, body in zip(names, sections[1::2], strict=True):
        assert re.search(r"^    http://127\.0\.0\.1:\d+/[mh]/[\w-]+$", body, re.M), name
    assert result.stderr == "" and "WARNING" not in out


def test_serve_without_keys_explains_what_to_do(tmp_path: object) -> None:
    result = _meetbot("migrate", env={"MEETBOT_DATABASE_URL": "sqlite:///:memory:"})
    assert result.returncode == 2
    assert "MEETBOT_SECRET_KEYS is not set" in result.stderr and "meetbot keys new" in result.stderr


def test_placeholder_secrets_are_refused() -> None:
    result = _meetbot("migrate", env={"MEETBOT_SECRET_KEYS": "changeme"})
    assert result.returncode == 2
    assert "MEETBOT_SECRET_KEYS is a placeholder" in result.stderr
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(_env_file=None, slack_bot_token="your-bot-token")  # type: ignore[call-arg]


def test_bad_urls_are_refused() -> None:
    with pytest.raises(ValidationError, match="http"):
        Settings(_env_file=None, zoom_api_url="api.zoom.us")  # type: ignore[call-arg]


def test_keys_new_makes_a_usable_key() -> None:
    result = _meetbot("keys", "new")
    assert result.returncode == 0
    SecretBox([result.stdout.strip()])  # a valid 32-byte key
    with pytest.raises(SecretKeyError, match="32 bytes"):
        SecretBox(["c2hvcnQ="])


def test_migrate_creates_the_schema(tmp_path: object) -> None:
    database = f"sqlite:///{tmp_path}/fresh.db"
    result = _meetbot(
        "migrate", env={"MEETBOT_DATABASE_URL": database, "MEETBOT_SECRET_KEYS": generate_key()}
    )
    assert result.returncode == 0, result.stderr
    assert "database schema is up to date" in result.stdout


def test_env_example_leaves_every_secret_unset(tmp_path: Path) -> None:
    example = Path(__file__).parent.parent / ".env.example"
    settings = Settings(_env_file=example)
    assert settings.secret_keys is None and settings.slack_bot_token is None
    assert settings.zoom_client_secret is None and settings.database_url == "sqlite:///meetbot.db"


def test_serve_runs_as_a_process_and_answers_health(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEETBOT_")}
    env.update(
        {
            "MEETBOT_DATABASE_URL": f"sqlite:///{tmp_path}/serve.db",
            "MEETBOT_SECRET_KEYS": generate_key(),
            "MEETBOT_PORT": str(port),
        }
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "app", "serve"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        report = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and report is None:
            try:
                report = httpx.get(f"http://127.0.0.1:{port}/healthz").json()
            except httpx.TransportError:
                time.sleep(0.2)
        assert report is not None and report["status"] == "ok"
        assert report["database"]["schema_revision"] == head_revision()
        assert report["database"]["schema_current"] is True
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status tells why it stopped.
    assert server.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
    assert "worker serve@" in output, "the in-process worker started"


def test_half_configured_slack_is_explained() -> None:
    result = _meetbot(
        "migrate",
        env={
            "MEETBOT_SECRET_KEYS": generate_key(),
            "MEETBOT_SLACK_SIGNING_SECRET": "a-real-signing-secret",
        },
    )
    assert result.returncode == 2
    assert "Slack is half set up" in result.stderr and "MEETBOT_SLACK_BOT_TOKEN" in result.stderr
