"""`POST /api/messages`: where the Bot Connector delivers Teams activities.

Order of checks, cheapest and safest first: strict, bounded JSON (400; the request guard caps the
body with 413), the `serviceUrl` host against the allow-list (403: nothing is ever sent to, or
stored for, another host), then the Bot Framework token (401), checked against the only fields it
is bound to (channel and serviceUrl) before the rest of the activity is read. botbuilder's token
validation raises PermissionError, PyJWT errors, KeyError, IndexError or AttributeError depending
on how a token is bad (checked against the simulator), so every exception there is a 401 and never
a 500. An absent Authorization header must reach botbuilder as None, not "": it reads "" as a
header and fails on it.
"""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import ActivityHandler
from botbuilder.schema import Activity
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.edge.strict import BadInput, Bounds, parse_json_object
from adapters.teams.config import MAX_BODY_BYTES
from adapters.teams.connector import TeamsConnector

log = logging.getLogger("meetbot.teams")
# A message's text may be as long as the body: the core answers an over-long command "too long"
# in words, which a 400 here could not.
_ACTIVITY = Bounds(max_string_chars=MAX_BODY_BYTES)


def _refuse(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"ok": False, "reason": reason}, status_code=status)


async def _payload(request: Request) -> dict[str, Any] | JSONResponse:
    try:  # the request guard has capped the body at MAX_BODY_BYTES
        return parse_json_object(await request.body(), _ACTIVITY)
    except BadInput as bad:
        return _refuse(400, bad.reason)


_ACCOUNTS = ("from", "recipient", "conversation")
_TEXTS = {  # fields the handlers read as text, where present
    "activity": ("text", "name", "replyToId", "id", "locale"),
    "account": ("id", "name", "aadObjectId", "role", "tenantId", "conversationType"),
    "channelData": ("eventType",),
    "entity": ("type", "text"),
}


def _texts_problem(item: dict[str, Any], kind: str, where: str) -> str | None:
    for name in _TEXTS[kind]:
        if not isinstance(item.get(name, ""), str | None):
            return f"the activity's {where}{name} is not text"
    return None


def _shape_problem(payload: dict[str, Any]) -> str | None:
    """What every activity the Bot Connector sends has, in the types the handlers read."""
    if not isinstance(payload.get("type"), str):
        return "the activity has no type"
    problems = [_texts_problem(payload, "activity", "")]
    for name in _ACCOUNTS:
        account = payload.get(name)
        if not isinstance(account, dict) or not isinstance(account.get("id"), str):
            return f"the activity's {name} has no id"
        problems.append(_texts_problem(account, "account", f"{name}."))
    for name in ("membersAdded", "membersRemoved"):
        members = payload.get(name) or []
        if not isinstance(members, list) or not all(isinstance(m, dict) for m in members):
            return f"the activity's {name} are not accounts"
        problems += [_texts_problem(member, "account", f"{name}.") for member in members]
    channel_data = payload.get("channelData") or {}
    if not isinstance(channel_data, dict):
        return "the activity's channelData is not an object"
    problems.append(_texts_problem(channel_data, "channelData", "channelData."))
    for name in ("tenant", "team", "channel"):
        part = channel_data.get(name) or {}
        if not isinstance(part, dict):
            return f"the activity's channelData.{name} is not an object"
        problems.append(_texts_problem(part, "account", f"channelData.{name}."))
    entities = payload.get("entities") or []
    if not isinstance(entities, list) or not all(isinstance(entity, dict) for entity in entities):
        return "the activity's entities are not a list of objects"
    problems += [_texts_problem(entity, "entity", "entity.") for entity in entities]
    return next((problem for problem in problems if problem), None)


def teams_routes(connector: TeamsConnector, bot: ActivityHandler) -> list[Route]:
    async def messages(request: Request) -> Response:
        payload = await _payload(request)
        if isinstance(payload, JSONResponse):
            return payload
        service_url = payload.get("serviceUrl")
        if not isinstance(service_url, str) or not connector.allowed(service_url):
            return _refuse(403, "serviceUrl is not a Microsoft Teams host meetbot trusts")
        channel = payload.get("channelId")
        if channel is not None and not isinstance(channel, str):
            return _refuse(400, "the body is not an activity")
        claimed = Activity(channel_id=channel, service_url=service_url)
        try:
            auth = await connector.authenticate(claimed, request.headers.get("authorization"))
        except Exception as error:
            log.info("Teams activity refused: %s", type(error).__name__)
            return _refuse(401, "missing or invalid Bot Framework token")
        problem = _shape_problem(payload)
        if problem is not None:
            return _refuse(400, problem)
        try:
            activity = Activity().deserialize(payload)
        except Exception:
            return _refuse(400, "the body is not an activity")
        try:
            invoke = await connector.adapter.process_activity(auth, activity, bot.on_turn)
        except Exception:
            log.exception("a Teams %s activity failed", payload.get("type", "unknown"))
            return _refuse(500, "meetbot could not handle the activity")
        if invoke is not None and invoke.status == 501:  # botbuilder: no handler for its name
            return _refuse(400, "not an invoke meetbot handles")
        if invoke is not None:
            return JSONResponse(invoke.body, status_code=invoke.status)
        return Response(status_code=200)

    return [Route("/api/messages", messages, methods=["POST"])]
