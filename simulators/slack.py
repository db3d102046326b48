"""A Slack Web API simulator, good enough for slack_sdk's WebClient and AsyncWebClient.

Wire facts (docs.slack.dev method reference, slack_sdk sources):
- Every method answers HTTP 200 with {"ok": true, ...} or {"ok": false, "error": ...};
  only rate limiting is HTTP 429 with Retry-After (seconds) and error "ratelimited".
- Arguments come as JSON (slack_sdk posts chat.postMessage as JSON), as a urlencoded
  form, or in the query string (slack_sdk sends conversations.history and users.info
  as GET). In forms, structured arguments (blocks, metadata, view) are JSON strings.
- The token is a Bearer header or a `token` argument; none is not_authed, a bad or
  revoked one invalid_auth. oauth.v2.access takes the app's client id and secret as
  HTTP Basic (what slack_sdk does) or as arguments.
- chat.postMessage allows about one message a second per channel.
- Apps distributed outside the Slack Marketplace (since 2025) may call conversations.history and
  conversations.replies once a minute per workspace, and get at most 15 messages a page
  (`marketplace_app = False` here; Marketplace apps keep the usual limits).
- conversations.history lists top-level messages newest first and carries message
  metadata only when include_all_metadata is true. A thread reply posted with
  `reply_broadcast: true` is also shown in the channel: it is listed there too, with
  `subtype: "thread_broadcast"`, and stays in conversations.replies.
- `<@U…>` in a message's text or in its blocks' mrkdwn notifies that user (a mention).
  `<!date^unix^{tokens}|fallback>` in mrkdwn and rich_text `date` elements are shown in each
  reader's own time zone (the user's `tz`); `read_by` renders a message that way.
- response_url takes up to 5 posts within 30 minutes (what happens past that is not
  documented: this simulator answers 404 "used_url" / "expired_url").
- Events API: Slack POSTs `{"type": "event_callback", "team_id", "api_app_id", "event": {...},
  "event_id", "event_time", "authorizations": [...]}` as JSON to the app's request URL, signed
  like every request (`X-Slack-Signature: v0=hex(HMAC-SHA256(signing secret,
  "v0:{timestamp}:{body}"))`). `app_uninstalled` comes once the app is removed and its tokens
  are dead; `tokens_revoked` lists the revoked tokens' user ids under `tokens.oauth` / `tokens.bot`;
  `app_home_opened` (`user`, `channel`, `tab` "home" or "messages", and `view` once one was
  published) each time a user opens the app's Home.
- views.publish (`user_id`, `view` of type "home") replaces that user's Home; a view beyond Block
  Kit's limits is `invalid_blocks` with the places in `response_metadata.messages`
  (simulators/block_kit.py), an unknown user `user_not_found`, a stale `hash` `hash_conflict`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from simulators.base import Simulator, add_query, base_url, json_response
from simulators.block_kit import view_problems

RESPONSE_URL_POSTS = 5
RESPONSE_URL_SECONDS = 30 * 60
BOT_SCOPES = "commands,chat:write,im:write,users:read,channels:read"
# Well-known fake credentials, so tests and the sandbox need no configuration.
DEFAULT_CLIENT_SECRET = "slack-client-secret"
DEFAULT_BOT_TOKEN = "xoxb-sim-T0001"
# What an app distributed outside the Slack Marketplace may read of a conversation.
NON_MARKETPLACE_PAGE = 15
NON_MARKETPLACE_READ_SECONDS = 60.0


class SlackError(Exception):
    def __init__(self, error: str, messages: list[str] | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages or []  # where a refused view breaks Block Kit's limits


class RateLimited(Exception):
    def __init__(self, retry_after: int = 1) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


@dataclass
class _Workspace:
    team_id: str
    name: str
    bot_token: str
    bot_user_id: str
    bot_id: str
    app_id: str


@dataclass
class _Channel:
    id: str
    team_id: str
    name: str
    bot_member: bool = True
    archived: bool = False
    im_user: str | None = None
    created: int = field(default_factory=lambda: int(time.time()))
    messages: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _ResponseUrl:
    id: str
    created: float
    channel_id: str | None
    posts: int = 0


def _random_id(prefix: str, length: int = 10) -> str:
    alphabet = string.ascii_uppercase + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


class SlackSimulator(Simulator):
    def __init__(
        self, *, client_id: str = "slack-client-id", client_secret: str = DEFAULT_CLIENT_SECRET
    ) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.rate_limit_per_channel = False
        # False: the app is distributed outside the Marketplace and reads history at its limits.
        self.marketplace_app = True
        self._last_read: dict[tuple[str, str], float] = {}
        # Team and user that the simulated OAuth consent screen approves as.
        self.authorizing_team: str | None = None
        self.authorizing_user: str | None = None
        self.clock: Callable[[], float] = time.monotonic
        self._workspaces: dict[str, _Workspace] = {}
        self._tokens: dict[str, str] = {}  # token -> team id
        self._channels: dict[str, _Channel] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._views: dict[str, dict[str, Any]] = {}
        self._homes: dict[tuple[str, str], dict[str, Any]] = {}  # (team, user) -> Home view
        self._home_publications: list[dict[str, Any]] = []
        self._expired_triggers: set[str] = set()
        self._codes: dict[str, tuple[str, str | None, str | None]] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._response_posts: list[dict[str, Any]] = []
        self._ephemeral: list[dict[str, Any]] = []
        self._last_post: dict[str, float] = {}
        self._uploads: dict[str, dict[str, Any]] = {}
        self._last_ts_us = 0
        self.app = self._wrap(self._build_app())

    # State API.

    def add_workspace(
        self,
        team_id: str = "T0001",
        *,
        name: str = "Demo Shop",
        bot_token: str = DEFAULT_BOT_TOKEN,
        bot_user_id: str = "UBOT0001",
    ) -> None:
        workspace = _Workspace(
            team_id, name, bot_token, bot_user_id, _random_id("B"), _random_id("A")
        )
        with self._lock:
            self._workspaces[team_id] = workspace
            self._tokens[bot_token] = team_id
            self._users[bot_user_id] = _user_record(
                team_id, bot_user_id, "meetbot", tz="UTC", is_bot=True
            )
            if self.authorizing_team is None:
                self.authorizing_team = team_id

    def add_channel(
        self,
        team_id: str,
        *,
        name: str,
        id: str | None = None,
        bot_member: bool = True,
        archived: bool = False,
    ) -> str:
        channel = _Channel(id or _random_id("C"), team_id, name, bot_member, archived)
        with self._lock:
            self._workspace(team_id)
            self._channels[channel.id] = channel
        return channel.id

    def add_user(
        self,
        team_id: str,
        *,
        id: str,
        name: str,
        is_admin: bool = False,
        is_owner: bool = False,
        tz: str = "Europe/Kyiv",
        email: str | None = None,
    ) -> None:
        user = _user_record(team_id, id, name, tz=tz, is_admin=is_admin, is_owner=is_owner)
        user["profile"]["email"] = email or f"{name.lower().replace(' ', '.')}@example.com"
        with self._lock:
            self._workspace(team_id)
            self._users[id] = user
            if self.authorizing_user is None:
                self.authorizing_user = id

    def archive_channel(self, channel_id: str) -> None:
        with self._lock:
            self._channels[channel_id].archived = True

    def remove_bot(self, channel_id: str) -> None:
        with self._lock:
            self._channels[channel_id].bot_member = False

    def revoke_token(self, token: str) -> None:
        with self._lock:
            self._tokens.pop(token, None)

    def uninstall_app(
        self, team_id: str, *, events_url: str, signing_secret: str
    ) -> httpx.Response:
        """The app is removed from the workspace: its bot token dies and the app is told."""
        with self._lock:
            self._tokens.pop(self._workspace(team_id).bot_token, None)
        event = {"type": "app_uninstalled"}
        return self.send_event(team_id, event, events_url=events_url, signing_secret=signing_secret)

    def revoke_bot_token(
        self, team_id: str, *, events_url: str, signing_secret: str
    ) -> httpx.Response:
        """A workspace admin revokes the bot's token: it dies and the app is told."""
        with self._lock:
            workspace = self._workspace(team_id)
            self._tokens.pop(workspace.bot_token, None)
        event = {"type": "tokens_revoked", "tokens": {"bot": [workspace.bot_user_id]}}
        return self.send_event(team_id, event, events_url=events_url, signing_secret=signing_secret)

    def send_event(
        self,
        team_id: str,
        event: dict[str, Any],
        *,
        events_url: str,
        signing_secret: str,
        timeout: float = 15.0,
    ) -> httpx.Response:
        """POSTs an Events API event to the app, signed as Slack signs it."""
        with self._lock:
            workspace = self._workspace(team_id)
        now = int(time.time())
        body = json.dumps(
            {
                "token": "legacy-verification-token",
                "team_id": team_id,
                "api_app_id": workspace.app_id,
                "event": {**event, "event_ts": f"{now}.000100"},
                "type": "event_callback",
                "event_id": _random_id("Ev"),
                "event_time": now,
                "authorizations": [
                    {
                        "enterprise_id": None,
                        "team_id": team_id,
                        "user_id": workspace.bot_user_id,
                        "is_bot": True,
                        "is_enterprise_install": False,
                    }
                ],
            }
        )
        signed = hmac.new(signing_secret.encode(), f"v0:{now}:{body}".encode(), hashlib.sha256)
        headers = {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": str(now),
            "X-Slack-Signature": f"v0={signed.hexdigest()}",
        }
        with httpx.Client(timeout=timeout) as client:
            return client.post(events_url, content=body, headers=headers)

    def messages(self, channel_id: str) -> list[dict[str, Any]]:
        """Top-level and thread messages in the order they were posted."""
        with self._lock:
            channel = self._channels.get(channel_id)
            return [_stored_copy(m) for m in channel.messages] if channel else []

    def read_by(self, user_id: str, message: dict[str, Any]) -> str:
        """The message's blocks as the user reads them: dates in the user's own zone."""
        with self._lock:
            zone = ZoneInfo(self._users[user_id]["tz"])
        return _as_read(message, zone)

    def post_as_user(self, channel_id: str, *, user_id: str, text: str) -> str:
        """A person writes in a channel (not the app); returns the message's ts."""
        with self._lock:
            channel = self._channels[channel_id]
            ws = self._workspace(channel.team_id)
            message = self._store(
                ws, channel, {"text": text, "blocks": None, "metadata": None}, None
            )
            message.update(user=user_id, bot_id=None, app_id=None)
            return str(message["ts"])

    def dm_messages(self, user_id: str) -> list[dict[str, Any]]:
        with self._lock:
            for channel in self._channels.values():
                if channel.im_user == user_id:
                    return [_stored_copy(m) for m in channel.messages]
            return []

    def dm_files(self, user_id: str) -> list[dict[str, Any]]:
        """Files shared into the app's DM with a user: {"id", "name", "title", "content"}."""
        with self._lock:
            shared = [
                file
                for channel in self._channels.values()
                if channel.im_user == user_id
                for message in channel.messages
                for file in message.get("files") or []
            ]
            return [{**f, "content": self._uploads[f["id"]]["content"]} for f in shared]

    def ephemeral_messages(self, channel_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(m) for m in self._ephemeral if channel_id in (None, m["channel"])]

    def response_posts(self) -> list[dict[str, Any]]:
        """Every post to a response_url: {"id", "payload"}, in order."""
        with self._lock:
            return [dict(p) for p in self._response_posts]

    def new_response_url(self, base: str, *, channel_id: str | None = None) -> str:
        """A response_url on this simulator; in_channel answers land in channel_id."""
        rid = secrets.token_urlsafe(18)
        with self._lock:
            self._response_urls[rid] = _ResponseUrl(rid, self.clock(), channel_id)
        return f"{base.rstrip('/')}/response/{rid}"

    def new_oauth_code(
        self, team_id: str, *, user_id: str | None = None, redirect_uri: str | None = None
    ) -> str:
        code = secrets.token_hex(16)
        with self._lock:
            self._workspace(team_id)
            self._codes[code] = (team_id, user_id, redirect_uri)
        return code

    def expire_trigger(self, trigger_id: str) -> None:
        with self._lock:
            self._expired_triggers.add(trigger_id)

    def views(self) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(json.dumps(v)) for v in self._views.values()]

    def home_view(self, team_id: str, user_id: str) -> dict[str, Any] | None:
        """The Home tab `user_id` sees now (the last view published for them), if any."""
        with self._lock:
            view = self._homes.get((team_id, user_id))
            return json.loads(json.dumps(view)) if view is not None else None

    def home_publications(self) -> list[dict[str, Any]]:
        """Every views.publish Slack took: {"team_id", "user_id"}, in order."""
        with self._lock:
            return [dict(p) for p in self._home_publications]

    def open_home(
        self, team_id: str, user_id: str, *, events_url: str, signing_secret: str
    ) -> httpx.Response:
        """A user opens the app's Home tab: Slack sends `app_home_opened` (with the view they
        see now, once there is one)."""
        with self._lock:
            channel = self._open_im(self._workspace(team_id), user_id).id
            shown = self._homes.get((team_id, user_id))
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": channel,
            "tab": "home",
        }
        if shown is not None:
            event["view"] = json.loads(json.dumps(shown))
        return self.send_event(team_id, event, events_url=events_url, signing_secret=signing_secret)

    # Internals.

    def _workspace(self, team_id: str) -> _Workspace:
        try:
            return self._workspaces[team_id]
        except KeyError:
            raise KeyError(f"unknown Slack workspace {team_id!r}") from None

    def _next_ts(self) -> str:
        now_us = int(time.time() * 1_000_000)
        self._last_ts_us = max(now_us, self._last_ts_us + 1)
        return f"{self._last_ts_us // 1_000_000}.{self._last_ts_us % 1_000_000:06d}"

    def _authenticate(self, request: Request, args: dict[str, Any]) -> _Workspace:
        scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
        token = bearer.strip() if scheme.lower() == "bearer" else str(args.get("token", ""))
        if not token:
            raise SlackError("not_authed")
        team_id = self._tokens.get(token)
        if team_id is None:
            raise SlackError("invalid_auth")
        return self._workspaces[team_id]

    def _channel(self, ws: _Workspace, ref: Any) -> _Channel:
        ref = str(ref or "")
        channel = self._channels.get(ref)
        user = self._users.get(ref)
        if channel is None and user is not None and user["team_id"] == ws.team_id:
            channel = self._open_im(ws, ref)  # posting to a user id lands in the app's DM
        if channel is None:
            name = ref.removeprefix("#")
            channel = next(
                (c for c in self._channels.values() if c.team_id == ws.team_id and c.name == name),
                None,
            )
        if channel is None or channel.team_id != ws.team_id:
            raise SlackError("channel_not_found")
        return channel

    def _open_im(self, ws: _Workspace, user_id: str) -> _Channel:
        for channel in self._channels.values():
            if channel.im_user == user_id and channel.team_id == ws.team_id:
                return channel
        channel = _Channel(_random_id("D"), ws.team_id, "", im_user=user_id)
        self._channels[channel.id] = channel
        return channel

    def _writable(self, ws: _Workspace, ref: Any) -> _Channel:
        channel = self._channel(ws, ref)
        if channel.archived:
            raise SlackError("is_archived")
        if not channel.bot_member:
            raise SlackError("not_in_channel")
        return channel

    def _readable(self, ws: _Workspace, ref: Any) -> _Channel:
        channel = self._channel(ws, ref)
        if not channel.bot_member:
            raise SlackError("not_in_channel")
        return channel

    # App.

    def _build_app(self) -> Starlette:
        methods = ["GET", "POST"]
        return Starlette(
            routes=[
                Route("/api/{method}", self._api, methods=methods),
                Route("/response/{rid}", self._response_url, methods=["POST"]),
                Route("/upload/{file_id}", self._upload, methods=["POST"]),
                Route("/oauth/v2/authorize", self._authorize, methods=["GET"]),
            ]
        )

    async def _api(self, request: Request) -> Response:
        method = request.path_params["method"]
        args = await _read_args(request)
        handler = self._handlers().get(method)
        if handler is None:
            return json_response({"ok": False, "error": "unknown_method", "req_method": method})
        with self._lock:
            try:
                result = handler(request, args)
            except SlackError as exc:
                refused: dict[str, Any] = {"ok": False, "error": exc.error}
                if exc.messages:
                    refused["response_metadata"] = {"messages": exc.messages}
                return json_response(refused)
            except RateLimited as exc:
                body = {"ok": False, "error": "ratelimited"}
                return json_response(body, 429, {"Retry-After": str(exc.retry_after)})
        return json_response({"ok": True, **result})

    def _handlers(self) -> dict[str, Callable[[Request, dict[str, Any]], dict[str, Any]]]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update_message,
            "chat.delete": self._delete_message,
            "chat.postEphemeral": self._post_ephemeral,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.join": self._conversations_join,
            "conversations.list": self._conversations_list,
            "users.info": self._users_info,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "oauth.v2.access": self._oauth_access,
            "files.getUploadURLExternal": self._upload_url,
            "files.completeUploadExternal": self._complete_upload,
        }

    def _auth_test(self, request: Request, args: dict[str, Any]) -> dict[str, Any]:
        ws = self._authenticate(request, args)
        host = ws.name.lower().replace(" ", "")
        return {
            "url": f"https://{host}.slack.com/",
            "team": ws.name,
            "user": "meetbot",
            "team_id": ws.team_id,
            "user_id": ws.bot_user_id,
            "bot_id": ws.bot_id,
            "app_id": ws.app_id,
            "is_enterprise_install": False,
        }

    # Messages.

    def _post_message(self, request: Request, args: dict[str, Any]) -> dict[str, Any]:
        ws = self._authenticate(request, args)
        channel = self._writable(ws, args.get("channel"))
        content = _content(args)
        if not (content["text"] or content["blocks"] or args.get("attachments")):
            raise SlackError("no_text")
        self._check_rate(channel.id)
        message = self._store(ws, channel, content, args.get("thread_ts"))
        if message["thread_ts"] and _flag(args.get("reply_broadcast")):
            message.update(subtype="thread_broadcast", reply_broadcast=True)
        return {"channel": channel.id, "ts": message["ts"], "message": _view(message, True)}

    def _check_rate(self, channel_id: str) -> None:
        if not self.rate_limit_per_channel:
            return
        now = self.clock()
        last = self._last_post.get(channel_id)
        if last is not None and now - last < 1.0:
            raise RateLimited
        self._last_post[channel_id] = now

    def _check_read_rate(self, ws: _Workspace, method: str, args: dict[str, Any]) -> None:
        """Outside the Marketplace: one read a minute per method and workspace, 15 a page."""
        if self.marketplace_app:
            return
        now = self.clock()
        last = self._last_read.get((ws.team_id, method))
        if last is not None and now - last < NON_MARKETPLACE_READ_SECONDS:
            raise RateLimited(math.ceil(NON_MARKETPLACE_READ_SECONDS - (now - last)))
        self._last_read[(ws.team_id, method)] = now
        try:
            asked = int(args.get("limit") or NON_MARKETPLACE_PAGE)
        except ValueError:
            asked = NON_MARKETPLACE_PAGE
        args["limit"] = min(asked, NON_MARKETPLACE_PAGE)

    def _store(
        self, ws: _Workspace, channel: _Channel, content: dict[str, Any], thread_ts: Any
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "ts": self._next_ts(),
            "user": ws.bot_user_id,
            "bot_id": ws.bot_id,
            "app_id": ws.app_id,
            "team": ws.team_id,
            "channel": channel.id,
            "thread_ts": str(thread_ts) if thread_ts else None,
            "reply_broadcast": False,
            "edits": [],
            **content,
        }
        channel.messages.append(message)
        return message

    def _find(self, channel: _Channel, ts: Any) -> dict[str, Any]:
        for message in channel.messages:
            if message["ts"] == str(ts or ""):
                return message
        raise SlackError("message_not_found")

    def _update_message(self, request: Request, args: dict[str, Any]) -> dict[str, Any]:
        ws = self._authenticate(request, args)
        channel = self._writable(ws, args.get("channel"))
        message = self._find(channel, args.get("ts"))
        if message["user"] != ws.bot_user_id:
            raise SlackError("cant_update_message")
        content = _content(args)  # validate before anything changes
        previous = {k: message[k] for k in ("text", "blocks", "metadata")}
        message["edits"].append({**previous, "edited_ts": self._next_ts()})
        for key in ("text", "blocks", "metadata"):
            if key in args:
                message[key] = content[key]
        return {
            "channel": channel.id,
            "ts": message["ts"],
            "text": message["text"],
            "message": _view(message, True),
        }

    def _delete_message(self, request: Request, args: dict[str, Any]) -> dict[str, Any]:
        ws = self._authenticate(request, args)
        channel = self._writable(ws, args.get("channel"))
        message = self._find(channel, args.get("ts"))
        if message["user"] != ws.bot_user_id:
            raise SlackError("cant_delete_message")
        channel.messages.remove(message)
        return {"channel": channel.id, "ts": message["ts"]}

    def _post_ephemeral(self, request: Request, args: dict[str, Any]) -> dict[str, Any]:
        ws = self._authenticate(request, args)
        channel = self._writable(ws, args.get("channel"))
        user = str(args.get("user", ""))
        if user not in self._users:
            raise SlackError("user_not_found")
        ts = self._next_ts()
        self._ephemeral.append({"channel": channel.id, "user": user, "ts": ts, **_content(args)})
        return {"message_ts": ts}

    def _history(self, request: Request, args: dict[str, Any]) -> dict[str, Any]:
        ws = self._authenticate(request, args)
        channel = self._readable(ws, args.get("channel"))
        self._check_read_rate(ws, "conversations.history", args)
        metadata = _flag(args.get("include_all_metadata"))
        top = [
            m for m in channel.messages if m["thread_ts"] in (None, m["ts"]) or m["reply_broadcast"]
        ]
        chosen = [m for m in reversed(top) if _in_window(m["ts"], args)]
        views = [self._with_replies(channel, _view(m, metadata)) for m in chosen]
        return _paginate(views, args, "messages")

    def _with_replies(self, channel: _Channel, view: dict[str, Any]) -> dict[str, Any]:
        replies = [
            m for m in channel.messages if m["thread_ts"] == view["ts"] and m["ts"] != view["ts"]
        ]
        if replies:
            view["thread_ts"] = view["ts"]
            view["reply_count"] = len(replies)
            view["latest_reply"] = replies[-1]["ts"]
        return view

    def _replies(self, request: Request, args: dict[str, Any]) -> dict[str, Any]:
        ws = self._authenticate(request, args)
        channel = self._readable(ws, args.get("channel"))
        parent = self._find(channel, args.get("ts"))
        self._check_read_rate(ws, "conversations.replies", args)
        root = parent["thread_ts"] or parent["ts"]
        metadata = _flag(args.get("include_all_metadata"))
        thread = [_view(m, metadata) for m in channel.messages if root in (m["ts"], m["thread_ts"])]
        return _paginate(thread, args, "messages")

    # Conversations and users.

    def _conversations_open(self, request: Request, args: dict[str, Any]) -> dict[str, Any]:
        ws = self._authenticate(request, args)
        users = [u for u in str(args.get("users", "")).split(",") if u]
        if not users:
            raise SlackError("users_list_not_supplied")
        user = self._users.get(users[0])
        if user is None or user["team_id"] != ws.team_id:
            raise SlackError("user_not_found")
        existed = any(c.im_user == users[0] for c in self._channels.values())
        channel = self._open_im(ws, users[0])
        info = _channel_info(channel) if _flag(args.get("return_im")) else {"id": channel.id}
        extra = {"no_op": True, "already_open": True} if existed else {}
        return {"channel": info, **extra}

    def _conversations_info(self, request: Request, args: dict[str, Any]) -> dict[str, Any]:
        ws = self._authenticate(request, args)
        return {"channel": _channel_info(self._channel(ws, args.get("channel")))}

    def _conversations_join(self, request: Request, args: dict[str, Any]) -> dict[str, Any]:
        ws = self._authenticate(request, args)
        channel = self._channel(ws, args.get("channel"))
        if channel.archived:
            raise SlackError("is_archived")
        channel.bot_member = True
        return {"channel": _channel_info(channel)}

    def _conversations_list(self, request: Request, args: dict[str, Any]) -> dict[str, Any]:
        ws = self._authenticate(request, args)
        skip_archived = _flag(args.get("exclude_archived"))
        channels = [
            _channel_info(c)
            for c in self._channels.values()
            if c.team_id == ws.team_id and c.im_user is None and not (skip_archived and c.archived)
        ]
        return _paginate(channels, args, "channels")

    def _users_info(self, request: Request, args: dict[str, Any]) -> dict[str, Any]:
        ws = self._authenticate(request, args)
        user = self._users.get(str(args.get("user", "")))
        if user is None or user["team_id"] != ws.team_id:
            raise SlackError("user_not_found")
        return {"user": json.loads(json.dumps(user))}

    # Views.

    def _views_open(self, request: Request, args: dict[str, Any]) -> dict[str, Any]:
        ws = self._authenticate(request, args)
        trigger = str(args.get("trigger_id", ""))
        view = _json_arg(args.get("view"))
        if not trigger or not isinstance(view, dict):
            raise SlackError("invalid_arguments")
        if trigger in self._expired_triggers:
            raise SlackError("expired_trigger_id")
        stored = _view_record(ws, _random_id("V"), view)
        self._views[stored["id"]] = stored
        return {"view": stored}

    def _views_update(self, request: Request, args: dict[str, Any]) -> dict[str, Any]:
        ws = self._authenticate(request, args)
        view = _json_arg(args.get("view"))
        view_id = str(args.get("view_id", ""))
        if not isinstance(view, dict):
            raise SlackError("invalid_arguments")
        if view_id not in self._views:
            raise SlackError("not_found")
        stored = _view_record(ws, view_id, view)
        self._views[view_id] = stored
        return {"view": stored}

    def _views_publish(self, request: Request, args: dict[str, Any]) -> dict[str, Any]:
        """A user's Home tab: the view replaces the one before, if Block Kit's limits allow it."""
        ws = self._authenticate(request, args)
        user_id = str(args.get("user_id") or "")
        view = _json_arg(args.get("view"))
        if not user_id or not isinstance(view, dict) or view.get("type") != "home":
            raise SlackError("invalid_arguments")
        user = self._users.get(user_id)
        if user is None or user["team_id"] != ws.team_id:
            raise SlackError("user_not_found")
        problems = view_problems(view)
        if problems:
            raise SlackError("invalid_blocks", problems)
        previous = self._homes.get((ws.team_id, user_id))
        if args.get("hash") and (previous is None or previous["hash"] != args["hash"]):
            raise SlackError("hash_conflict")
        stored = _view_record(ws, previous["id"] if previous else _random_id("V"), view)
        self._homes[(ws.team_id, user_id)] = stored
        self._home_publications.append({"team_id": ws.team_id, "user_id": user_id})
        return {"view": stored}

    # OAuth.

    def _oauth_access(self, request: Request, args: dict[str, Any]) -> dict[str, Any]:
        client_id, secret = _client_credentials(request, args)
        if client_id != self.client_id:
            raise SlackError("invalid_client_id")
        if not secrets.compare_digest(secret, self.client_secret):
            raise SlackError("bad_client_secret")
        found = self._codes.pop(str(args.get("code", "")), None)
        if found is None:
            raise SlackError("invalid_code")
        team_id, user_id, redirect_uri = found
        if redirect_uri is not None and args.get("redirect_uri") != redirect_uri:
            raise SlackError("bad_redirect_uri")
        ws = self._workspaces[team_id]
        if ws.bot_token not in self._tokens:
            ws.bot_token = f"xoxb-sim-{team_id}-{secrets.token_hex(8)}"
            self._tokens[ws.bot_token] = team_id
        return {
            "access_token": ws.bot_token,
            "token_type": "bot",
            "scope": BOT_SCOPES,
            "bot_user_id": ws.bot_user_id,
            "app_id": ws.app_id,
            "team": {"id": ws.team_id, "name": ws.name},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": user_id or ""},
        }

    async def _authorize(self, request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != self.client_id or not q.get("redirect_uri"):
            return PlainTextResponse("invalid_client_id or missing redirect_uri", 400)
        with self._lock:
            team = self.authorizing_team
            if team is None:
                return PlainTextResponse("no workspace to install into", 400)
            code = secrets.token_hex(16)
            self._codes[code] = (team, self.authorizing_user, q["redirect_uri"])
        params = {"code": code, **({"state": q["state"]} if "state" in q else {})}
        return RedirectResponse(add_query(q["redirect_uri"], params), status_code=302)

    # response_url.

    # Files (the two-step upload that replaced files.upload).

    def _upload_url(self, request: Request, args: dict[str, Any]) -> dict[str, Any]:
        ws = self._authenticate(request, args)
        filename, length = str(args.get("filename") or ""), str(args.get("length") or "")
        if not filename:
            raise SlackError("invalid_arguments")
        if not length.isdigit() or int(length) <= 0:
            raise SlackError("invalid_arguments")
        file_id = _random_id("F")
        self._uploads[file_id] = {
            "team_id": ws.team_id,
            "filename": filename,
            "length": int(length),
            "content": None,
        }
        return {"upload_url": f"{base_url(request)}/upload/{file_id}", "file_id": file_id}

    async def _upload(self, request: Request) -> Response:
        raw = await request.body()
        with self._lock:
            upload = self._uploads.get(request.path_params["file_id"])
            if upload is None:
                return PlainTextResponse("not_found", 404)
            if len(raw) != upload["length"]:
                return PlainTextResponse("length_mismatch", 400)
            upload["content"] = raw
        return PlainTextResponse(f"OK - {len(raw)}")

    def _complete_upload(self, request: Request, args: dict[str, Any]) -> dict[str, Any]:
        ws = self._authenticate(request, args)
        files = _json_arg(args.get("files"))
        if not isinstance(files, list) or not files:
            raise SlackError("invalid_arguments")
        shared = []
        for item in files:
            upload = self._uploads.get(str((item or {}).get("id")))
            if upload is None or upload["team_id"] != ws.team_id or upload["content"] is None:
                raise SlackError("file_not_found")
            shared.append(
                {
                    "id": item["id"],
                    "name": upload["filename"],
                    "title": str(item.get("title") or upload["filename"]),
                }
            )
        if args.get("channel_id"):
            channel = self._writable(ws, args.get("channel_id"))
            content = {"text": str(args.get("initial_comment") or ""), "blocks": None}
            message = self._store(ws, channel, {**content, "metadata": None}, args.get("thread_ts"))
            message["files"] = shared
        return {"files": shared}

    async def _response_url(self, request: Request) -> Response:
        raw = await request.body()
        try:
            payload = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return PlainTextResponse("invalid_payload", 400)
        with self._lock:
            target = self._response_urls.get(request.path_params["rid"])
            if target is None:
                return PlainTextResponse("no_service", 404)
            if self.clock() - target.created > RESPONSE_URL_SECONDS:
                return PlainTextResponse("expired_url", 404)
            if target.posts >= RESPONSE_URL_POSTS:
                return PlainTextResponse("used_url", 404)
            target.posts += 1
            self._response_posts.append({"id": target.id, "payload": payload})
            self._post_in_channel(target, payload)
        return PlainTextResponse("ok")

    def _post_in_channel(self, target: _ResponseUrl, payload: Any) -> None:
        channel = self._channels.get(target.channel_id or "")
        if channel is None or not isinstance(payload, dict):
            return
        if payload.get("response_type") != "in_channel":
            return
        self._store(self._workspaces[channel.team_id], channel, _content(payload), None)


async def _read_args(request: Request) -> dict[str, Any]:
    args: dict[str, Any] = dict(request.query_params)
    raw = await request.body()
    if not raw.strip():
        return args
    if "json" in request.headers.get("content-type", ""):
        try:
            body = json.loads(raw)
        except ValueError:
            return args
        if isinstance(body, dict):
            args.update(body)
        return args
    args.update(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    return args


def _json_arg(value: Any) -> Any:
    """Forms carry structured arguments as JSON strings; JSON bodies carry them as is."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _content(args: dict[str, Any]) -> dict[str, Any]:
    blocks = _json_arg(args.get("blocks"))
    if blocks is not None and not isinstance(blocks, list):
        raise SlackError("invalid_blocks")
    metadata = _json_arg(args.get("metadata"))
    if metadata is not None and not _valid_metadata(metadata):
        raise SlackError("invalid_metadata_format")
    return {"text": str(args.get("text") or ""), "blocks": blocks, "metadata": metadata}


def _valid_metadata(metadata: Any) -> bool:
    return (
        isinstance(metadata, dict)
        and isinstance(metadata.get("event_type"), str)
        and isinstance(metadata.get("event_payload", {}), dict)
    )


def _view(message: dict[str, Any], with_metadata: bool) -> dict[str, Any]:
    """A stored message as the Web API shows it."""
    keys = ("type", "user", "bot_id", "app_id", "team", "text", "ts")
    view: dict[str, Any] = {k: message[k] for k in keys}
    if message.get("subtype"):
        view["subtype"] = message["subtype"]
    if message["blocks"] is not None:
        view["blocks"] = message["blocks"]
    if message["thread_ts"]:
        view["thread_ts"] = message["thread_ts"]
    if message["edits"]:
        view["edited"] = {"user": message["user"], "ts": message["edits"][-1]["edited_ts"]}
    if with_metadata and message["metadata"] is not None:
        view["metadata"] = message["metadata"]
    return json.loads(json.dumps(view))


def _stored_copy(message: dict[str, Any]) -> dict[str, Any]:
    keys = ["ts", "text", "blocks", "metadata", "thread_ts", "reply_broadcast", "user", "edits"]
    keys.append("channel")
    result: dict[str, Any] = json.loads(json.dumps({k: message[k] for k in keys}))
    return result


_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_DATE_TOKEN = re.compile(r"<!date\^(\d{1,12})\^([^|>]*)(?:\^[^|>]*)?\|([^>]*)>")


def mentioned_users(message: dict[str, Any]) -> list[str]:
    """The users a message notifies: `<@U…>` in its text or its blocks' mrkdwn, in order."""
    texts = [str(message.get("text") or "")]
    for block in message.get("blocks") or []:
        texts.append(str((block.get("text") or {}).get("text", "")))
        texts.extend(str(e.get("text", "")) for e in block.get("elements") or [] if "text" in e)
    found: list[str] = []
    for text in texts:
        found += [user for user in _MENTION.findall(text) if user not in found]
    return found


def _as_read(message: dict[str, Any], zone: ZoneInfo) -> str:
    lines: list[str] = []
    for block in message.get("blocks") or []:
        if isinstance(block.get("text"), dict):
            lines.append(_DATE_TOKEN.sub(lambda m: _date(m[1], m[2], zone), block["text"]["text"]))
        for section in block.get("elements") or []:
            if block.get("type") == "rich_text":
                lines.append("".join(_rich_element(e, zone) for e in section.get("elements", [])))
            elif isinstance(section.get("text"), str):
                lines.append(_DATE_TOKEN.sub(lambda m: _date(m[1], m[2], zone), section["text"]))
    return "\n".join(lines)


def _rich_element(element: dict[str, Any], zone: ZoneInfo) -> str:
    if element.get("type") == "date":
        return _date(str(element["timestamp"]), str(element.get("format", "")), zone)
    return str(element.get("text") or element.get("url") or "")


def _date(timestamp: str, tokens: str, zone: ZoneInfo) -> str:
    """Slack's date tokens for a reader in `zone` (English, 24-hour clock)."""
    moment = datetime.fromtimestamp(int(timestamp), zone)
    words = {
        "{date_num}": f"{moment:%Y-%m-%d}",
        "{date_short_pretty}": f"{moment:%b} {moment.day}, {moment:%Y}",
        "{date_short}": f"{moment:%b} {moment.day}, {moment:%Y}",
        "{date_long_pretty}": f"{moment:%A, %B} {moment.day}, {moment:%Y}",
        "{date_long}": f"{moment:%A, %B} {moment.day}, {moment:%Y}",
        "{date_pretty}": f"{moment:%B} {moment.day}, {moment:%Y}",
        "{date}": f"{moment:%B} {moment.day}, {moment:%Y}",
        "{time_secs}": f"{moment:%H:%M:%S}",
        "{time}": f"{moment:%H:%M}",
    }
    for token, shown in words.items():
        tokens = tokens.replace(token, shown)
    return tokens


def _in_window(ts: str, args: dict[str, Any]) -> bool:
    inclusive = _flag(args.get("inclusive"))
    value = float(ts)
    if args.get("oldest"):
        oldest = float(args["oldest"])
        if value < oldest or (value == oldest and not inclusive):
            return False
    if args.get("latest"):
        latest = float(args["latest"])
        if value > latest or (value == latest and not inclusive):
            return False
    return True


def _paginate(items: list[Any], args: dict[str, Any], key: str) -> dict[str, Any]:
    try:
        limit = max(1, min(int(args.get("limit") or 100), 1000))
    except ValueError:
        limit = 100
    start = _decode_cursor(str(args.get("cursor") or ""))
    page = items[start : start + limit]
    more = start + limit < len(items)
    cursor = base64.b64encode(f"offset:{start + limit}".encode()).decode() if more else ""
    result: dict[str, Any] = {key: page, "response_metadata": {"next_cursor": cursor}}
    if key == "messages":
        result["has_more"] = more
    return result


def _decode_cursor(cursor: str) -> int:
    if not cursor:
        return 0
    try:
        return int(base64.b64decode(cursor).decode().removeprefix("offset:"))
    except (binascii.Error, ValueError):
        raise SlackError("invalid_cursor") from None


def _channel_info(channel: _Channel) -> dict[str, Any]:
    if channel.im_user is not None:
        return {
            "id": channel.id,
            "created": channel.created,
            "is_im": True,
            "is_org_shared": False,
            "user": channel.im_user,
            "is_user_deleted": False,
            "priority": 0,
        }
    return {
        "id": channel.id,
        "name": channel.name,
        "name_normalized": channel.name,
        "is_channel": True,
        "is_group": False,
        "is_im": False,
        "is_mpim": False,
        "is_private": False,
        "is_archived": channel.archived,
        "is_general": False,
        "is_member": channel.bot_member,
        "created": channel.created,
        "context_team_id": channel.team_id,
    }


def _user_record(
    team_id: str,
    user_id: str,
    name: str,
    *,
    tz: str,
    is_admin: bool = False,
    is_owner: bool = False,
    is_bot: bool = False,
) -> dict[str, Any]:
    return {
        "id": user_id,
        "team_id": team_id,
        "name": name.lower().replace(" ", "."),
        "real_name": name,
        "deleted": False,
        "tz": tz,
        "tz_label": tz,
        "tz_offset": _tz_offset(tz),
        "is_admin": is_admin,
        "is_owner": is_owner,
        "is_primary_owner": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": is_bot,
        "is_app_user": False,
        "profile": {"real_name": name, "display_name": name},
    }


def _tz_offset(tz: str) -> int:
    try:
        offset = datetime.now(ZoneInfo(tz)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        offset = datetime.now(UTC).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _view_record(ws: _Workspace, view_id: str, view: dict[str, Any]) -> dict[str, Any]:
    record = {
        "id": view_id,
        "team_id": ws.team_id,
        "app_id": ws.app_id,
        "bot_id": ws.bot_id,
        "type": view.get("type", "modal"),
        "title": view.get("title"),
        "blocks": view.get("blocks", []),
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "external_id": view.get("external_id", ""),
        "state": {"values": {}},
        "hash": secrets.token_hex(8),
    }
    copied: dict[str, Any] = json.loads(json.dumps(record))
    return copied


def _client_credentials(request: Request, args: dict[str, Any]) -> tuple[str, str]:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, ValueError):
            return "", ""
        return client_id, secret
    return str(args.get("client_id", "")), str(args.get("client_secret", ""))
