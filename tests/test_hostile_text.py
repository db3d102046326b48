"""Text anyone may send is handled in linear time: the command grammar and every pattern that reads
a message (mentions, typed links, template variables, card text) run on RE2, and a command longer
than any real one is answered "too long" without being read, through both chat front-ends."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from adapters.slack.app import command_text as slack_command_text
from adapters.slack.render import render
from adapters.teams.bot import Mentioned
from adapters.teams.bot import command_text as teams_command_text
from adapters.teams.cards import render_card, unescape
from app.bootstrap import Core
from app.sandbox import SandboxWorld, seed_demo
from app.web import build_web_app
from bot import templates
from bot.commands import MAX_COMMAND_CHARS, TooLong, channel_mention, parse, user_mention
from bot.messages import ChatMessage
from simulators.server import BackgroundServer

from .conftest import free_port
from .slack_platform import SIGNING_SECRET
from .teams_platform import Meetbot, Tenant
from .test_both_front_ends import FrontEnd, _slack, _teams

LIMIT_SECONDS = 0.05
HUGE = 100_000


def _runs(size: int) -> dict[str, str]:
    """The shapes that made backtracking patterns take quadratic time, at `size` characters."""
    return {
        "dots": "." * size,
        "ats": "@" * size,
        "address with a dotted tail": ("a@" + "." * size)[: size - 1] + "@",
        "dotted domain": ("a@b" + ".a" * size)[: size - 1] + "@",
        "slack mentions": ("<@a|" * size)[:size],
        "slack channels": ("<#a|" * size)[:size],
        "teams mentions": ("<at" * size)[:size],
        "typed links": ("<http://a|" * size)[:size],
        "template variables": ("[" * size)[:size],
        "escaped markdown links": ("[\\" * size)[:size],
    }


def fastest(step: Callable[[], object], repeats: int = 3) -> float:
    """The best of a few runs: a busy machine can pause any single one."""
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        step()
        timings.append(time.perf_counter() - started)
    return min(timings)


def _steps(text: str) -> dict[str, Callable[[], object]]:
    return {
        "parse": lambda: parse(text),
        "parse as a Zoom e-mail": lambda: parse(f"provider Olena zoom {text}"),
        "user mention": lambda: user_mention(text),
        "channel mention": lambda: channel_mention(text),
        "slack command text": lambda: slack_command_text(text),
        "teams command text": lambda: teams_command_text(
            text,
            [Mentioned(text="<at>meetbot</at>", id="28:bot", name="meetbot")],
            bot_id="28:bot",
            people={},
        ),
        "template check": lambda: templates.problems(text),
    }


@pytest.mark.parametrize("size", [HUGE, MAX_COMMAND_CHARS])
@pytest.mark.parametrize("shape", list(_runs(10)))
def test_hostile_text_is_read_in_linear_time(shape: str, size: int) -> None:
    text = _runs(size)[shape]
    slow = {name: fastest(step) for name, step in _steps(text).items()}
    assert max(slow.values()) < LIMIT_SECONDS, slow


@pytest.mark.parametrize("shape", list(_runs(10)))
def test_replies_and_cards_echoing_hostile_text_render_in_linear_time(shape: str) -> None:
    """A reply may quote what was typed (an unknown command, a word that is no date)."""
    text = _runs(MAX_COMMAND_CHARS)[shape]
    message = ChatMessage(title=text, text=text, summary=text)
    slow = {
        "slack": fastest(lambda: render(message)),
        "teams": fastest(lambda: render_card(message)),
        "teams card text": fastest(lambda: unescape(text)),
    }
    assert max(slow.values()) < LIMIT_SECONDS, slow


def test_a_command_longer_than_the_cap_is_not_parsed() -> None:
    assert parse("status" + " " * MAX_COMMAND_CHARS) == TooLong(MAX_COMMAND_CHARS + 6)
    assert parse("provider Olena zoom olena@studio.com").__class__.__name__ == "ProviderZoom"


@pytest.fixture(params=["slack", "teams"])
def front_end(
    request: pytest.FixtureRequest,
    make_core: Callable[..., Core],
    world: SandboxWorld,
    teams: Tenant,
) -> Iterator[FrontEnd]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings: dict[str, Any] = {
        "public_url": url,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_client_id": world.slack.client_id,
        "slack_client_secret": world.slack.client_secret,
        **teams.settings(),
    }
    core = make_core(**settings)
    demo = seed_demo(core, world)
    with BackgroundServer(build_web_app(core), port=port, name="meetbot"):
        if request.param == "slack":
            yield _slack(core, demo, world, url)
        else:
            yield _teams(core, demo, teams, Meetbot(core, url))


def test_a_100_kb_command_is_answered_too_long(front_end: FrontEnd) -> None:
    command = "template provider : " + "hello [client] " * (HUGE // 15)
    assert len(command) > HUGE
    answer = front_end.say(command, False)  # no role needed to be told
    assert "That command is too long" in answer, answer
    assert f"at most {MAX_COMMAND_CHARS:,} characters" in answer
    assert f"this one has {len(command):,}" in answer
    assert front_end.say("status", True).startswith("meetbot status")
