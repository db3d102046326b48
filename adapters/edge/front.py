"""What both chat front-ends (Slack, Teams) are given: the core's use cases, bound by the
composition root. Each front-end adds what only it needs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.commands import Reply
from bot.domain import Actor


@dataclass(frozen=True)
class ChatHandlers:
    run_command: Callable[[Actor, str], Awaitable[Reply]]
    run_action: Callable[[Actor, str, str], Awaitable[Reply]]
    # The SimplyBook.me form, submitted: its fields as they stand and the reply, if any.
    submit_simplybook: Callable[
        [Actor, dict[str, str]], Awaitable[tuple[dict[str, str], Reply | None]]
    ]
