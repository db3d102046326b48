"""The Slack front-end on slack-bolt: `/meetings`, buttons, the SimplyBook.me form, installs.

Listeners only convert: Slack payload → `Actor` and text → the core's use case → Block Kit.
Everything is acknowledged within Slack's 3 seconds; a command that takes longer is acknowledged
with "working on it" and answered through its `response_url` when done.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import re2
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.edge.front import ChatHandlers
from adapters.slack.home import listen_for_home
from adapters.slack.installations import (
    InstallationStore,
    SlackInstallations,
    SlackStates,
    StateStore,
)
from adapters.slack.render import render
from bot.commands import MAX_COMMAND_CHARS, SIMPLYBOOK_FORM, Reply, answer_in_time
from bot.domain import Actor, ChatPlatform
from bot.errors import RetryLater
from bot.urls import SLACK_INSTALL_PATH, SLACK_REDIRECT_PATH

log = logging.getLogger("meetbot.slack")

COMMAND = "/meetings"
FORM_CALLBACK = "meetbot_simplybook"
ANSWER_WITHIN_SECONDS = 2.0  # Slack waits 3 s; leave room for the network
# The same list as app_manifest.yml (a test keeps them equal).
BOT_SCOPES = [
    "commands",
    "chat:write",
    "im:write",
    "users:read",
    "channels:history",
    "groups:history",
    "im:history",
    "files:write",
]


# RE2: linear time on whatever a workspace member types.
_TYPED_LINK = re2.compile(r"<(https?://[^|>\s]+)(?:\|[^>]*)?>")


def command_text(raw: str) -> str:
    """Slack's escaping undone, except the mention forms (`<@U1>`, `<#C1|name>`) the grammar
    reads: typed links become plain URLs and `&lt;` is `<` again, so a template keeps exactly
    what the admin typed."""
    if len(raw) > MAX_COMMAND_CHARS:  # the core answers "too long" without reading it
        return raw
    unlinked = _TYPED_LINK.sub(r"\1", raw)
    return unlinked.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@dataclass(frozen=True)
class SlackHandlers(ChatHandlers):
    """The core's use cases, bound by the composition root."""

    # A command that outlives Slack's 3 seconds becomes a durable job answering on response_url.
    defer_command: Callable[[Actor, str, str], None]
    # meetbot removed from a workspace, after its tokens are deleted (team id, what happened),
    # and installed there again (team id).
    workspace_removed: Callable[[str, str], Awaitable[object]] | None = None
    workspace_installed: Callable[[str], Awaitable[object]] | None = None
    home_opened: Callable[[Actor], Awaitable[object]] | None = None  # the App Home tab


@dataclass(frozen=True)
class SlackConfig:
    signing_secret: str
    api_url: str
    bot_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    redirect_uri: str | None = None


def oauth_base(api_url: str) -> str:
    """Slack's OAuth pages live beside its Web API (`https://slack.com/api` → `https://slack.com`)."""
    return re.sub(r"/api/?$", "", api_url.rstrip("/"))


