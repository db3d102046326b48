"""ChatMessage → Block Kit. Pure: no I/O, so it is tested on its own and reused by every sender.

All user-controlled text is escaped for mrkdwn, so `<!channel>` or `<https://x|y>` in a client's
name renders literally instead of pinging a channel or disguising a link.
"""

from __future__ import annotations

from typing import Any

import re2

from bot.messages import ChatMessage, Fact, Link, Mentioned, Segment, Text, When, shorten

_ESCAPED_MENTION = re2.compile(r"&lt;([@#][A-Z0-9]+)&gt;")
_USER_ID = re2.compile(r"^[UW][A-Z0-9]{1,30}$")
# Slack's date formatting: each reader sees the moment in their own zone (and language).
DATE_AND_TIME = "{date_short_pretty} {time}"
TIME_ONLY = "{time}"


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def mrkdwn_keeping_mentions(text: str) -> str:
    """Escapes text but keeps `<@U1>`/`<#C1>` mentions, which meetbot's own texts use.

    Only `text` and `note` go through this; user data belongs in facts."""
    escaped = escape(text)
    return _ESCAPED_MENTION.sub(r"<\1>", escaped)


def _rich_text(segments: tuple[Segment, ...]) -> dict[str, Any]:
    """A rich_text block: its text elements are literal (no mrkdwn, no mentions), links are
    real links, and dates are shown in each reader's own time zone."""
    elements: list[dict[str, Any]] = []
    for segment in segments:
        if isinstance(segment, Text):
            if segment.text:
                elements.append({"type": "text", "text": segment.text})
        elif isinstance(segment, Link):
            elements.append(
                {"type": "link", "url": segment.url, "text": segment.label or segment.url}
            )
        elif isinstance(segment, When):
            elements.append(
                {
                    "type": "date",
                    "timestamp": int(segment.at.timestamp()),
                    "format": TIME_ONLY if segment.time_only else "{date_long_pretty} {time}",
                    "fallback": segment.fallback,
                }
            )
    return {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": elements}]}


def _date_token(moment: When) -> str:
    """`<!date^…>` in mrkdwn: the reader's own zone, the fallback where it cannot be shown."""
    form = TIME_ONLY if moment.time_only else DATE_AND_TIME
    fallback = escape(moment.fallback).replace("|", "/")
    return f"<!date^{int(moment.at.timestamp())}^{form}|{fallback}>"


def _fact_value(fact: Fact) -> str:
    """Facts carry user data (client names): escaped fully, so nothing in them can mention anyone."""
    if not fact.shown:
        return escape(fact.value)
    parts = []
    for segment in fact.shown:
        if isinstance(segment, When):
            parts.append(_date_token(segment))
        elif isinstance(segment, Link):
            parts.append(escape(segment.url))
        else:
            parts.append(escape(segment.text))
    return "".join(parts)


def mentions_text(mentions: tuple[Mentioned, ...]) -> str:
    """`<@U…>` for each person: Slack notifies them. Only well-formed user ids become mentions."""
    return " ".join(f"<@{m.user_id}>" for m in mentions if _USER_ID.match(m.user_id))


def render(message: ChatMessage) -> tuple[str, list[dict[str, Any]]]:
    """Returns the notification fallback text and the blocks."""
    blocks: list[dict[str, Any]] = [{"type": "header", "text": _plain(shorten(message.title, 150))}]
    mentioned = mentions_text(message.mentions)
    if mentioned:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": mentioned}})
    if message.text:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": mrkdwn_keeping_mentions(message.text)[:3000]},
            }
        )
    if message.body:
        blocks.append(_rich_text(message.body))
    if message.facts:
        lines = [f"*{escape(fact.label)}:* {_fact_value(fact)}" for fact in message.facts]
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:3000]}}
        )
    if message.buttons or message.actions:
        elements = []
        for number, button in enumerate(message.buttons):
            element: dict[str, Any] = {
                "type": "button",
                "action_id": f"link_{number}",
                "text": _plain(shorten(button.label, 75)),
                "url": button.url,
            }
            if button.primary:
                element["style"] = "primary"
            elements.append(element)
        for action in message.actions:
            pressed: dict[str, Any] = {
                "type": "button",
                "action_id": action.action_id,
                "text": _plain(shorten(action.label, 75)),
                "value": action.value or action.action_id,
            }
            if action.style:
                pressed["style"] = action.style
            elements.append(pressed)
        blocks.append({"type": "actions", "elements": elements})
    if message.note:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": escape(message.note)}]}
        )
    summary = escape(message.summary or message.title)
    return (f"{mentioned} {summary}" if mentioned else summary), blocks
