"""The command line and the settings it reads: clear answers, no placeholder secrets."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from pydantic import ValidationError

from bot.settings import Settings
from storage.crypto import SecretBox, SecretKeyError, generate_key


def _meetbot(
    *args: str, env: dict[str, str] | None = None, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MEETBOT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        timeout=timeout,
        check=False,
    )


def test_sandbox_prints_the_provider_message_with_both_links() -> None:
    result = _meetbot("sandbox", "--once", "--port", "0")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "the booking webhook answered HTTP 202" in out
    assert "The provider's Slack channel #olena-bookings received:" in out
    assert "New online meeting: Online yoga consultation" in out
    client = re.search(r"Client's link:\s+(http://127\.0\.0\.1:\d+/m/[\w-]+)", out)
    host = re.search(r"Provider's link:\s+(http://127\.0\.0\.1:\d+/h/[\w-]+)", out)
    assert client and host, out


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
