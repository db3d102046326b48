"""ChatMessage → Block Kit. Pure: no I/O, so it is tested on its own and reused by every sender.

All user-controlled text is escaped for mrkdwn, so `<!channel>` or `<https://x|y>` in a client's
name renders literally instead of pinging a channel or disguising a link.
"""

from __future__ import annotations

from typing import Any

from bot.messages import ChatMessage


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:limit], "emoji": True}


def render(message: ChatMessage) -> tuple[str, list[dict[str, Any]]]:
    """Returns the notification fallback text and the blocks."""
    blocks: list[dict[str, Any]] = [{"type": "header", "text": _plain(message.title, 150)}]
    if message.facts:
        lines = [f"*{escape(fact.label)}:* {escape(fact.value)}" for fact in message.facts]
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:3000]}}
        )
    if message.buttons:
        elements = []
        for number, button in enumerate(message.buttons):
            element: dict[str, Any] = {
                "type": "button",
                "action_id": f"link_{number}",
                "text": _plain(button.label, 75),
                "url": button.url,
            }
            if button.primary:
                element["style"] = "primary"
            elements.append(element)
        blocks.append({"type": "actions", "elements": elements})
    if message.note:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": escape(message.note)}]}
        )
    return escape(message.summary or message.title), blocks
