"""Slack `app_uninstalled` and `tokens_revoked` (issue 12): the workspace's tokens are deleted, the
company's bookings are held (not lost), its admins are told where they can still be reached (Teams)
or find the alert when meetbot is back; installing again posts the held bookings. Signed events
from the Slack simulator, over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.bootstrap import Core
from app.sandbox import Demo, SandboxWorld, book, message_as_text, seed_demo, wait_for
from app.web import build_web_app
from bot.domain import Actor, ChatPlatform
from bot.usecases.uninstall import HELD
from simulators.server import BackgroundServer
from simulators.teams import DEFAULT_TENANT_ID
from storage.tables import BookingRow, ChatWorkspaceRow

from .conftest import free_port, run_jobs
from .harness import deliver
from .slack_platform import SIGNING_SECRET
from .teams_platform import OLENA_AAD, Meetbot, Tenant, ask, text_of

ADMIN = "UADMIN01"
EVENTS = ("app_uninstalled", "tokens_revoked")
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Shop:
    core: Core
    world: SandboxWorld
    demo: Demo
    url: str

    def booked(self, client: str, days: int) -> dict[str, Any]:
        booking = book(self.world, self.demo, client_name=client, starts_in=timedelta(days=days))
        deliver(self.url, self.world, self.demo, booking["id"])
        run_jobs(self.core)
        return booking

    def remove(self, event: str) -> httpx.Response:
        remove = (
            self.world.slack.uninstall_app
            if event == "app_uninstalled"
            else self.world.slack.revoke_bot_token
        )
        return remove(
            self.demo.team_id, events_url=f"{self.url}/slack/events", signing_secret=SIGNING_SECRET
        )

    def posted(self) -> str:
        return " ".join(message_as_text(m) for m in self.world.slack.messages(self.demo.channel_id))

    def problems(self) -> dict[str, str | None]:
        with Session(self.core.engine) as session:
            rows = session.scalars(
                select(BookingRow).where(BookingRow.company_id == self.demo.company_id)
            )
            return {row.code: row.problem for row in rows}

    def stored_token(self) -> str | None:
        with Session(self.core.engine) as session:
            row = session.scalars(
                select(ChatWorkspaceRow).where(ChatWorkspaceRow.external_id == self.demo.team_id)
            ).one()
            return row.bot_token_enc

    def reinstall(self) -> None:
        """An admin opens the install link again and approves (bolt's state cookie included)."""
        self.world.slack.authorizing_team = self.demo.team_id
        self.world.slack.authorizing_user = ADMIN
        with httpx.Client(follow_redirects=False, timeout=15) as browser:
            page = browser.get(f"{self.url}/slack/install")
            authorize = re.search(r'href="([^"]+/oauth/v2/authorize[^"]+)"', page.text)
            assert authorize, page.text
            cookie = page.headers["set-cookie"].split(";", 1)[0]
            approved = browser.get(authorize.group(1).replace("&amp;", "&"))
            finished = browser.get(approved.headers["location"], headers={"Cookie": cookie})
            assert finished.status_code == 200, finished.text


def _start(make_core: Callable[..., Core], world: SandboxWorld, **settings: Any) -> Iterator[Shop]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    core = make_core(
        public_url=url,
        slack_signing_secret=SIGNING_SECRET,
        slack_client_id=world.slack.client_id,
        slack_client_secret=world.slack.client_secret,
        **settings,
    )
    demo = seed_demo(core, world)
    world.slack.add_user(demo.team_id, id=ADMIN, name="owner", is_admin=True)
    admin = Actor(ChatPlatform.SLACK, demo.team_id, ADMIN)
    core.staff.set_role(company_id=demo.company_id, actor=admin, user_id=ADMIN, role="admin")
    core.records.set_digest(company_id=demo.company_id, enabled=False)
    with BackgroundServer(build_web_app(core), port=port, name="meetbot"):
        yield Shop(core, world, demo, url)


@pytest.fixture
def shop(make_core: Callable[..., Core], world: SandboxWorld) -> Iterator[Shop]:
    yield from _start(make_core, world)


def test_the_manifest_subscribes_to_both_events() -> None:
    manifest = yaml.safe_load((ROOT / "app_manifest.yml").read_text())
    subscriptions = manifest["settings"]["event_subscriptions"]
    assert subscriptions["request_url"].endswith("/slack/events")
    assert set(EVENTS) <= set(subscriptions["bot_events"])


@pytest.mark.parametrize("event", EVENTS)
def test_removal_deletes_tokens_holds_bookings_and_reinstalling_posts_them(
    shop: Shop, event: str
) -> None:
    world, core = shop.world, shop.core
    first = shop.booked("Iryna", days=2)
    assert first["code"] in shop.posted()
    assert shop.stored_token() is not None

    answer = shop.remove(event)
    assert answer.status_code == 200, answer.text
    # bolt answers an event at once and runs its listener right after.
    assert wait_for(lambda: shop.problems()[first["code"]] == HELD), "the booking is held"
    assert shop.stored_token() is None, "the workspace's token is deleted"
    assert core.slack_token(shop.demo.team_id) is None

    later = shop.booked("Petro", days=3)  # arrives while meetbot is not in Slack
    jobs = core.queue.jobs(kind="sync_booking")
    assert jobs and all(job.state == "done" for job in jobs), "held, not failed"
    assert world.zoom.created_count() == 2, "the meeting is still created"
    assert later["code"] not in shop.posted()
    assert "the booking is posted when meetbot is back" in (shop.problems()[later["code"]] or "")
    [alert] = [
        a
        for a in core.alerts.open_alerts(company_id=shop.demo.company_id)
        if a.spec.title == "meetbot was removed from Slack"
    ]
    assert "No booking is lost" in alert.spec.detail and "/slack/install" in alert.spec.fix
    assert "removed meetbot from the Slack workspace" in [
        entry.action for entry in core.records.latest(company_id=shop.demo.company_id)
    ]

    shop.reinstall()
    assert shop.stored_token() is not None
    run_jobs(core)
    assert later["code"] in shop.posted(), "the held booking is posted"
    assert set(shop.problems().values()) == {None}
    assert world.zoom.created_count() == 2, "no second meeting"
    told = [message_as_text(m) for m in world.slack.dm_messages(ADMIN)]
    resolved = [t for t in told if t.startswith("Resolved: meetbot was removed from Slack")]
    assert resolved and "being posted now" in resolved[0]
    assert core.alerts.open_alerts(company_id=shop.demo.company_id) == []


def test_a_forged_or_unexpected_event_is_refused(shop: Shop) -> None:
    world = shop.world
    events_url = f"{shop.url}/slack/events"
    forged = world.slack.send_event(
        shop.demo.team_id, {"type": "app_uninstalled"}, events_url=events_url, signing_secret="x"
    )
    other = world.slack.send_event(
        shop.demo.team_id,
        {"type": "message", "text": "hi"},
        events_url=events_url,
        signing_secret=SIGNING_SECRET,
    )
    assert forged.status_code == 401 and other.status_code == 400
    assert shop.stored_token() is not None


@pytest.fixture
def office(
    make_core: Callable[..., Core], world: SandboxWorld, teams: Tenant
) -> Iterator[tuple[Shop, Tenant]]:
    for shop in _start(make_core, world, **teams.settings()):
        # The same company on Teams too, with Olena as its admin there.
        shop.core.workspaces.bind(
            company_id=shop.demo.company_id,
            platform="teams",
            external_id=DEFAULT_TENANT_ID,
            name="Teams",
        )
        shop.core.staff.set_role(
            company_id=shop.demo.company_id,
            actor=Actor(ChatPlatform.TEAMS, DEFAULT_TENANT_ID, OLENA_AAD),
            user_id=OLENA_AAD,
            role="admin",
        )
        yield shop, teams


def test_admins_on_teams_are_told_there(office: tuple[Shop, Tenant]) -> None:
    shop, teams = office
    assert ask(teams, Meetbot(shop.core, shop.url), teams.olena, "help"), "Olena talks to meetbot"
    shop.booked("Iryna", days=2)
    assert shop.remove("app_uninstalled").status_code == 200
    assert wait_for(lambda: shop.stored_token() is None)
    chat = teams.sim.personal_conversation(teams.olena)

    def told_on_teams() -> bool:
        # The token goes first and the admins' notice is queued after it: run the jobs until the
        # notice has been queued and sent, not just once.
        run_jobs(shop.core)
        activities = teams.sim.activities(chat)
        return any("meetbot was removed from Slack" in text_of(p) for p in activities)

    assert wait_for(told_on_teams)
    [told] = [text_of(p) for p in teams.sim.activities(chat) if "removed from Slack" in text_of(p)]
    assert "No booking is lost" in told and "/slack/install" in told
