"""Requests that do not prove they come from Slack get 401/400, never a 5xx, and change nothing."""

from __future__ import annotations

import time

import pytest

from app.bootstrap import Core
from app.sandbox import Demo, SandboxWorld, seed_demo

from .slack_platform import SlackPlatform

ADMIN = "UADMIN01"


@pytest.fixture
def ready(
    slack_app: tuple[Core, SlackPlatform], world: SandboxWorld
) -> tuple[Core, SlackPlatform, Demo, str]:
    core, slack = slack_app
    demo = seed_demo(core, world)
    world.slack.add_user(demo.team_id, id=ADMIN, name="owner", is_admin=True)
    slack.team_id = demo.team_id
    core.companies.set_online_meetings(company_id=demo.company_id, enabled=True)
    return core, slack, demo, slack.command_body("disable", user=ADMIN)


def _cases(slack: SlackPlatform, body: str) -> dict[str, tuple[dict[str, str], int]]:
    good = slack.signed(body)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    return {
        "unsigned": (form, 401),
        "wrongly signed": ({**good, "X-Slack-Signature": "v0=" + "0" * 64}, 401),
        "signed with another secret": (
            {**SlackPlatform(slack.world, "", secret="other").signed(body)},
            401,
        ),
        "stale": (slack.signed(body, timestamp=int(time.time()) - 6 * 60), 401),
        "malformed timestamp": ({**good, "X-Slack-Request-Timestamp": "yesterday"}, 400),
        "timestamp with decimals": ({**good, "X-Slack-Request-Timestamp": "1.5"}, 400),
        "malformed signature": ({**good, "X-Slack-Signature": "sha256=abc"}, 401),
        "no timestamp": ({k: v for k, v in good.items() if k != "X-Slack-Request-Timestamp"}, 401),
    }


@pytest.mark.parametrize(
    "case",
    [
        "unsigned",
        "wrongly signed",
        "signed with another secret",
        "stale",
        "malformed timestamp",
        "timestamp with decimals",
        "malformed signature",
        "no timestamp",
    ],
)
def test_unproven_requests_are_refused(
    ready: tuple[Core, SlackPlatform, Demo, str], case: str
) -> None:
    core, slack, demo, body = ready
    headers, status = _cases(slack, body)[case]
    answer = slack.post(body, headers)
    assert answer.status_code == status, answer.text
    assert core.companies.company(company_id=demo.company_id).online_meetings_enabled, (
        "nothing changed"
    )


def test_altered_body_is_refused(ready: tuple[Core, SlackPlatform, Demo, str]) -> None:
    core, slack, demo, body = ready
    headers = slack.signed(body)
    answer = slack.post(body.replace("disable", "enable"), headers)
    assert answer.status_code == 401
    assert core.companies.company(company_id=demo.company_id).online_meetings_enabled


def test_ssl_check_body_still_needs_a_signature(
    ready: tuple[Core, SlackPlatform, Demo, str],
) -> None:
    core, slack, demo, body = ready
    answer = slack.post(
        body + "&ssl_check=1", {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert answer.status_code == 401
    assert core.companies.company(company_id=demo.company_id).online_meetings_enabled


def test_a_properly_signed_request_works(ready: tuple[Core, SlackPlatform, Demo, str]) -> None:
    core, slack, demo, body = ready
    assert slack.post(body, slack.signed(body)).status_code == 200
    assert not core.companies.company(company_id=demo.company_id).online_meetings_enabled
