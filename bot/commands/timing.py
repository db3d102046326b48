"""Answer within the chat platform's wait, or hand the command to a job.

Slack and Teams each wait a few seconds for a command's HTTP answer. A command that is not done by
then is stopped at its next wait (its writes are atomic, and every command repeats safely) and
`defer` queues it as a durable job that answers later; the front-end then says "working on it".
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bot.commands.reply import Reply


async def answer_in_time(
    run: Callable[[], Awaitable[Reply]],
    *,
    seconds: float,
    defer: Callable[[], None] | None,
) -> Reply | None:
    """The command's reply if it comes within `seconds`; None when it was deferred instead.

    Without `defer` nothing could answer later, so the reply is awaited however long it takes.
    """
    work = asyncio.ensure_future(run())
    if defer is None:
        return await work
    done, _ = await asyncio.wait({work}, timeout=seconds)
    if not done:
        work.cancel()
        defer()
        return None
    return work.result()
