"""Posting to Slack through slack_sdk's AsyncWebClient, with Slack's errors mapped to the core's."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.api_errors import (
    USER_GONE,
    VIEW_REFUSALS,
    InvalidCursor,
    RateLimited,
    api_error,
)
from adapters.slack.render import render
from bot.domain import ChatTarget, PostedMessage
from bot.errors import (
    ChatAuthRevoked,
    OutcomeUnknown,
    PermanentFailure,
    RetryLater,
)
from bot.messages import ChatMessage
from bot.pacing import Pacer, SendPacer

METADATA_EVENT = "meetbot_message"
TokenFor = Callable[[str], str | None]
# Slack: about one message a second per channel. It tolerates short bursts, but how many it does not
# say, and a refused post costs the job a retry: posts keep a little over a second apart (two
# posts a second apart when reserved may arrive closer, one of them held up on the way).
CHANNEL_SPACING_SECONDS = 1.1
# A post waits in place behind up to two others; further back, its job is rescheduled.
CHANNEL_MAX_WAIT_SECONDS = 2.5
CHANNEL_LIMITS = ((CHANNEL_SPACING_SECONDS, 1),)
CHANNEL_PACE_REASON = "Slack takes about one message a second in a channel; the rest follow shortly"
# Seconds before the intent that the history search also looks at (clocks differ a little).
CLOCK_SLACK_SECONDS = 60
# Searches that stopped part-way (rate limited) and where they go on from; oldest dropped first.
SEARCHES_KEPT = 1000


class SlackSender:
    """Implements the core's ChatSender for Slack. One AsyncWebClient per workspace token."""

    def __init__(
        self,
        *,
        api_url: str,
        token_for: TokenFor,
        timeout: int = 15,
        pacer: SendPacer | None = None,
        trace_configs: Sequence[aiohttp.TraceConfig] = (),
    ) -> None:
        self._trace_configs = list(trace_configs)  # the shell's counting of each call
        # In-process by default; worker processes sharing PostgreSQL share one pace instead.
        self._pacer = pacer or Pacer(
            limits=CHANNEL_LIMITS, reason=CHANNEL_PACE_REASON, max_wait=CHANNEL_MAX_WAIT_SECONDS
        )
        self._base_url = api_url.rstrip("/") + "/"  # slack_sdk needs the trailing slash
        self._token_for = token_for
        self._timeout = timeout
        self._clients: dict[str, AsyncWebClient] = {}
        self._session: aiohttp.ClientSession | None = None
        # Marker searches a rate limit interrupted: the next attempt goes on where this one
        # stopped instead of reading the newest pages again (Slack may allow one page a minute).
        self._searches: dict[tuple[str, ...], dict[str, str]] = {}

    def _client(self, workspace_id: str) -> AsyncWebClient:
        token = self._token_for(workspace_id)
        if not token:
            raise ChatAuthRevoked(f"meetbot is not installed in Slack workspace {workspace_id}")
        if self._session is None:  # created lazily: an aiohttp session belongs to the running loop
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                connector=aiohttp.TCPConnector(limit=32),
                trace_configs=self._trace_configs or None,
                # One session serves every workspace: no cookie of one may ride on another's call.
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        client = self._clients.get(workspace_id)
        if client is None or client.token != token:
            # No retry handlers: slack_sdk's default sends a call again after a dropped
            # connection, and a post Slack had already stored would appear twice. A dropped post
            # is an unknown outcome here, looked for before it is repeated.
            client = AsyncWebClient(
                token=token,
                base_url=self._base_url,
                timeout=self._timeout,
                session=self._session,
                retry_handlers=[],
            )
            self._clients[workspace_id] = client
        return client

    async def _call(
        self, workspace_id: str, method: str, *, may_repeat: bool, **kwargs: Any
    ) -> Any:
        client = self._client(workspace_id)
        try:
            return await self._send(client, method, may_repeat, kwargs)
        except ChatAuthRevoked:
            # The token may have been read before the workspace installed meetbot again (a job
            # reads its tokens at its start). Slack did nothing with the refused one, so the call
            # goes once more when the token now stored is another.
            again = self._client(workspace_id)
            if again is client:
                raise
            return await self._send(again, method, may_repeat, kwargs)

    @staticmethod
    async def _send(
        client: AsyncWebClient, method: str, may_repeat: bool, kwargs: dict[str, Any]
    ) -> Any:
        try:
            return await getattr(client, method.replace(".", "_"))(**kwargs)
        except SlackApiError as error:
            raise api_error(error) from error
        except (aiohttp.ClientError, TimeoutError) as error:
            what = f"Slack could not be reached ({type(error).__name__})"
            raise (RetryLater(what) if may_repeat else OutcomeUnknown(what)) from error

    async def post(self, *, target: ChatTarget, message: ChatMessage, marker: str) -> PostedMessage:
        return await self._post(target, message, marker)

    async def reply(
        self, *, target: ChatTarget, thread_id: str, message: ChatMessage, marker: str
    ) -> PostedMessage:
        # A broadcast reply is also shown in the channel: nobody follows a bot's thread.
        broadcast = {"reply_broadcast": True} if message.broadcast else {}
        return await self._post(target, message, marker, thread_ts=thread_id, **broadcast)

    async def _post(
        self, target: ChatTarget, message: ChatMessage, marker: str, **where: Any
    ) -> PostedMessage:
        channel = f"{target.workspace_id}:{target.channel_id}"
        await self._pacer.acquire(channel)
        try:
            answer = await self._post_now(target, message, marker, **where)
        except RateLimited as refused:
            # Two posts reserved a second apart can still arrive closer (one held up on the
            # way). Slack posted nothing, so the post waits out Retry-After here and goes once
            # more, instead of its whole job running again seconds later.
            if refused.after_seconds is None or refused.after_seconds > CHANNEL_MAX_WAIT_SECONDS:
                raise
            await asyncio.sleep(refused.after_seconds)
            await self._pacer.acquire(channel)
            answer = await self._post_now(target, message, marker, **where)
        return PostedMessage(channel_id=str(answer["channel"]), message_id=str(answer["ts"]))

    async def _post_now(
        self, target: ChatTarget, message: ChatMessage, marker: str, **where: Any
    ) -> Any:
        return await self._write(
            target,
            "chat.postMessage",
            message,
            may_repeat=False,
            unfurl_links=False,
            metadata={"event_type": METADATA_EVENT, "event_payload": {"marker": marker}},
            **where,
        )

    async def _write(
        self,
        target: ChatTarget,
        method: str,
        message: ChatMessage,
        *,
        may_repeat: bool,
        **extra: Any,
    ) -> Any:
        """Posts or edits `message` in the target's channel: its text and its blocks."""
        text, blocks = render(message)
        return await self._call(
            target.workspace_id,
            method,
            may_repeat=may_repeat,
            channel=target.channel_id,
            text=text,
            blocks=blocks,
            **extra,
        )

    async def find_reply(
        self, *, target: ChatTarget, thread_id: str, marker: str
    ) -> PostedMessage | None:
        """Reads the thread oldest first (a later reply is always further on); a search a rate
        limit interrupted goes on from its cursor at the next attempt."""
        channel = await self._conversation(target)
        key = (target.workspace_id, channel, "replies", thread_id, marker)
        cursor = self._searches.pop(key, {}).get("cursor")
        while True:
            params: dict[str, Any] = {
                "channel": channel,
                "ts": thread_id,
                "include_all_metadata": True,
                "limit": 200,
            }
            if cursor:
                params["cursor"] = cursor
            try:
                page = await self._call(
                    target.workspace_id, "conversations.replies", may_repeat=True, **params
                )
            except InvalidCursor:
                if not cursor:
                    raise
                cursor = None  # the kept cursor expired: read the thread again from its start
                continue
            except RetryLater:
                self._keep(key, {"cursor": cursor} if cursor else {})
                raise
            found = _carrying(page.get("messages") or [], marker, target)
            if found is not None:
                return found
            cursor = ((page.get("response_metadata") or {}).get("next_cursor")) or None
            if not cursor:
                return None

    async def find_posted(
        self, *, target: ChatTarget, marker: str, since: datetime
    ) -> PostedMessage | None:
        """Reads only what was posted since the intent, newest first.

        Apps outside the Slack Marketplace may read one page of 15 messages a minute. A rate limit
        is not an answer: the job is rescheduled for when Slack allows the next page (posting
        again could post twice), and the next attempt goes on below the oldest message already
        read, so every attempt makes progress."""
        channel = await self._conversation(target)
        oldest = f"{since.timestamp() - CLOCK_SLACK_SECONDS:.6f}"
        return await self._search_history(target, channel, marker, oldest)

    async def _search_history(
        self, target: ChatTarget, channel: str, marker: str, oldest: str
    ) -> PostedMessage | None:
        key = (target.workspace_id, channel, "history", marker, oldest)
        kept = self._searches.pop(key, {})
        if "tail" in kept:  # every older page is read: only what came after is left
            return await self._search_tail(target, channel, marker, key, kept["tail"])
        below, newest = kept.get("latest"), kept.get("newest")
        while True:
            params: dict[str, Any] = {
                "channel": channel,
                "include_all_metadata": True,
                "limit": 200,
                "oldest": oldest,
                **({"latest": below} if below else {}),
            }
            try:
                page = await self._call(
                    target.workspace_id, "conversations.history", may_repeat=True, **params
                )
            except RetryLater:
                if below and newest:
                    self._keep(key, {"latest": below, "newest": newest})
                raise
            messages = page.get("messages") or []
            found = _carrying(messages, marker, target)
            if found is not None:
                return found
            stamps = [str(m["ts"]) for m in messages if m.get("ts")]
            if stamps:
                newest = newest or max(stamps, key=float)
                below = min(stamps, key=float)
            if not stamps or not (page.get("response_metadata") or {}).get("next_cursor"):
                break
        if kept and newest:
            # Resumed after a wait: another worker may have run the job meanwhile, found nothing
            # and posted, so what came after this search's first page is read too.
            return await self._search_tail(target, channel, marker, key, newest)
        return None

    async def _search_tail(
        self, target: ChatTarget, channel: str, marker: str, key: tuple[str, ...], since: str
    ) -> PostedMessage | None:
        """The messages after `since`. Refused by the rate limit, the search keeps this place, so
        the next attempt reads only the tail instead of starting over (which, at one read a minute,
        would never end)."""
        try:
            return await self._search_history(target, channel, marker, since)
        except RetryLater:
            self._keep(key, {"tail": since})
            raise

    def _keep(self, key: tuple[str, ...], resume: dict[str, str]) -> None:
        if not resume:
            return
        while len(self._searches) >= SEARCHES_KEPT:
            self._searches.pop(next(iter(self._searches)))
        self._searches[key] = resume

    async def update(self, *, target: ChatTarget, message_id: str, message: ChatMessage) -> None:
        await self._write(target, "chat.update", message, may_repeat=True, ts=message_id)

    async def publish_view(self, *, workspace_id: str, user_id: str, view: dict[str, Any]) -> None:
        """Replaces a user's App Home (`views.publish`). The same view twice is one view, so a
        network failure is simply retried; a view or user Slack refuses is not."""
        try:
            await self._call(
                workspace_id, "views.publish", may_repeat=True, user_id=user_id, view=view
            )
        except RetryLater as error:
            cause = error.__cause__
            code = cause.response.get("error") if isinstance(cause, SlackApiError) else None
            if code in VIEW_REFUSALS:
                raise PermanentFailure(f"Slack refused the Home view: {code}") from error
            raise

    async def is_workspace_admin(self, *, workspace_id: str, user_id: str) -> bool:
        """Whether Slack says the user is an admin or owner now (`users.info`, a read)."""
        try:
            info = await self._call(workspace_id, "users.info", may_repeat=True, user=user_id)
        except RetryLater as error:
            cause = error.__cause__
            code = cause.response.get("error") if isinstance(cause, SlackApiError) else None
            if code in USER_GONE:  # nobody there to be an admin
                return False
            raise
        user = info.get("user") or {}
        return any(bool(user.get(flag)) for flag in ("is_admin", "is_owner", "is_primary_owner"))

    async def post_file(
        self, *, target: ChatTarget, filename: str, content: bytes, title: str, comment: str
    ) -> None:
        channel = await self._conversation(target)
        await self._call(
            target.workspace_id,
            "files_upload_v2",
            may_repeat=False,
            channel=channel,
            filename=filename,
            content=content,
            title=title,
            initial_comment=comment,
        )

    async def _conversation(self, target: ChatTarget) -> str:
        """The conversation a target names. A user id names the direct message with that user:
        messages posted to it land there, and reading or sharing files needs the DM's own id."""
        channel = target.channel_id
        if channel[:1] in ("U", "W"):
            return await self.open_dm(workspace_id=target.workspace_id, user_id=channel)
        return channel

    async def open_dm(self, *, workspace_id: str, user_id: str) -> str:
        answer = await self._call(
            workspace_id, "conversations.open", may_repeat=True, users=user_id
        )
        return str(answer["channel"]["id"])

    async def aclose(self) -> None:
        self._searches.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None
        self._clients.clear()


def _carrying(
    messages: list[dict[str, Any]], marker: str, target: ChatTarget
) -> PostedMessage | None:
    """The message among `messages` that carries `marker` in its metadata, if any."""
    for message in messages:
        payload = (message.get("metadata") or {}).get("event_payload") or {}
        if payload.get("marker") == marker:
            return PostedMessage(target.channel_id, str(message["ts"]))
    return None
