"""A signed Slack request seen before is acknowledged and not run again, whichever meetbot process
it reaches: the signatures taken are kept in the database for as long as they could be replayed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx

from app.bootstrap import Core
from app.sandbox import SandboxWorld, seed_demo, wait_for
from app.web import build_web_app
from bot.domain import Actor, ChatPlatform
from simulators.server import BackgroundServer
from storage.replays import SqlSeenRequests
from storage.tables import SeenRequestRow

from .conftest import SteppingClock, count_rows
from .slack_platform import SlackPlatform, reply_text

ADMIN = "UADMIN01"


def test_a_replayed_report_command_sends_the_csv_once(
    slack_app: tuple[Core, SlackPlatform], world: SandboxWorld, make_core: Callable[..., Core]
) -> None:
    core, slack = slack_app
    demo = seed_demo(core, world)
    slack.team_id = demo.team_id
    world.slack.add_user(demo.team_id, id=ADMIN, name="owner", is_admin=True)
    actor = Actor(ChatPlatform.SLACK, demo.team_id, ADMIN)
    core.staff.set_role(company_id=demo.company_id, actor=actor, user_id=ADMIN, role="admin")

    body = slack.command_body("report", user=ADMIN)
    headers = slack.signed(body)
    first = slack.post(body, headers)
    assert first.status_code == 200 and "Report sent" in reply_text(first), first.text
    assert wait_for(lambda: len(world.slack.dm_files(ADMIN)) == 1)

    other = make_core(public_url=slack.meetbot_url, **_slack_settings(core))
    with BackgroundServer(build_web_app(other), name="meetbot-2") as second_process:
        for target in (slack.meetbot_url, second_process.url, slack.meetbot_url):
            replay = httpx.post(f"{target}/slack/events", content=body, headers=headers)
            assert replay.status_code == 200 and replay.content == b"", replay.text

    later = slack.command("status", user=ADMIN)  # answered after every replay was taken
    assert "meetbot status" in reply_text(later)
    assert len(world.slack.dm_files(ADMIN)) == 1, "the report was sent once"


def _slack_settings(core: Core) -> dict[str, object]:
    settings = core.settings
    return {
        "slack_signing_secret": settings.slack_signing_secret,
        "slack_client_id": settings.slack_client_id,
        "slack_client_secret": settings.slack_client_secret,
    }


def test_seen_signatures_expire_and_are_cleared(core: Core, clock: SteppingClock) -> None:
    seen = SqlSeenRequests(core.engine, clock)
    assert seen.first_time(source="slack", signature="v0=aa", remember_seconds=600)
    assert not seen.first_time(source="slack", signature="v0=aa", remember_seconds=600)
    assert seen.first_time(source="other", signature="v0=aa", remember_seconds=600)

    clock.offset += timedelta(minutes=11)
    assert seen.first_time(source="slack", signature="v0=bb", remember_seconds=600)
    assert count_rows(core, SeenRequestRow) == 1, "the expired ones were deleted"
    assert seen.first_time(source="slack", signature="v0=aa", remember_seconds=600)
