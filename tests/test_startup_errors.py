"""Start-up mistakes: each is one line on stderr naming the setting and the fix, and exit code 2."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from storage.crypto import generate_key
from storage.db import normalise_url
from tests.conftest import PG_ADMIN_URL, postgres_available


def _meetbot(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MEETBOT_")}
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        capture_output=True,
        text=True,
        env={**base, **env},
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Slack:
    """A stand-in for Slack's auth.test that answers what a test tells it to."""

    url: str
    answer: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def slack() -> Iterator[Slack]:
    stand_in = Slack(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.dumps(stand_in.answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stand_in.url = f"http://127.0.0.1:{server.server_address[1]}/api"
    try:
        yield stand_in
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class Mistake:
    name: str
    command: tuple[str, ...]
    env: Callable[[Path, Slack], dict[str, str]]
    names: str  # the setting the line must name
    fix: str  # words of the fix the line must hold
    auth_test: dict[str, Any] = field(default_factory=dict)
    needs_postgres: bool = False


def _keys(tmp: Path) -> dict[str, str]:
    return {"MEETBOT_SECRET_KEYS": generate_key(), "MEETBOT_DATABASE_URL": f"sqlite:///{tmp}/m.db"}


def _unreachable_postgres(scheme: str) -> Callable[[Path, Slack], dict[str, str]]:
    def env(tmp: Path, _slack: Slack) -> dict[str, str]:
        url = f"{scheme}://meetbot:pw@127.0.0.1:{_free_port()}/meetbot"
        return {**_keys(tmp), "MEETBOT_DATABASE_URL": url}

    return env


def _unknown_postgres_user(tmp: Path, _slack: Slack) -> dict[str, str]:
    server = PG_ADMIN_URL.split("@", 1)[1].rsplit("/", 1)[0]
    url = f"postgres://no_such_meetbot_user:pw@{server}/postgres"
    return {**_keys(tmp), "MEETBOT_DATABASE_URL": url}


def _missing_postgres_database(tmp: Path, _slack: Slack) -> dict[str, str]:
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/no_such_meetbot_database"
    return {**_keys(tmp), "MEETBOT_DATABASE_URL": url}


def _slack_token(token: str) -> Callable[[Path, Slack], dict[str, str]]:
    def env(tmp: Path, slack: Slack) -> dict[str, str]:
        return {
            **_keys(tmp),
            "MEETBOT_SLACK_BOT_TOKEN": token,
            "MEETBOT_SLACK_API_URL": slack.url,
            "MEETBOT_PORT": "0",
        }

    return env


def _busy_port(tmp: Path, _slack: Slack) -> dict[str, str]:
    return {**_keys(tmp), "MEETBOT_PORT": str(BUSY_PORT)}


BUSY_PORT = 0  # set by the test that needs it, while it holds the port

MISTAKES = [
    Mistake(
        "postgres:// URL of an unreachable server",
        ("migrate",),
        _unreachable_postgres("postgres"),
        "MEETBOT_DATABASE_URL",
        "cannot be reached",
    ),
    Mistake(
        "postgresql:// URL of an unreachable server",
        ("migrate",),
        _unreachable_postgres("postgresql"),
        "MEETBOT_DATABASE_URL",
        "PostgreSQL is running",
    ),
    Mistake(
        "PostgreSQL refuses the user",
        ("migrate",),
        _unknown_postgres_user,
        "MEETBOT_DATABASE_URL",
        "user named in the URL does not exist",
        needs_postgres=True,
    ),
    Mistake(
        "the PostgreSQL database does not exist",
        ("migrate",),
        _missing_postgres_database,
        "MEETBOT_DATABASE_URL",
        "database named in the URL does not exist",
        needs_postgres=True,
    ),
    Mistake(
        "a database URL meetbot cannot use",
        ("migrate",),
        lambda tmp, _s: {**_keys(tmp), "MEETBOT_DATABASE_URL": "mysql://u:pw@db/meetbot"},
        "MEETBOT_DATABASE_URL",
        "postgresql://",
    ),
    Mistake(
        "SQLite file in a missing folder",
        ("migrate",),
        lambda tmp, _s: {
            **_keys(tmp),
            "MEETBOT_DATABASE_URL": f"sqlite:///{tmp}/missing/folder/meetbot.db",
        },
        "MEETBOT_DATABASE_URL",
        "does not exist",
    ),
    Mistake(
        "a SQLite path that is a folder",
        ("migrate",),
        lambda tmp, _s: {**_keys(tmp), "MEETBOT_DATABASE_URL": f"sqlite:///{tmp}"},
        "MEETBOT_DATABASE_URL",
        "cannot be opened",
    ),
    Mistake(
        "an unknown log level",
        ("migrate",),
        lambda tmp, _s: {**_keys(tmp), "MEETBOT_LOG_LEVEL": "LOUD"},
        "MEETBOT_LOG_LEVEL",
        "DEBUG, INFO, WARNING",
    ),
    Mistake("a busy port", ("serve",), _busy_port, "MEETBOT_PORT", "free port"),
    Mistake(
        "a Slack user token",
        ("serve",),
        _slack_token("xoxp-1-2-3"),
        "MEETBOT_SLACK_BOT_TOKEN",
        "Bot User OAuth Token",
    ),
    Mistake(
        "a token auth.test says belongs to a user",
        ("serve",),
        _slack_token("xoxe-looks-fine"),
        "MEETBOT_SLACK_BOT_TOKEN",
        "Bot User OAuth Token",
        auth_test={"ok": True, "user_id": "U1", "team_id": "T1"},
    ),
    Mistake(
        "a token Slack refuses",
        ("worker",),
        _slack_token("xoxb-revoked"),
        "MEETBOT_SLACK_BOT_TOKEN",
        "invalid_auth",
        auth_test={"ok": False, "error": "invalid_auth"},
    ),
]


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.name for m in MISTAKES])
def test_each_mistake_is_one_line_and_exit_code_2(
    mistake: Mistake, slack: Slack, tmp_path: Path
) -> None:
    global BUSY_PORT
    if mistake.needs_postgres and (problem := postgres_available()):
        pytest.skip(problem)
    slack.answer = mistake.auth_test
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        BUSY_PORT = holder.getsockname()[1]
        result = _meetbot(*mistake.command, env=mistake.env(tmp_path, slack), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert mistake.names in lines[0] and mistake.fix in lines[0], lines[0]
    assert not (tmp_path / "m.db").exists(), "nothing was started before the problem was found"


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    env = {**_keys(tmp_path), "MEETBOT_DATABASE_URL": f"sqlite:///{tmp_path}/no/such/m.db"}
    result = _meetbot("--debug", "migrate", env=env, cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "MEETBOT_DATABASE_URL" in result.stderr


def test_version(tmp_path: Path) -> None:
    result = _meetbot("--version", env={}, cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("meetbot ") and result.stdout.split()[1][0].isdigit()


def test_postgres_urls_mean_psycopg() -> None:
    assert normalise_url("postgres://u:pw@h/db") == "postgresql+psycopg://u:pw@h/db"
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///m.db") == "sqlite:///m.db"


def test_slack_unreachable_is_a_warning_and_serve_starts_with_one_summary_line(
    tmp_path: Path,
) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEETBOT_")}
    env.update(
        {
            **_keys(tmp_path),
            "MEETBOT_PORT": str(port),
            "MEETBOT_SLACK_BOT_TOKEN": "xoxb-a-real-looking-token",
            "MEETBOT_SLACK_SIGNING_SECRET": "a-real-signing-secret",
            "MEETBOT_SLACK_API_URL": f"http://127.0.0.1:{_free_port()}/api",
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
        answered = False
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not answered:
            try:
                answered = httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
            except httpx.TransportError:
                time.sleep(0.2)
        assert answered
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    summary = [line for line in output.splitlines() if line.startswith("meetbot serving on")]
    assert len(summary) == 1, output
    line = summary[0]
    assert f"127.0.0.1:{port}" in line and "public URL http://127.0.0.1:8000" in line
    assert "database SQLite" in line and "Slack (one workspace)" in line
    assert "auth.test could not be reached" in line and "xoxb" not in line