async def answer_later(response_url: str, reply: Reply) -> None:
    """Posts a command's answer to its response_url (valid for 30 minutes, 5 posts)."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
        answer = await AsyncWebhookClient(response_url, session=session).send_dict(
            reply_payload(reply)
        )
    if answer.status_code >= 400:
        raise RetryLater(f"Slack did not take the answer (HTTP {answer.status_code})")


def reply_payload(reply: Reply) -> dict[str, Any]:
    text, blocks = render(reply.message)
    return {
        "text": text,
        "blocks": blocks,
        "response_type": "in_channel" if reply.public and not reply.secret else "ephemeral",
    }


def simplybook_form() -> dict[str, Any]:
    def field(block_id: str, label: str, hint: str) -> dict[str, Any]:
        return {
            "type": "input",
            "block_id": block_id,
            "label": {"type": "plain_text", "text": label},
            "hint": {"type": "plain_text", "text": hint},
            "element": {"type": "plain_text_input", "action_id": "value"},
        }

    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "title": {"type": "plain_text", "text": "Connect SimplyBook.me"},
        "submit": {"type": "plain_text", "text": "Connect"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            field("login", "Company login", "The login you use to sign in to SimplyBook.me."),
            field("api_key", "API key", "SimplyBook.me → Settings → API → API key."),
            field(
                "api_secret",
                "API secret",
                "Same page: the secret key. It stays encrypted in meetbot.",
            ),
        ],
    }


async def actor_for(
    client: AsyncWebClient, *, team_id: str, user_id: str, channel_id: str = ""
) -> Actor:
    """Workspace admins and owners are meetbot admins by default, so ask Slack who they are."""
    is_admin = False
    try:  # bounded: the command must still be answered within Slack's 3 seconds
        info = await asyncio.wait_for(client.users_info(user=user_id), timeout=1.0)
        user = info.get("user") or {}
        is_admin = bool(
            user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner")
        )
    except (
        Exception
    ) as error:  # without the answer the user is treated as non-admin, never the reverse
        log.warning("users.info failed for a command: %s", type(error).__name__)
    return Actor(ChatPlatform.SLACK, team_id, user_id, is_admin, channel_id)


def build_slack_app(
    config: SlackConfig,
    handlers: SlackHandlers,
    *,
    installations: InstallationStore | None = None,
    states: StateStore | None = None,
) -> AsyncApp:
    client = AsyncWebClient(base_url=config.api_url.rstrip("/") + "/")
    if (
        config.client_id
        and config.client_secret
        and installations is not None
        and states is not None
    ):
        oauth = AsyncOAuthSettings(
            client_id=config.client_id,
            client_secret=config.client_secret,
            scopes=BOT_SCOPES,
            installation_store=SlackInstallations(installations),
            state_store=SlackStates(states),
            install_path=SLACK_INSTALL_PATH,
            redirect_uri_path=SLACK_REDIRECT_PATH,
            redirect_uri=config.redirect_uri,
            authorization_url=f"{oauth_base(config.api_url)}/oauth/v2/authorize",
            callback_options=AsyncCallbackOptions(
                success=_greeter(config.api_url, handlers), failure=_install_failed
            ),
        )
        app = AsyncApp(
            signing_secret=config.signing_secret,
            oauth_settings=oauth,
            client=client,
            request_verification_enabled=True,
        )
    else:  # one workspace: bolt takes the token from the client (a `token` beside it is ignored)
        single = AsyncWebClient(token=config.bot_token, base_url=config.api_url.rstrip("/") + "/")
        app = AsyncApp(
            signing_secret=config.signing_secret, client=single, request_verification_enabled=True
        )
    _listen(app, handlers)
    _listen_for_removal(app, handlers, installations)
    listen_for_home(app, handlers.home_opened, actor_for)
    quiet_request_verification()
    return app


# bolt's signature check logs a refused request's whole body at INFO (a form submission carries
# the SimplyBook.me API key and secret); meetbot's own check logs only its length and digest.
BOLT_VERIFICATION_LOGGERS = (
    "slack_bolt.AsyncRequestVerification",
    "slack_bolt.RequestVerification",
)


class DropRefusedBodies(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        head, found, _body = record.getMessage().partition(", body: ")
        if found:
            record.msg, record.args = f"{head}, body not logged)", None
        return True


def quiet_request_verification() -> None:
    for name in BOLT_VERIFICATION_LOGGERS:
        bolt = logging.getLogger(name)
        bolt.setLevel(logging.WARNING)  # bolt sets it from the root logger when the app is built
        if not any(isinstance(f, DropRefusedBodies) for f in bolt.filters):
            bolt.addFilter(DropRefusedBodies())


def _greeter(
    api_url: str, handlers: SlackHandlers
) -> Callable[[AsyncSuccessArgs], Awaitable[BoltResponse]]:
    async def installed(args: AsyncSuccessArgs) -> BoltResponse:
        installation = args.installation
        if handlers.workspace_installed is not None and installation.team_id:
            await handlers.workspace_installed(installation.team_id)
        if installation.bot_token and installation.user_id:
            client = AsyncWebClient(
                token=installation.bot_token, base_url=api_url.rstrip("/") + "/"
            )
            try:  # tell the installer the next step, so the set-up never stalls here
                await client.chat_postMessage(
                    channel=installation.user_id,
                    text=(
                        "Thanks for installing meetbot! Next step: `/meetings connect simplybook` "
                        "(then `/meetings help` lists everything)."
                    ),
                )
            except Exception as error:
                log.warning("could not greet the installer: %s", type(error).__name__)
        return await args.default.success(args)

    return installed


async def _install_failed(args: AsyncFailureArgs) -> BoltResponse:
    log.warning("Slack install failed: %s", args.reason)
    return await args.default.failure(args)


def _listen_for_removal(
    app: AsyncApp, handlers: SlackHandlers, installations: InstallationStore | None
) -> None:
    """Slack's `app_uninstalled` and `tokens_revoked` (bolt lets both through without an
    installation): the workspace's tokens are deleted, then the core holds what it would post."""

    async def removed(team_id: str, what: str) -> None:
        if not team_id:
            return
        if installations is not None:
            installations.forget_installation(team_id=team_id)
        if handlers.workspace_removed is not None:
            await handlers.workspace_removed(team_id, what)

    @app.event("app_uninstalled")
    async def on_uninstalled(body: dict[str, Any]) -> None:
        await removed(str(body.get("team_id") or ""), "meetbot was uninstalled from Slack")

    @app.event("tokens_revoked")
    async def on_tokens_revoked(body: dict[str, Any], event: dict[str, Any]) -> None:
        if (event.get("tokens") or {}).get("bot"):  # meetbot keeps no user tokens
            what = "the Slack workspace revoked meetbot's access"
            await removed(str(body.get("team_id") or ""), what)


