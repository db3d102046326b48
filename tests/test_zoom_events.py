"""Zoom's event webhook: URL validation answered, bad signatures refused, `app_deauthorized` removes
the tokens and tells the company's admins by DM."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.bootstrap import Core
from app.sandbox import Demo, SandboxWorld, message_as_text, seed_demo
from bot.domain import Actor, ChatPlatform
from storage.tables import ZoomAccountRow

from .conftest import ZOOM_WEBHOOK_SECRET, run_jobs
from .slack_platform import SlackPlatform


def _signed(
    body: dict[str, object], *, secret: str = ZOOM_WEBHOOK_SECRET, at: int | None = None
) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    stamp = str(int(time.time()) if at is None else at)
    digest = hmac.new(
        secret.encode(), f"v0:{stamp}:{raw.decode()}".encode(), hashlib.sha256
    ).hexdigest()
    return raw, {
        "x-zm-request-timestamp": stamp,
        "x-zm-signature": f"v0={digest}",
        "content-type": "application/json",
    }


@pytest.fixture
def zoom_ready(
    slack_app: tuple[Core, SlackPlatform], world: SandboxWorld
) -> tuple[Core, str, Demo]:
    core, slack = slack_app
    return core, slack.meetbot_url, seed_demo(core, world)


def test_url_validation_is_answered(zoom_ready: tuple[Core, str, Demo]) -> None:
    _, url, _ = zoom_ready
    raw, headers = _signed(
        {"event": "endpoint.url_validation", "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"}}
    )
    answer = httpx.post(f"{url}/webhooks/zoom", content=raw, headers=headers)
    assert answer.status_code == 200
    expected = hmac.new(
        ZOOM_WEBHOOK_SECRET.encode(), b"qgg8vlvZRS6UYooatFL8Aw", hashlib.sha256
    ).hexdigest()
    assert answer.json() == {"plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": expected}


@pytest.mark.parametrize(
    "tamper", ["wrong secret", "stale", "no signature", "altered body", "garbage timestamp"]
)
def test_badly_signed_events_are_401(zoom_ready: tuple[Core, str, Demo], tamper: str) -> None:
    core, url, demo = zoom_ready
    event = {"event": "app_deauthorized", "payload": {"account_id": "acct-demo-studio"}}
    raw, headers = _signed(
        event,
        secret="not-the-secret" if tamper == "wrong secret" else ZOOM_WEBHOOK_SECRET,
        at=int(time.time()) - 600 if tamper == "stale" else None,
    )
    if tamper == "no signature":
        headers.pop("x-zm-signature")
    if tamper == "altered body":
        raw = raw.replace(b"acct-demo-studio", b"acct-other-shop")
    if tamper == "garbage timestamp":
        headers["x-zm-request-timestamp"] = "soon"
    answer = httpx.post(f"{url}/webhooks/zoom", content=raw, headers=headers)
    assert answer.status_code == 401
    assert core.zoom_accounts.zoom_account(company_id=demo.company_id) is not None, (
        "nothing changed"
    )


def test_app_deauthorized_removes_tokens_and_tells_admins(
    zoom_ready: tuple[Core, str, Demo], world: SandboxWorld
) -> None:
    core, url, demo = zoom_ready
    world.slack.add_user(demo.team_id, id="UADMIN01", name="owner", is_admin=True)
    core.staff.set_role(
        company_id=demo.company_id,
        actor=Actor(ChatPlatform.SLACK, demo.team_id, "UADMIN01"),
        user_id="UADMIN01",
        role="admin",
    )
    event = {
        "event": "app_deauthorized",
        "event_ts": 1,
        "payload": {
            "account_id": "acct-demo-studio",
            "user_id": demo.zoom_user_id,
            "client_id": "sandbox-zoom-client",
            "signature": "x",
            "deauthorization_time": "2026-11-24T10:00:00Z",
        },
    }
    raw, headers = _signed(event)
    answer = httpx.post(f"{url}/webhooks/zoom", content=raw, headers=headers)
    assert answer.status_code == 200
    assert core.zoom_accounts.zoom_account(company_id=demo.company_id) is None
    with Session(core.engine) as session:
        row = session.scalars(select(ZoomAccountRow)).one()
    assert (
        row.access_token_enc == "" and row.refresh_token_enc == "" and row.state == "disconnected"
    )
    run_jobs(core)  # the alert is told by a durable job
    [alert] = world.slack.dm_messages("UADMIN01")
    assert "Needs attention: Zoom needs reconnecting" in message_as_text(alert)
    assert "meetbot was removed from the company's Zoom account" in message_as_text(alert)
    assert "Reconnect Zoom" in json.dumps(alert["blocks"])
    assert core.zoom_accounts.zoom_account_id(company_id=demo.company_id) is None, (
        "no booking uses it any more"
    )


def test_unknown_event_is_refused_loudly(zoom_ready: tuple[Core, str, Demo]) -> None:
    _, url, _ = zoom_ready
    raw, headers = _signed({"event": "meeting.started", "payload": {}})
    answer = httpx.post(f"{url}/webhooks/zoom", content=raw, headers=headers)
    assert answer.status_code == 422 and "unsupported event" in answer.json()["reason"]
