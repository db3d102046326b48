"""Slack's HTTP routes, through bolt's Starlette adapter, behind a guard for malformed headers.

slack-bolt 1.30 answers 500 to a non-numeric `X-Slack-Request-Timestamp`; the guard answers
400/401 first, so malformed input never becomes a server error.
"""

from __future__ import annotations

import re

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

_TIMESTAMP = re.compile(r"^\d{1,12}$")
_SIGNATURE = re.compile(r"^v0=[0-9a-f]{64}$")
MAX_BODY_BYTES = 512 * 1024


def header_problem(request: Request) -> tuple[int, str] | None:
    timestamp = request.headers.get("x-slack-request-timestamp")
    signature = request.headers.get("x-slack-signature")
    if timestamp is None or signature is None:
        return 401, "unsigned request"
    if not _TIMESTAMP.match(timestamp):
        return 400, "malformed X-Slack-Request-Timestamp"
    if not _SIGNATURE.match(signature):
        return 401, "malformed X-Slack-Signature"
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return 413, "body too large"
    return None


def slack_routes(app: AsyncApp, *, with_install: bool) -> list[Route]:
    handler = AsyncSlackRequestHandler(app)

    async def events(request: Request) -> Response:
        problem = header_problem(request)
        if problem is not None:
            return JSONResponse({"ok": False, "reason": problem[1]}, status_code=problem[0])
        return await handler.handle(request)

    async def oauth(request: Request) -> Response:
        return await handler.handle(request)

    routes = [Route("/slack/events", events, methods=["POST"])]
    if with_install:
        routes += [
            Route("/slack/install", oauth, methods=["GET"]),
            Route("/slack/oauth_redirect", oauth, methods=["GET"]),
        ]
    return routes
