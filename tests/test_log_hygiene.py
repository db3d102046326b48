"""Logs that cannot leak or flood: a refused Slack request is logged as its length and digest,
bolt's own signature check drops bodies, known secrets and credential shapes are masked in every
logger, and no line passes 2 KB."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from urllib.parse import urlencode

import httpx
import pytest
from slack_bolt.middleware.request_verification.async_request_verification import (
    AsyncRequestVerification,
)
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from starlette.types import Receive, Scope, Send

from adapters.slack.routes import MAX_BODY_BYTES
from app.access import RequestLog
from app.bootstrap import Core
from app.metrics import Metrics
from app.sandbox import SandboxWorld
from bot.redaction import MASK

from .slack_platform import SIGNING_SECRET, SlackPlatform

CANARIES = {
    "api key": "canary-api-key-7f3a9c1e5b",
    "api secret": "canary-api-secret-2d8e4f6a0c",
    "bot token": "xoxb-2222-canary-bot-token",
    "response_url": "https://hooks.slack.com/commands/T0001/111/canaryresponseurl",
    "bearer": "Bearer canary-bearer-9b1d3f5e7a",
}
MAX_LINE_BYTES = 2048


@pytest.fixture
def every_logger_at_debug(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def _form_submission(padding: int = 0) -> str:
    """The SimplyBook.me form as Slack posts it, holding credentials (and some filler)."""
    state = {
        "login": {"value": {"type": "plain_text_input", "value": "yoga-shop"}},
        "api_key": {"value": {"type": "plain_text_input", "value": CANARIES["api key"]}},
        "api_secret": {"value": {"type": "plain_text_input", "value": CANARIES["api secret"]}},
    }
    payload = {
        "type": "view_submission",
        "team": {"id": "T0001"},
        "user": {"id": "U0001"},
        "token": CANARIES["bot token"],
        "response_url": CANARIES["response_url"],
        "authorization": CANARIES["bearer"],
        "view": {"callback_id": "meetbot_simplybook", "state": {"values": state}},
        "filler": "x" * padding,
    }
    return urlencode({"payload": json.dumps(payload)})


def _leaks(caplog: pytest.LogCaptureFixture) -> list[str]:
    logged = caplog.text + "\n".join(str(record.__dict__) for record in caplog.records)
    return [name for name, canary in CANARIES.items() if canary in logged]


def _long_lines(caplog: pytest.LogCaptureFixture) -> list[int]:
    lines = caplog.text.splitlines()
    for record in caplog.records:
        lines.extend(record.getMessage().splitlines())
    return [size for line in lines if (size := len(line.encode())) > MAX_LINE_BYTES]


def test_a_refused_slack_request_logs_its_length_and_digest_only(
    slack_app: tuple[Core, SlackPlatform],
    world: SandboxWorld,
    every_logger_at_debug: pytest.LogCaptureFixture,
) -> None:
    _core, slack = slack_app
    caplog = every_logger_at_debug
    skewed = _form_submission()  # a delayed submission: signed, but ten minutes ago
    big = _form_submission(padding=MAX_BODY_BYTES - 4096)  # just under the cap
    answers = [
        slack.post(skewed, slack.signed(skewed, timestamp=int(time.time()) - 600)),
        slack.post(big, {**slack.signed(big), "X-Slack-Signature": "v0=" + "0" * 64}),
        slack.post(skewed, {"Content-Type": "application/x-www-form-urlencoded"}),
    ]

    assert [answer.status_code for answer in answers] == [401, 401, 401]
    assert _leaks(caplog) == []
    assert _long_lines(caplog) == []
    digest = hashlib.sha256(big.encode()).hexdigest()
    assert f"{len(big.encode())} bytes, sha256 {digest}" in caplog.text, "logged as length, hash"


def test_an_oversized_body_is_refused_without_being_logged(
    slack_app: tuple[Core, SlackPlatform], every_logger_at_debug: pytest.LogCaptureFixture
) -> None:
    _core, slack = slack_app
    huge = _form_submission(padding=4 * MAX_BODY_BYTES)
    answer = httpx.post(
        f"{slack.meetbot_url}/slack/events",
        content=huge,
        headers=slack.signed(huge),
        timeout=30,
    )
    assert answer.status_code == 413
    assert _leaks(every_logger_at_debug) == []
    assert _long_lines(every_logger_at_debug) == []


def test_bolts_own_signature_check_logs_no_body(
    slack_app: tuple[Core, SlackPlatform], every_logger_at_debug: pytest.LogCaptureFixture
) -> None:
    """Behind meetbot's check bolt checks again; its refusal log (INFO, whole body) is cut."""
    body = _form_submission(padding=50_000)
    verification = AsyncRequestVerification(SIGNING_SECRET)  # bolt's own middleware, as built
    request = AsyncBoltRequest(
        body=body,
        headers={
            "content-type": ["application/x-www-form-urlencoded"],
            "x-slack-request-timestamp": [str(int(time.time()) - 600)],
            "x-slack-signature": ["v0=" + "0" * 64],
        },
    )

    async def not_reached() -> BoltResponse:
        raise AssertionError("bolt let a bad signature through")

    refused = asyncio.run(
        verification.async_process(req=request, resp=BoltResponse(status=200), next=not_reached)
    )

    assert refused.status == 401
    assert any("Invalid request signature" in r.getMessage() for r in every_logger_at_debug.records)
    assert _leaks(every_logger_at_debug) == []
    assert _long_lines(every_logger_at_debug) == []


