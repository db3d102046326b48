"""The verbs a behaviour test speaks: SimplyBook.me calls meetbot back (`deliver`), someone types
`/meetings …` in Slack (`say`), the worker runs what is queued (`run_jobs`), and a person becomes
a company's admin (`make_admin`). `SlackCompany` bundles them for the demo company served over
real HTTP, so a new test reads as a few lines of story.
"""

from __future__ import annotations

import asyncio
import socket
from collections import deque
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.bootstrap import Core, build_integrations
from app.sandbox import Demo, SandboxWorld, book, message_as_text
from app.worker import build_worker
from bot.domain import Actor, ChatPlatform

from .slack_platform import SlackPlatform, reply_text

ADMIN = "UADMIN01"

# For a test whose subject involves no SQL difference (HTTP limits, a browser, chat signatures):
# this direct parametrisation overrides conftest's sqlite/postgresql params of `database_url`.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


class SimplyBookCompany(Protocol):
    """Whom a callback is about: the company's SimplyBook.me login and meetbot's callback token."""

    @property
    def login(self) -> str: ...

    @property
    def webhook_token(self) -> str: ...


@dataclass(frozen=True)
class CallbackAddress:
    """A company known only by its login and callback token (set up through chat, not seeded)."""

    login: str
    webhook_token: str


def deliver(
    meetbot_url: str,
    world: SandboxWorld,
    company: SimplyBookCompany,
    booking_id: str,
    kind: str = "create",
) -> None:
    """SimplyBook.me tells meetbot that a booking changed; meetbot accepts the callback (202)."""
    answer = httpx.post(
        f"{meetbot_url}/webhooks/simplybook/{company.webhook_token}",
        json=world.simplybook.callback(company.login, booking_id, kind),
        timeout=10,
    )
    assert answer.status_code == 202, answer.text


def say(
    slack: SlackPlatform,
    text: str,
    user: str = ADMIN,
    *,
    answered_within: float | None = None,
    **options: Any,
) -> str:
    """`/meetings <text>` typed in Slack by `user`; the text of meetbot's answer (checked to come
    within `answered_within` seconds when given: Slack gives up on a command after 3)."""
    answer = slack.command(text, user=user, **options)
    assert answer.status_code == 200, answer.text
    if answered_within is not None:
        assert answer.extensions["elapsed_seconds"] < answered_within
    return reply_text(answer)


def make_admin(
    core: Core, world: SandboxWorld, demo: Demo, user: str = ADMIN, *, name: str = "owner"
) -> Actor:
    """A Slack workspace admin of the demo company, given meetbot's admin role; acts as them."""
    world.slack.add_user(demo.team_id, id=user, name=name, is_admin=True)
    actor = Actor(ChatPlatform.SLACK, demo.team_id, user)
    core.staff.set_role(company_id=demo.company_id, actor=actor, user_id=user, role="admin")
    return actor


def run_jobs(core: Core, *, timeout: float = 15.0) -> None:
    """Runs the worker until no job is pending or running (retries included), like `meetbot worker`."""

    async def main() -> None:
        integrations = build_integrations(core)
        worker = build_worker(core, integrations, role="test-worker")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while loop.time() < deadline:
                await worker.drain()
                if not busy(core):
                    return
                await asyncio.sleep(0.01)
        finally:
            await integrations.aclose()

    asyncio.run(main())


def busy(core: Core, *, due_within_seconds: float = 5.0) -> bool:
    """A job runs, or one is due soon (a retry's backoff); a routine's next hour does not count."""
    soon = core.clock.now() + timedelta(seconds=due_within_seconds)
    return any(
        job.state == "running" or (job.state == "pending" and job.run_at <= soon)
        for job in core.queue.jobs()
    )


def count_rows(core: Core, model: Any) -> int:
    """How many rows one table holds."""
    with Session(core.engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


# Ports handed out by free_port stay bound (not listening) for a while: the kernel then gives
# them to no other socket, so a parallel worker cannot take one before its server binds it.
_held_ports: deque[socket.socket] = deque(maxlen=64)


def free_port() -> int:
    """A loopback port for a server the caller starts next (it must bind with SO_REUSEADDR, as
    BackgroundServer and uvicorn do)."""
    probe = socket.socket()
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    probe.bind(("127.0.0.1", 0))
    if len(_held_ports) == _held_ports.maxlen:
        _held_ports[0].close()
    _held_ports.append(probe)
    return int(probe.getsockname()[1])


def release_held_ports() -> None:
    """Closes what free_port still holds (at the end of the session)."""
    while _held_ports:
        _held_ports.popleft().close()


@dataclass
class SlackCompany:
    """The demo company on Slack, with an admin (`ADMIN`), meetbot serving over real HTTP."""

    core: Core
    slack: SlackPlatform
    demo: Demo
    world: SandboxWorld
    admin: Actor

    def deliver(self, booking: dict[str, Any], kind: str = "create") -> None:
        deliver(self.slack.meetbot_url, self.world, self.demo, booking["id"], kind)

    def say(self, text: str, user: str = ADMIN) -> str:
        return say(self.slack, text, user=user)

    def run_jobs(self, *, timeout: float = 15.0) -> None:
        run_jobs(self.core, timeout=timeout)

    def book_and_sync(self, **extra: Any) -> dict[str, Any]:
        """A new booking three days ahead, delivered and synced."""
        booking = book(self.world, self.demo, starts_in=timedelta(days=3), **extra)
        self.deliver(booking)
        self.run_jobs()
        return booking

    def dms(self, user: str = ADMIN) -> list[str]:
        """The texts of meetbot's direct messages to `user`."""
        return [message_as_text(m) for m in self.world.slack.dm_messages(user)]
