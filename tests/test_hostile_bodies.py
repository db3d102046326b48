"""Bodies built to crash a parser get a 400 with a short JSON reason at every JSON edge, and
addresses with a NUL character never reach the database (PostgreSQL refuses them with an error)."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from app.bootstrap import Core
from app.sandbox import Demo, SandboxWorld, seed_demo
from app.web import build_web_app
from simulators.server import BackgroundServer

from .edge_server import SLACK_SIGNING_SECRET, ZOOM_WEBHOOK_SECRET

HOSTILE = {
    "deep nesting": b"[" * 30_000 + b"]" * 30_000,  # within every cap
    "5,000-digit number": b'{"booking_id": ' + b"9" * 5000 + b"}",
    "huge exponent": b'{"a": 1e999999}',
    "lone surrogate": b'{"a": "\\ud800"}',
    "NUL in a text": b'{"a": "\\u0000"}',
    "not UTF-8": b'{"a": "\xff"}',
    "UTF-16": '{"a": 1}'.encode("utf-16"),
    "NaN": b'{"a": NaN}',
}


@pytest.fixture
def edges(make_core: Callable[..., Core], world: SandboxWorld) -> Iterator[tuple[str, Demo]]:
    demo = seed_demo(make_core(), world)
    core = make_core(
        slack_signing_secret=SLACK_SIGNING_SECRET,
        slack_bot_token=f"xoxb-{demo.team_id}-sandbox",
        zoom_webhook_secret_token=ZOOM_WEBHOOK_SECRET,
        teams_allow_unauthenticated=True,  # the body is read before any token would be
    )
    with BackgroundServer(build_web_app(core), name="meetbot") as server:
        yield server.url, demo


def _slack_signed(body: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    signature = SignatureVerifier(SLACK_SIGNING_SECRET).generate_signature(
        timestamp=stamp, body=body.decode("utf-8", "replace")
    )
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature or "",
        "Content-Type": "application/json",
    }


def _zoom_signed(body: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    message = f"v0:{stamp}:{body.decode('utf-8', 'replace')}".encode()
    digest = hmac.new(ZOOM_WEBHOOK_SECRET.encode(), message, hashlib.sha256).hexdigest()
    return {"x-zm-request-timestamp": stamp, "x-zm-signature": f"v0={digest}"}


def test_hostile_json_is_a_400_at_every_edge(edges: tuple[str, Demo]) -> None:
    url, demo = edges
    for case, body in HOSTILE.items():
        answers = {
            "simplybook": httpx.post(
                f"{url}/webhooks/simplybook/{demo.webhook_token}", content=body
            ),
            "teams": httpx.post(f"{url}/api/messages", content=body),
            "zoom": httpx.post(f"{url}/webhooks/zoom", content=body, headers=_zoom_signed(body)),
        }
        if case not in ("not UTF-8", "UTF-16"):  # Slack signs UTF-8 text only
            answers["slack"] = httpx.post(
                f"{url}/slack/events", content=body, headers=_slack_signed(body)
            )
        for edge, answer in answers.items():
            assert answer.status_code == 400, (case, edge, answer.status_code, answer.text[:200])
            assert answer.json()["ok"] is False, (case, edge)
            assert len(answer.json()["reason"]) < 100, (case, edge)


IMPOSSIBLE_LINKS = ["/m/%00", "/h/%00", "/m/a%00b", "/h/%ff%fe", "/m/" + "x" * 300]
NUL_QUERIES = ["/oauth/zoom/callback?state=%00", "/oauth/microsoft/callback?code=a%00"]


def test_nul_and_impossible_tokens_never_reach_the_database(edges: tuple[str, Demo]) -> None:
    url, _ = edges
    for path in IMPOSSIBLE_LINKS:
        assert httpx.get(f"{url}{path}").status_code in (400, 404), path
    for path in NUL_QUERIES:
        assert httpx.get(f"{url}{path}").status_code == 400, path
