"""Slack's App Home: the `app_home_opened` event in, the core's HomeView out as a Block Kit Home
view through `views.publish`.

The view keeps within Slack's limits whatever the data (at most 100 blocks, header text 150
characters, section text 3000, button text 75, button value 2000, URL 3000; block ids unique in
the view and action ids unique in their block), because Slack refuses a view that breaks any of
them (`invalid_blocks`) and the person would keep seeing the old one. Times are Slack date tokens,
shown in each reader's own time zone, with the company's time as the fallback.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.render import escape, mrkdwn_keeping_mentions
from adapters.slack.sender import SlackSender
from bot.domain import Actor
from bot.home import HomeMeeting, HomeProblem, HomeView
from bot.messages import ActionButton, shorten

log = logging.getLogger("meetbot.slack")

MAX_BLOCKS = 100
HEADER_CHARS, SECTION_CHARS, CONTEXT_CHARS = 150, 3000, 2000
BUTTON_CHARS, VALUE_CHARS, URL_CHARS = 75, 2000, 3000
TITLE_CHARS = 300  # a service's name is the booking system's: long ones must not push the time out
HOST_LINK_ACTION = "link_host"  # a URL button: Slack still reports the click (acknowledged only)


def render_home(view: HomeView) -> dict[str, Any]:
    """The Home view (`type: home`) for views.publish."""
    # Names in these texts are the booking system's: escaped, so none can mention or link.
    blocks = [_header(view.title), _section(escape(view.intro))]
    if view.meetings or view.meetings_note:
        blocks += [{"type": "divider"}, _header("Your upcoming meetings")]
        for number, meeting in enumerate(view.meetings):
            blocks += _meeting(number, meeting)
        if view.meetings_note:
            blocks.append(_context(escape(view.meetings_note)))
    if view.admin:
        blocks += _admin(view)
    if view.note:
        blocks.append(_context(escape(view.note)))
    return {"type": "home", "blocks": blocks[:MAX_BLOCKS]}


def _admin(view: HomeView) -> list[dict[str, Any]]:
    lines = "\n".join(f"*{escape(fact.label)}:* {escape(fact.value)}" for fact in view.setup)
    blocks = [{"type": "divider"}, _header("Set-up"), _section(lines or "Nothing set up yet.")]
    if view.todo:
        todo = "\n".join(f"• {mrkdwn_keeping_mentions(step)}" for step in view.todo)
        blocks.append(_section(f"*Still to do:*\n{todo}"))
    blocks.append(_header("Open problems"))
    for number, problem in enumerate(view.problems):
        blocks += _problem(number, problem)
    if view.problems_note:
        blocks.append(_context(escape(view.problems_note)))
    return blocks


def _meeting(number: int, meeting: HomeMeeting) -> list[dict[str, Any]]:
    minutes = round((meeting.end - meeting.start).total_seconds() / 60)
    when = f"{_date(meeting.start, '{date_short_pretty} {time}', meeting.when)} · {minutes} min"
    text = f"*{escape(shorten(meeting.title, TITLE_CHARS))}*\n{when}"
    if meeting.state:
        text += f"\n_{escape(meeting.state)}_"
    buttons = [
        {
            "type": "button",
            "action_id": HOST_LINK_ACTION,
            "text": _text("plain_text", "Host link", BUTTON_CHARS),
            "url": meeting.host_link[:URL_CHARS],
        }
    ]
    if meeting.start_button is not None:
        buttons.append(_button(meeting.start_button))
    return [
        _section(text, block_id=f"meeting_{number}"),
        {"type": "actions", "block_id": f"meeting_{number}_buttons", "elements": buttons},
    ]


def _problem(number: int, problem: HomeProblem) -> list[dict[str, Any]]:
    text = (
        f"*{escape(shorten(problem.title, TITLE_CHARS))}*\n{mrkdwn_keeping_mentions(problem.text)}\n"
        f"_Since {escape(problem.since)}_"
    )
    blocks = [_section(text, block_id=f"problem_{number}")]
    if problem.fix is not None:
        blocks.append(
            {
                "type": "actions",
                "block_id": f"problem_{number}_fix",
                "elements": [_button(problem.fix)],
            }
        )
    return blocks


def _date(at: datetime, pattern: str, fallback: str) -> str:
    """A Slack date token: each reader sees their own zone; `fallback` where that cannot be."""
    safe = escape(fallback).replace("|", "/")
    return f"<!date^{int(at.timestamp())}^{pattern}|{safe}>"


def _button(action: ActionButton) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action.action_id,
        "text": _text("plain_text", action.label, BUTTON_CHARS),
        "value": (action.value or action.action_id)[:VALUE_CHARS],
    }
    if action.style:
        button["style"] = action.style
    return button


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": _text("plain_text", text, HEADER_CHARS)}


def _section(mrkdwn: str, *, block_id: str = "") -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": _text("mrkdwn", mrkdwn, SECTION_CHARS)}
    if block_id:
        block["block_id"] = block_id
    return block


def _context(mrkdwn: str) -> dict[str, Any]:
    return {"type": "context", "elements": [_text("mrkdwn", mrkdwn, CONTEXT_CHARS)]}


def _text(kind: str, text: str, limit: int) -> dict[str, Any]:
    """A text object within Slack's `limit`, cut at a word with "…" (Slack refuses an empty one)."""
    block: dict[str, Any] = {"type": kind, "text": shorten(text, limit) or " "}
    if kind == "plain_text":
        block["emoji"] = True
    return block


class SlackHomePublisher:
    """Implements the core's HomePublisher for Slack, through the sender's workspace clients."""

    def __init__(self, sender: SlackSender) -> None:
        self._sender = sender

    async def publish_home(self, *, workspace_id: str, user_id: str, view: HomeView) -> None:
        await self._sender.publish_view(
            workspace_id=workspace_id, user_id=user_id, view=render_home(view)
        )

    async def is_workspace_admin(self, *, workspace_id: str, user_id: str) -> bool:
        return await self._sender.is_workspace_admin(workspace_id=workspace_id, user_id=user_id)


HomeOpened = Callable[[Actor], Awaitable[object]]
ActorFor = Callable[..., Awaitable[Actor]]


def listen_for_home(app: AsyncApp, opened: HomeOpened | None, actor_for: ActorFor) -> None:
    """`app_home_opened`: the Home tab (not the Messages tab) was opened by a workspace member."""

    @app.event("app_home_opened")
    async def on_home_opened(
        body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if opened is None or event.get("tab", "home") != "home":
            return
        viewer = await actor_for(
            client, team_id=str(body.get("team_id") or ""), user_id=str(event.get("user") or "")
        )
        try:
            await opened(viewer)
        except Exception as error:  # Slack keeps showing the last view; the next open tries again
            log.warning("the Home view could not be published: %s", type(error).__name__)
