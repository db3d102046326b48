"""Clients' links open at the booked time (minus the company's lead) or when someone allowed starts
the meeting by hand (S11, S13); afterwards they say the meeting is over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.bootstrap import Core
from app.sandbox import Demo, SandboxWorld, book, message_as_text, seed_demo, wait_for
from bot.domain import Actor, ChatPlatform

from .conftest import SteppingClock, run_jobs
from .slack_platform import SlackPlatform

ADMIN, JUNIOR, OTHER_JUNIOR = "UADMIN01", "UJUNIOR1", "UJUNIOR2"


@pytest.fixture
def booked(
    slack_app: tuple[Core, SlackPlatform], world: SandboxWorld
) -> tuple[Core, SlackPlatform, Demo, str]:
    core, slack = slack_app
    demo = seed_demo(core, world)
    slack.team_id = demo.team_id
    for user in (ADMIN, JUNIOR, OTHER_JUNIOR):
        world.slack.add_user(demo.team_id, id=user, name=user.lower(), is_admin=user == ADMIN)
    booking = book(world, demo, starts_in=timedelta(days=1))
    httpx.post(
        f"{slack.meetbot_url}/webhooks/simplybook/{demo.webhook_token}",
        json=world.simplybook.callback(demo.login, booking["id"]),
    )
    run_jobs(core)
    return core, slack, demo, booking["id"]


def _client_link(world: SandboxWorld, demo: Demo) -> str:
    text = message_as_text(world.slack.messages(demo.channel_id)[0])
    return next(word for word in text.split() if "/m/" in word)


def _start_value(world: SandboxWorld, demo: Demo) -> str:
    [message] = world.slack.messages(demo.channel_id)
    buttons = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    [start] = [b for b in buttons if b["action_id"] == "meetbot_start"]
    return str(start["value"])


def test_before_opening_the_link_waits_with_the_time(
    booked: tuple[Core, SlackPlatform, Demo, str], world: SandboxWorld
) -> None:
    _, _, demo, _ = booked
    [meeting] = world.zoom.live_meetings()
    page = httpx.get(_client_link(world, demo))
    assert page.status_code == 200 and "Your meeting has not started yet" in page.text
    assert meeting["join_url"] not in page.text
    opens = datetime.fromisoformat(page.text.split('data-opens="')[1].split('"')[0])
    starts = datetime.fromisoformat(page.text.split('data-starts="')[1].split('"')[0])
    assert starts - opens == timedelta(minutes=10)
    assert starts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") == meeting["start_time"]
    ukrainian = httpx.get(
        _client_link(world, demo), headers={"Accept-Language": "uk-UA,uk;q=0.9,en;q=0.5"}
    )
    assert 'lang="uk"' in ukrainian.text and "Зустріч ще не почалася" in ukrainian.text


def test_after_the_end_the_link_says_it_is_over(
    slack_app: tuple[Core, SlackPlatform], world: SandboxWorld, clock: SteppingClock
) -> None:
    core, slack = slack_app
    demo = seed_demo(core, world)
    booking = book(world, demo, starts_in=timedelta(hours=1), minutes=60)
    httpx.post(
        f"{slack.meetbot_url}/webhooks/simplybook/{demo.webhook_token}",
        json=world.simplybook.callback(demo.login, booking["id"]),
    )
    run_jobs(core)
    link = _client_link(world, demo)
    clock.offset = timedelta(hours=2, minutes=31)  # half an hour past its end
    page = httpx.get(link)
    assert page.status_code == 410 and "This meeting is over" in page.text


def _press_start(slack: SlackPlatform, world: SandboxWorld, demo: Demo, user: str) -> str:
    before = len(world.slack.response_posts())
    payload = {
        "type": "block_actions",
        "team": {"id": demo.team_id},
        "user": {"id": user},
        "api_app_id": "A0MEETBOT",
        "channel": {"id": demo.channel_id},
        "trigger_id": "t",
        "container": {"type": "message"},
        "response_url": world.slack.new_response_url(world.url("slack")),
        "actions": [
            {
                "action_id": "meetbot_start",
                "block_id": "b",
                "type": "button",
                "value": _start_value(world, demo),
                "action_ts": "1",
            }
        ],
    }
    assert slack.interaction(payload).status_code == 200
    assert wait_for(lambda: len(world.slack.response_posts()) > before)
    return str(world.slack.response_posts()[-1])


def test_start_meeting_by_role(
    booked: tuple[Core, SlackPlatform, Demo, str], world: SandboxWorld
) -> None:
    core, slack, demo, _ = booked
    link = _client_link(world, demo)
    core.staff.set_role(
        company_id=demo.company_id,
        actor=Actor(ChatPlatform.SLACK, demo.team_id, ADMIN),
        user_id=OTHER_JUNIOR,
        role="junior",
    )

    refused = _press_start(slack, world, demo, OTHER_JUNIOR)
    assert "Not allowed" in refused and "junior staff tied to this meeting's provider" in refused
    assert "has not started yet" in httpx.get(link).text, "nothing changed"

    core.staff.tie_staff(
        company_id=demo.company_id,
        actor=Actor(ChatPlatform.SLACK, demo.team_id, ADMIN),
        user_id=JUNIOR,
        provider_external_id=demo.provider_id,
    )
    allowed = _press_start(slack, world, demo, JUNIOR)
    assert "The meeting is open" in allowed and "/h/" in allowed
    assert "'replace_original': False" in allowed or '"replace_original": false' in allowed.lower()
    [meeting] = world.zoom.live_meetings()
    assert httpx.get(link).headers["location"] == meeting["join_url"]


def test_admin_can_start_and_the_channel_message_stays(
    booked: tuple[Core, SlackPlatform, Demo, str], world: SandboxWorld
) -> None:
    _, slack, demo, _ = booked
    assert "The meeting is open" in _press_start(slack, world, demo, ADMIN)
    [message] = world.slack.messages(demo.channel_id)
    assert message["edits"] == [] and "Start meeting now" in str(message["blocks"])
    [meeting] = world.zoom.live_meetings()
    assert httpx.get(_client_link(world, demo)).headers["location"] == meeting["join_url"]


def test_start_command_by_booking_code(
    booked: tuple[Core, SlackPlatform, Demo, str], world: SandboxWorld
) -> None:
    from .slack_platform import reply_text

    _core, slack, demo, booking_id = booked
    code = world.simplybook.booking(demo.login, booking_id)["code"]  # type: ignore[index]
    refused = reply_text(slack.command(f"start {code}", user=OTHER_JUNIOR))
    assert "This command needs the *junior* role" in refused
    assert "No online meeting belongs to booking “nope”" in reply_text(
        slack.command("start nope", user=ADMIN)
    )
    opened = reply_text(slack.command(f"start #{code}", user=ADMIN))
    assert "The meeting is open" in opened and "/h/" in opened
    [meeting] = world.zoom.live_meetings()
    assert httpx.get(_client_link(world, demo)).headers["location"] == meeting["join_url"]


def test_an_early_start_does_not_carry_over_to_a_new_time(
    booked: tuple[Core, SlackPlatform, Demo, str], world: SandboxWorld
) -> None:
    from zoneinfo import ZoneInfo

    core, slack, demo, booking_id = booked
    _press_start(slack, world, demo, ADMIN)
    link = _client_link(world, demo)
    assert httpx.get(link).status_code == 303
    later = (datetime.now(ZoneInfo("Europe/Kyiv")) + timedelta(days=2)).replace(
        second=0, microsecond=0
    )
    world.simplybook.update_booking(
        demo.login,
        booking_id,
        start=f"{later:%Y-%m-%d %H:%M:%S}",
        end=f"{later + timedelta(hours=1):%Y-%m-%d %H:%M:%S}",
    )
    httpx.post(
        f"{slack.meetbot_url}/webhooks/simplybook/{demo.webhook_token}",
        json=world.simplybook.callback(demo.login, booking_id, "change"),
    )
    run_jobs(core)
    assert "has not started yet" in httpx.get(link).text
