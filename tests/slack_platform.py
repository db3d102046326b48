"""Plays Slack's side: signed slash commands, button clicks and form submissions sent to meetbot
over real HTTP, exactly as Slack sends them (form-encoded, `X-Slack-Signature`)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from app.sandbox import SandboxWorld

SIGNING_SECRET = "slack-signing-secret-for-tests"


@dataclass
class SlackPlatform:
    world: SandboxWorld
    meetbot_url: str
    team_id: str = "T0001"
    channel_id: str = "CGENERAL"
    secret: str = SIGNING_SECRET

    def signed(self, body: str, *, timestamp: int | None = None) -> dict[str, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = SignatureVerifier(self.secret).generate_signature(timestamp=stamp, body=body)
        return {
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        }

    def post(self, body: str, headers: dict[str, str]) -> httpx.Response:
        return httpx.post(
            f"{self.meetbot_url}/slack/events", content=body, headers=headers, timeout=10
        )

    def command_body(
        self, text: str, *, user: str, team: str | None = None, channel: str | None = None
    ) -> str:
        return urlencode(
            {
                "token": "legacy-verification-token",
                "team_id": team or self.team_id,
                "team_domain": "demo",
                "channel_id": channel or self.channel_id,
                "channel_name": "general",
                "user_id": user,
                "user_name": user.lower(),
                "command": "/meetings",
                "text": text,
                "api_app_id": "A0MEETBOT",
                "response_url": self.world.slack.new_response_url(self.world.url("slack")),
                "trigger_id": f"trigger-{time.monotonic_ns()}",
            }
        )

    def command(
        self, text: str, *, user: str, team: str | None = None, channel: str | None = None
    ) -> httpx.Response:
        body = self.command_body(text, user=user, team=team, channel=channel)
        started = time.monotonic()
        answer = self.post(body, self.signed(body))
        answer.extensions["elapsed_seconds"] = time.monotonic() - started
        return answer

    def interaction(self, payload: dict[str, Any]) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload)})
        return self.post(body, self.signed(body))

    def press(
        self, action_id: str, *, user: str, team: str | None = None, value: str | None = None
    ) -> httpx.Response:
        return self.interaction(
            {
                "type": "block_actions",
                "team": {"id": team or self.team_id},
                "user": {"id": user},
                "api_app_id": "A0MEETBOT",
                "channel": {"id": self.channel_id},
                "trigger_id": "t",
                "response_url": self.world.slack.new_response_url(self.world.url("slack")),
                "actions": [
                    {
                        "action_id": action_id,
                        "block_id": "b",
                        "type": "button",
                        "value": action_id if value is None else value,
                        "action_ts": str(time.time()),
                    }
                ],
                "container": {"type": "message"},
            }
        )

    def submit_form(
        self, values: dict[str, str], *, user: str, team: str | None = None
    ) -> httpx.Response:
        state = {
            name: {"value": {"type": "plain_text_input", "value": value}}
            for name, value in values.items()
        }
        return self.interaction(
            {
                "type": "view_submission",
                "team": {"id": team or self.team_id},
                "user": {"id": user},
                "api_app_id": "A0MEETBOT",
                "trigger_id": "t",
                "view": {
                    "id": "V1",
                    "type": "modal",
                    "callback_id": "meetbot_simplybook",
                    "state": {"values": state},
                    "private_metadata": "",
                },
            }
        )


def reply_text(answer: httpx.Response) -> str:
    """The visible text of an ephemeral reply: header, sections and context, as one string."""
    body = answer.json() if answer.content else {}
    parts = [body.get("text", "")]
    for block in body.get("blocks") or []:
        text = block.get("text")
        if isinstance(text, dict):
            parts.append(text.get("text", ""))
        for element in block.get("elements") or []:
            parts.append(
                element.get("text", "")
                if isinstance(element.get("text"), str)
                else (element.get("text") or {}).get("text", "")
            )
            if element.get("url"):
                parts.append(element["url"])
    return "\n".join(parts)
