"""`GET /healthz`: the database's state and which integrations are configured, never a secret."""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from app.bootstrap import Core, build_core
from app.sandbox import SandboxWorld
from app.web import build_web_app
from simulators.server import BackgroundServer
from storage.db import head_revision


def test_health_reports_database_and_integrations(core: Core, web: str) -> None:
    answer = httpx.get(f"{web}/healthz")
    assert answer.status_code == 200
    report = answer.json()
    assert report["status"] == "ok"
    assert report["database"] == {
        "ok": True,
        "backend": core.engine.dialect.name,
        "schema_revision": head_revision(),
        "schema_current": True,
    }
    assert report["integrations"]["zoom"] == {"configured": True}
    assert report["integrations"]["microsoft"] == {"configured": True}
    assert report["integrations"]["slack"]["configured"] is False
    assert report["jobs"] == {}
    for secret in [*core.settings.secret_values(), core.settings.database_url]:
        assert secret not in answer.text


def test_health_with_single_workspace_slack(core: Core) -> None:
    settings = core.settings.model_copy(
        update={
            "slack_bot_token": SecretStr("xoxb-health-check-token"),
            "slack_signing_secret": SecretStr("signing-secret-42"),
        }
    )
    configured = build_core(settings)
    with BackgroundServer(build_web_app(configured), name="meetbot") as server:
        answer = httpx.get(f"{server.url}/healthz")
    configured.engine.dispose()
    slack = answer.json()["integrations"]["slack"]
    assert slack == {"configured": True, "mode": "single-workspace", "signing_secret": True}
    assert "xoxb-health-check-token" not in answer.text and "signing-secret-42" not in answer.text


def test_health_when_the_database_is_down(world: SandboxWorld) -> None:
    settings = world.settings(
        database_url="postgresql+psycopg://meetbot:pw-not-shown@127.0.0.1:1/none",
        public_url="http://meetbot.test",
    )
    broken = build_core(settings)
    with BackgroundServer(build_web_app(broken), name="meetbot") as server:
        answer = httpx.get(f"{server.url}/healthz", timeout=30)
    assert answer.status_code == 503
    report = answer.json()
    assert report["status"] == "unavailable"
    assert report["database"]["ok"] is False and report["database"]["backend"] == "postgresql"
    assert "pw-not-shown" not in answer.text and "127.0.0.1:1" not in answer.text
