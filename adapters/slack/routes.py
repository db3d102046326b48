"""Slack's HTTP routes, through bolt's Starlette adapter, behind a guard.

The guard answers malformed headers with 400/401 (slack-bolt 1.30 answers 500 to a non-numeric
`X-Slack-Request-Timestamp`), checks the signature before anything reads the body, and holds a
signed body to the shapes meetbot handles (adapters/slack/inbound.py); bolt verifies again.
The request guard has already capped the body at MAX_BODY_BYTES.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from urllib.parse import urlsplit

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.edge.strict import BadInput, parse_form
from adapters.slack.inbound import SLACK_RESPONSE_ORIGINS, check_shape, verified
from bot.errors import StorageUnavailable
from bot.redaction import body_fingerprint
from bot.urls import SLACK_INSTALL_PATH, SLACK_REDIRECT_PATH

_TIMESTAMP = re.compile(r"^\d{1,12}$")
_SIGNATURE = re.compile(r"^v0=[0-9a-f]{64}$")
MAX_BODY_BYTES = 512 * 1024
# Slack signs with a timestamp that may be five minutes off either way: a signature stays usable
# for at most ten minutes after it is first seen.
SLACK_REPLAY_WINDOW_SECONDS = 600
log = logging.getLogger("meetbot.slack")


def header_problem(request: Request) -> tuple[int, str] | None:
    timestamp = request.headers.get("x-slack-request-timestamp")
    signature = request.headers.get("x-slack-signature")
    if timestamp is None or signature is None:
        return 401, "unsigned request"
    if not _TIMESTAMP.match(timestamp):
        return 400, "malformed X-Slack-Request-Timestamp"
    if not _SIGNATURE.match(signature):
        return 401, "malformed X-Slack-Signature"
    return None


async def body_problem(
    request: Request, verifier: SignatureVerifier, response_origins: tuple[str, ...]
) -> tuple[int, str] | None:
    body = await request.body()
    headers = request.headers
    timestamp, signature = headers["x-slack-request-timestamp"], headers["x-slack-signature"]
    if not verified(verifier, body, timestamp, signature):
        return 401, "invalid or expired signature"
    try:
        check_shape(body, headers.get("content-type", ""), response_origins)
    except BadInput as bad:
        return 400, bad.reason
    return None


def slack_routes(
    app: AsyncApp,
    *,
    signing_secret: str,
    with_install: bool,
    first_time: Callable[[str], bool] = lambda signature: True,
) -> list[Route]:
    """`first_time(signature)`: whether this signed request is new; a replay is acknowledged
    (200, empty) and not run again."""
    handler = AsyncSlackRequestHandler(app)
    verifier = SignatureVerifier(signing_secret)
    # Slack's own response URLs, and those of a Slack stand-in meetbot is pointed at
    api = urlsplit(str(app.client.base_url))
    response_origins = (*SLACK_RESPONSE_ORIGINS, f"{api.scheme}://{api.netloc}/")

    async def events(request: Request) -> Response:
        problem = header_problem(request) or await body_problem(request, verifier, response_origins)
        if problem is not None:
            body = await request.body()  # a refused body may hold secrets: never its content
            log.info("Slack request refused (%s): %s", problem[1], body_fingerprint(body))
            return JSONResponse({"ok": False, "reason": problem[1]}, status_code=problem[0])
        try:
            new = await run_in_threadpool(first_time, request.headers["x-slack-signature"])
        except StorageUnavailable as outage:
            return JSONResponse({"ok": False, "reason": str(outage)}, status_code=503)
        if not new:
            log.info("a Slack request seen before was acknowledged, not run again")
            return Response(status_code=200)
        return await handler.handle(request)

    async def oauth(request: Request) -> Response:
        try:  # bolt reads the query itself; this only refuses what it should never see
            parse_form(request.scope["query_string"])
        except BadInput as bad:
            return JSONResponse({"ok": False, "reason": bad.reason}, status_code=400)
        return await handler.handle(request)

    routes = [Route("/slack/events", events, methods=["POST"])]
    if with_install:
        routes += [
            Route(SLACK_INSTALL_PATH, oauth, methods=["GET"]),
            Route(SLACK_REDIRECT_PATH, oauth, methods=["GET"]),
        ]
    return routes
