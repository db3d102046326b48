"""Changes notify the people who hold the meeting: a cancel, a move and "starting soon" each give
exactly one thread reply that mentions the provider's staff (`provider NAME staff @user`), a cancel
and a move are also shown in the channel, and every time reads in the reader's own zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.bootstrap import Core
from app.sandbox import Demo, SandboxWorld, book, message_as_text, seed_demo
from bot.domain import Actor, ChatPlatform
from bot.templates import MessageTemplate, TemplateKind, TemplateScope
from simulators.slack import mentioned_users
from simulators.teams import DEFAULT_TENANT_ID, mentioned

from .conftest import SteppingClock, run_jobs
from .harness import deliver
from .teams_platform import (
    OLENA_AAD,
    Meetbot,
    Tenant,
    bookings_channel_in_teams,
    chat_in_teams,
    new_posts,
    text_of,
)

STAFF = "UOLENA001"
KYIV, NEW_YORK = ZoneInfo("Europe/Kyiv"), ZoneInfo("America/New_York")


def _tie_staff(core: Core, demo: Demo, platform: ChatPlatform, workspace: str, user: str) -> None:
    actor = Actor(platform, workspace, user)
    core.staff.tie_staff(
        company_id=demo.company_id, actor=actor, user_id=user, provider_external_id="1"
    )


def _replies(world: SandboxWorld, demo: Demo) -> list[dict[str, Any]]:
    return [
        m for m in world.slack.messages(demo.channel_id) if m["thread_ts"] not in (None, m["ts"])
    ]


def _at(local: datetime) -> str:
    return f"{local:%Y-%m-%d %H:%M:%S}"


def _move(world: SandboxWorld, demo: Demo, booking_id: str, start: datetime) -> None:
    world.simplybook.update_booking(
        demo.login, booking_id, start=_at(start), end=_at(start + timedelta(hours=1))
    )


def _kyiv_afternoon(days: int) -> datetime:
    return (datetime.now(KYIV) + timedelta(days=days)).replace(
        hour=15, minute=30, second=0, microsecond=0
    )


def test_cancel_move_and_starting_soon_each_mention_the_staff_once_in_slack(
    core: Core, demo: Demo, world: SandboxWorld, web: str, clock: SteppingClock
) -> None:
    world.slack.add_user(demo.team_id, id=STAFF, name="Olena Koval")
    _tie_staff(core, demo, ChatPlatform.SLACK, demo.team_id, STAFF)
    booking = book(world, demo, starts_in=timedelta(days=2))
    deliver(web, world, demo, booking["id"], "create")
    run_jobs(core)
    [message] = world.slack.messages(demo.channel_id)

    later = _kyiv_afternoon(days=4)
    _move(world, demo, booking["id"], later)
    for _ in range(3):  # redelivered: still one reply
        deliver(web, world, demo, booking["id"], "change")
        run_jobs(core)
    [moved] = _replies(world, demo)
    assert moved["thread_ts"] == message["ts"]
    assert message_as_text(moved).startswith("Rescheduled")
    assert moved["reply_broadcast"], "a move is also shown in the channel"
    assert mentioned_users(moved) == [STAFF]

    clock.offset = later.astimezone(UTC) - timedelta(minutes=9) - datetime.now(UTC)
    run_jobs(core)
    run_jobs(core)
    [_, starting] = _replies(world, demo)
    assert message_as_text(starting).startswith("Starting soon")
    assert mentioned_users(starting) == [STAFF] and not starting["reply_broadcast"]

    world.simplybook.update_booking(demo.login, booking["id"], status="cancelled")
    for _ in range(3):
        deliver(web, world, demo, booking["id"], "cancel")
        run_jobs(core)
    [_, _, cancelled] = _replies(world, demo)
    assert message_as_text(cancelled).startswith("Cancelled: Online yoga consultation")
    assert cancelled["reply_broadcast"] and mentioned_users(cancelled) == [STAFF]
    [edited] = [m for m in world.slack.messages(demo.channel_id) if m["ts"] == message["ts"]]
    assert "Cancelled" in message_as_text(edited), "the message itself is edited too"
    assert mentioned_users(edited) == [], "the edited message pings nobody again"


def test_without_staff_mapped_the_reply_still_goes_out(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    booking = book(world, demo, starts_in=timedelta(days=2))
    deliver(web, world, demo, booking["id"], "create")
    run_jobs(core)
    world.simplybook.update_booking(demo.login, booking["id"], status="cancelled")
    deliver(web, world, demo, booking["id"], "cancel")
    run_jobs(core)
    [cancelled] = _replies(world, demo)
    assert cancelled["reply_broadcast"] and mentioned_users(cancelled) == []


def test_a_booking_message_shows_each_slack_reader_their_own_time(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    world.slack.add_user(demo.team_id, id="UKYIV0001", name="In Kyiv", tz="Europe/Kyiv")
    world.slack.add_user(demo.team_id, id="UNYC00001", name="In New York", tz="America/New_York")
    start = _kyiv_afternoon(days=3)
    booking = book(world, demo)
    _move(world, demo, booking["id"], start)
    deliver(web, world, demo, booking["id"], "create")
    run_jobs(core)
    [message] = world.slack.messages(demo.channel_id)

    fields = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    stamp = int(start.timestamp())
    assert any(f"<!date^{stamp}^{{date_short_pretty}} {{time}}|" in f for f in fields), fields
    in_new_york = start.astimezone(NEW_YORK)
    end_in_new_york = in_new_york + timedelta(hours=1)
    assert "15:30–16:30" in world.slack.read_by("UKYIV0001", message)
    assert f"{in_new_york:%H:%M}–{end_in_new_york:%H:%M}" in world.slack.read_by(
        "UNYC00001", message
    )
    assert "(Europe/Kyiv)" in message_as_text(message), "the fallback names the zone it uses"

    template = MessageTemplate(
        TemplateKind.PROVIDER, TemplateScope.COMPANY, "", "Starts [start] with [client]."
    )
    core.templates.save_template(company_id=demo.company_id, template=template, actor="test")
    world.simplybook.update_booking(demo.login, booking["id"], client_name="Ann")
    deliver(web, world, demo, booking["id"], "change")
    run_jobs(core)
    [worded] = world.slack.messages(demo.channel_id)
    assert len(worded["edits"]) == 1
    assert f"{start:%H:%M} with Ann." in world.slack.read_by("UKYIV0001", worded)
    assert f"{in_new_york:%H:%M} with Ann." in world.slack.read_by("UNYC00001", worded)


def test_teams_replies_mention_the_staff_with_an_entity_and_times_follow_the_reader(
    world: SandboxWorld, teams: Tenant, start_meetbot: Any, clock: SteppingClock
) -> None:
    meetbot: Meetbot = start_meetbot(teams)
    core = meetbot.core
    demo = seed_demo(core, world)
    chat_in_teams(core, demo)
    bookings_channel_in_teams(teams, meetbot)
    _tie_staff(core, demo, ChatPlatform.TEAMS, DEFAULT_TENANT_ID, OLENA_AAD)
    far = teams.sim.add_user(name="Far Reader", timezone="America/New_York")

    booking = book(world, demo, starts_in=timedelta(days=2))
    start = _kyiv_afternoon(days=3)
    _move(world, demo, booking["id"], start)
    deliver(meetbot.url, world, demo, booking["id"], "create")
    [card] = new_posts(teams, teams.bookings, lambda: run_jobs(core))
    assert "15:30–16:30" in teams.sim.read_by(teams.olena, card)
    in_new_york = start.astimezone(NEW_YORK)
    assert f"{in_new_york:%H:%M}–" in teams.sim.read_by(far, card)

    moved_to = start + timedelta(days=1)
    _move(world, demo, booking["id"], moved_to)
    deliver(meetbot.url, world, demo, booking["id"], "change")
    [moved] = new_posts(teams, teams.bookings, lambda: run_jobs(core))
    assert moved["thread_id"] == card["id"] and text_of(moved).startswith("Rescheduled")
    assert mentioned(moved) == [OLENA_AAD]

    clock.offset = moved_to.astimezone(UTC) - timedelta(minutes=9) - datetime.now(UTC)
    [starting] = new_posts(teams, teams.bookings, lambda: (run_jobs(core), run_jobs(core)))
    assert starting["thread_id"] == card["id"] and text_of(starting).startswith("Starting soon")
    assert mentioned(starting) == [OLENA_AAD]

    world.simplybook.update_booking(demo.login, booking["id"], status="cancelled")
    deliver(meetbot.url, world, demo, booking["id"], "cancel")
    deliver(meetbot.url, world, demo, booking["id"], "cancel")
    [cancelled] = new_posts(teams, teams.bookings, lambda: run_jobs(core))
    assert cancelled["thread_id"] == card["id"] and mentioned(cancelled) == [OLENA_AAD]
    assert text_of(cancelled).startswith("Cancelled")
    root = teams.sim.activity(teams.bookings, card["id"])
    assert root is not None and text_of(root).startswith("Cancelled"), "and the card is edited"
