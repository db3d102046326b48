"""A person's browser following meetbot's Connect button, and the chat confirmation after it.

The browser keeps cookies as a browser does. Microsoft answers with a page that posts a form to
meetbot from Microsoft's site, and a browser sends no SameSite=Lax cookie with another site's post:
so that post goes without cookies, and the page meetbot answers with posts again from meetbot's
own page, with them.
"""

from __future__ import annotations

import json
import re
import ssl
from typing import Any
from urllib.parse import urljoin

import httpx

from app.sandbox import SandboxWorld, wait_for

from .microsoft_platform import FormPost
from .slack_platform import SlackPlatform

ZOOM_START = re.compile(r"(http://\S+/oauth/zoom/start\?id=[\w-]+)")
MS_START = re.compile(r"(http://\S+/oauth/microsoft/start\?id=[\w-]+)")


def start_link(reply: str, pattern: re.Pattern[str]) -> str:
    found = pattern.search(reply)
    assert found, reply
    return found.group(1)


class Browser:
    def __init__(self, world: SandboxWorld) -> None:
        verify: ssl.SSLContext | bool = True
        if world.certificate is not None:
            verify = ssl.create_default_context(cafile=str(world.certificate.cert_path))
        self.client = httpx.Client(verify=verify, timeout=15, follow_redirects=True)

    def close(self) -> None:
        self.client.close()

    def open_start(self, start: str) -> httpx.Response:
        """Opens the start link and presses Continue on meetbot's page (where there is one)."""
        return continue_from(self.client, start, follow=True)

    def zoom(self, start: str) -> httpx.Response:
        """Opens the start link: meetbot → Zoom's sign-in → meetbot's callback page."""
        return self.open_start(start)

    def microsoft_answer(self, start: str) -> FormPost:
        """Opens the start link and signs in: the form Microsoft's page posts to meetbot."""
        page = self.open_start(start)
        assert page.status_code == 200, page.text
        return FormPost(page.text)

    def post_answer(self, answer: FormPost) -> httpx.Response:
        """Microsoft's page posts the answer (no cookie: another site's post); meetbot's relay page
        posts it again, as meetbot's own page, with this browser's cookies."""
        first = httpx.post(answer.action, data=answer.fields, timeout=15)
        relay = FormPost(first.text) if "<form" in first.text else None
        if relay is None:
            return first
        return self.client.post(urljoin(answer.action, relay.action), data=relay.fields)

    def microsoft(self, start: str) -> httpx.Response:
        return self.post_answer(self.microsoft_answer(start))


def continue_from(client: httpx.Client, start: str, *, follow: bool = False) -> httpx.Response:
    """GETs the start link and presses Continue on the page it shows, as a person would."""
    shown = client.get(start)
    if "<form" not in shown.text:  # the link has expired, or is refused: that page
        return shown
    form = FormPost(shown.text)
    return client.post(urljoin(start, form.action), data=form.fields, follow_redirects=follow)


def confirmation(world: SandboxWorld, user: str) -> dict[str, Any]:
    """The newest chat message to `user` that asks to confirm an account."""
    assert wait_for(lambda: _asks(world, user)), world.slack.dm_messages(user)
    return _asks(world, user)[-1]


def _asks(world: SandboxWorld, user: str) -> list[dict[str, Any]]:
    return [m for m in world.slack.dm_messages(user) if "Confirm the" in json.dumps(m)]


def press(
    world: SandboxWorld,
    slack: SlackPlatform,
    message: dict[str, Any],
    label: str,
    *,
    user: str,
    team: str | None = None,
) -> str:
    """Presses a button of `message` as `user`; returns meetbot's answer as text."""
    [button] = [
        element
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["text"]["text"] == label
    ]
    before = len(world.slack.response_posts())
    answer = slack.press(button["action_id"], user=user, team=team, value=button.get("value"))
    assert answer.status_code == 200
    assert wait_for(lambda: len(world.slack.response_posts()) > before)
    return json.dumps(world.slack.response_posts()[-1]["payload"])