def _listen(app: AsyncApp, handlers: SlackHandlers) -> None:
    @app.command(COMMAND)
    async def on_command(
        ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        actor = await actor_for(
            client,
            team_id=command["team_id"],
            user_id=command["user_id"],
            channel_id=command.get("channel_id", ""),
        )
        text = command_text(command.get("text", ""))
        reply = await answer_in_time(
            lambda: handlers.run_command(actor, text),
            seconds=ANSWER_WITHIN_SECONDS,
            defer=lambda: handlers.defer_command(actor, text, command.get("response_url", "")),
        )
        if reply is None:
            await ack(text="Working on it… the answer will appear here.", response_type="ephemeral")
            return
        if reply.form == SIMPLYBOOK_FORM:
            await ack()
            await client.views_open(trigger_id=command["trigger_id"], view=simplybook_form())
            return
        await ack(**reply_payload(reply))

    @app.action(re.compile(r"^meetbot_"))
    async def on_button(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        actor = await actor_for(
            client,
            team_id=body["team"]["id"],
            user_id=body["user"]["id"],
            channel_id=(body.get("channel") or {}).get("id", ""),
        )
        reply = await handlers.run_action(
            actor, action["action_id"], str(action.get("value") or "")
        )
        if not body.get("response_url"):  # pressed on the App Home: the answer is a DM
            text, blocks = render(reply.message)
            await client.chat_postMessage(channel=actor.user_id, text=text, blocks=blocks)
            return
        # An answer beside a channel message is seen only by whoever pressed the button.
        await respond(
            replace_original=reply.replace_original and not reply.secret, **reply_payload(reply)
        )

    @app.action(re.compile(r"^link_"))
    async def on_link(ack: AsyncAck) -> None:
        await ack()  # link buttons open their URL in the browser; Slack still reports the click

    @app.view(FORM_CALLBACK)
    async def on_form(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        state = view.get("state", {}).get("values", {})
        values = {
            name: str((state.get(name, {}).get("value") or {}).get("value") or "")
            for name in ("login", "api_key", "api_secret")
        }
        actor = await actor_for(client, team_id=body["team"]["id"], user_id=body["user"]["id"])
        try:
            errors, reply = await asyncio.wait_for(
                handlers.submit_simplybook(actor, values), timeout=ANSWER_WITHIN_SECONDS
            )
        except TimeoutError:
            errors, reply = (
                {"login": "SimplyBook.me is slow to answer. Please press Connect again."},
                None,
            )
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        if reply is not None:  # a DM: the callback URL is a secret, so never a channel
            text, blocks = render(reply.message)
            try:
                await client.chat_postMessage(channel=actor.user_id, text=text, blocks=blocks)
            except Exception as error:  # saved already; `/meetings status` shows admins the URL
                log.warning(
                    "could not send the SimplyBook.me connection message: %s", type(error).__name__
                )