def test_known_secrets_and_credential_shapes_are_masked_in_any_logger(
    core: Core, every_logger_at_debug: pytest.LogCaptureFixture
) -> None:
    """Values meetbot holds (sealed or opened by its secret box) are known to the cleaner."""
    held = "held-secret-value-4c2e8a"
    core.box.decrypt(core.box.encrypt(held, context="test:1"), context="test:1")
    anywhere = logging.getLogger("some.library")
    anywhere.debug("held %s", held)
    anywhere.info("form %s", {"api_key": CANARIES["api key"], "api_secret": CANARIES["api secret"]})
    anywhere.warning(
        "headers Authorization: %s; token %s", CANARIES["bearer"], CANARIES["bot token"]
    )
    anywhere.error("answer at %s", CANARIES["response_url"])
    anywhere.info("environment MEETBOT_ZOOM_CLIENT_SECRET=%s", CANARIES["api secret"])
    anywhere.info("flood %s", "y" * 100_000)
    try:
        raise ValueError(f"failed with {held} and {'z' * 10_000}")
    except ValueError:
        anywhere.exception("a failure")

    assert held not in every_logger_at_debug.text
    assert _leaks(every_logger_at_debug) == []
    assert _long_lines(every_logger_at_debug) == []
    assert "more bytes]" in every_logger_at_debug.text, "a long message says it was cut"


def test_the_servers_own_secrets_stay_masked_however_many_values_pass_through(
    core: Core, every_logger_at_debug: pytest.LogCaptureFixture
) -> None:
    """Settings secrets are pinned: thousands of later link tokens and access tokens sealed by
    the secret box do not push them out of the cleaner's memory."""
    client_secret = core.settings.zoom_client_secret
    assert client_secret is not None
    for number in range(5000):
        core.box.encrypt(f"sealed-token-{number:06d}-{'q' * 20}", context=f"test:{number}")
    logging.getLogger("some.library").warning(
        "oauth failed with %s", client_secret.get_secret_value()
    )

    assert client_secret.get_secret_value() not in every_logger_at_debug.text


def test_a_sealed_document_hides_its_values_but_not_its_field_names(
    core: Core, every_logger_at_debug: pytest.LogCaptureFixture
) -> None:
    """A sign-in's saved flow is sealed whole; its field names and URLs stay readable elsewhere."""
    verifier = "c0de-verifier-5f1e2d3c4b5a69788796a5b4"
    flow = {
        "code_verifier": verifier,
        "auth_uri": "https://login.example/organizations/oauth2/v2.0/authorize",
        "response_type": "code",
        "provider_callback": "expires_at",
    }
    core.box.encrypt(json.dumps(flow), context="test:flow")
    anywhere = logging.getLogger("some.library")
    anywhere.info("callback for provider Olena: organizations authorize response_type ok")
    anywhere.info("the verifier was %s", verifier)

    assert "callback for provider Olena: organizations authorize response_type ok" in (
        every_logger_at_debug.text
    )
    assert verifier not in every_logger_at_debug.text


@pytest.mark.parametrize(
    "path",
    ["/webhooks/simplybook/k3y", "/webhooks/simplybook/k3y/", "/webhooks/simplybook/k3y/x"],
)
def test_an_access_line_masks_a_webhook_token_whatever_follows_it(
    path: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A token too short for the cleaner's patterns, in a path no route matches, is still hidden."""

    async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    logged = RequestLog(not_found, routes=[], metrics=Metrics())

    async def post() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(logged)) as client:
            return await client.post(f"http://meetbot{path}")

    with caplog.at_level(logging.INFO, logger="meetbot.access"):
        answer = asyncio.run(post())

    assert answer.status_code == 404
    (line,) = [record.getMessage() for record in caplog.records if record.name == "meetbot.access"]
    assert line.startswith(f"POST /webhooks/simplybook/{MASK} 404") and "k3y" not in line
