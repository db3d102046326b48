"""`POST /api/messages`: where the Bot Connector delivers Teams activities.

Order of checks, cheapest and safest first: size and JSON (400/413), the `serviceUrl` host
against the allow-list (403: nothing is ever sent to, or stored for, another host), then the Bot
Framework token (401). botbuilder's token validation raises PermissionError, PyJWT errors,
KeyError, IndexError or AttributeError depending on how a token is bad (checked against the
simulator), so every exception there is a 401 and never a 500. An absent Authorization header
must reach botbuilder as None, not "": it reads "" as a header and fails on it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from botbuilder.core import ActivityHandler
from botbuilder.schema import Activity
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.teams.connector import TeamsConnector

log = logging.getLogger("meetbot.teams")
MAX_BODY_BYTES = 256 * 1024  # Teams messages are limited to about 28 KB


def _refuse(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"ok": False, "reason": reason}, status_code=status)


async def _payload(request: Request) -> dict[str, Any] | JSONResponse:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return _refuse(413, "body too large")
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        return _refuse(413, "body too large")
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return _refuse(400, "the body is not JSON")
    if not isinstance(payload, dict):
        return _refuse(400, "the body is not an activity")
    return payload


def teams_routes(connector: TeamsConnector, bot: ActivityHandler) -> list[Route]:
    async def messages(request: Request) -> Response:
        payload = await _payload(request)
        if isinstance(payload, JSONResponse):
            return payload
        service_url = payload.get("serviceUrl")
        if not isinstance(service_url, str) or not connector.allowed(service_url):
            return _refuse(403, "serviceUrl is not a Microsoft Teams host meetbot trusts")
        try:
            activity = Activity().deserialize(payload)
        except Exception:
            return _refuse(400, "the body is not an activity")
        try:
            auth = await connector.authenticate(activity, request.headers.get("authorization"))
        except Exception as error:
            log.info("Teams activity refused: %s", type(error).__name__)
            return _refuse(401, "missing or invalid Bot Framework token")
        try:
            invoke = await connector.adapter.process_activity(auth, activity, bot.on_turn)
        except Exception:
            log.exception("a Teams %s activity failed", payload.get("type", "unknown"))
            return _refuse(500, "meetbot could not handle the activity")
        if invoke is not None:
            return JSONResponse(invoke.body, status_code=invoke.status)
        return Response(status_code=200)

    return [Route("/api/messages", messages, methods=["POST"])]
