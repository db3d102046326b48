"""One command table through both chat front-ends: Slack's slash command and a Teams message give
the same answers, change the same things, and refuse the same people (C1, C2)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest

from adapters.teams.cards import activity_cards
from app.bootstrap import Core
from app.sandbox import Demo, SandboxWorld, book, seed_demo
from app.web import build_web_app
from bot.commands.grammar import USAGE
from bot.domain import Actor, ChatPlatform
from simulators.server import BackgroundServer
from simulators.teams import DEFAULT_TENANT_ID

from .conftest import free_port, run_jobs
from .signin_flow import Browser
from .slack_platform import SIGNING_SECRET, SlackPlatform, reply_text
from .teams_platform import (
    IVAN_AAD,
    OLENA_AAD,
    Meetbot,
    Tenant,
    ask,
    ask_in_channel,
    bookings_channel_in_teams,
    chat_in_teams,
    new_posts,
    send,
    text_of,
)

SLACK_ADMIN, SLACK_STAFF = "UADMIN01", "USTAFF01"


@dataclass
class Row:
    """A command, who types it, what the answer must say, and what must be true afterwards."""

    text: str
    says: tuple[str, ...]
    admin: bool = True
    check: Callable[[Core, Demo], bool] | None = None


def _service_online(core: Core, demo: Demo) -> bool:
    return any(s.online_meetings for s in core.catalog.services(company_id=demo.company_id))


TABLE = [
    Row("help", ("meetbot commands", "connect simplybook", "link your SimplyBook.me account")),
    Row("statsu", ("I don't know the command", "Did you mean", "status")),
    Row("status", ("meetbot status for Demo Yoga Studio", "Providers:")),
    Row("services", ("Services", "Online yoga consultation")),
    Row(
        "service disable online yoga",
        ("Online meetings off for Online yoga consultation",),
        check=lambda core, demo: not _service_online(core, demo),
    ),
    Row(
        "service enable online yoga",
        ("Online meetings on for Online yoga consultation",),
        check=_service_online,
    ),
    Row("service enable nothing-like-it", ("Which service?",)),
    Row("providers", ("Providers", "Olena Koval")),
    Row("provider olena zoom not-an-email", ("Give the Zoom user's e-mail address",)),
    Row(
        "provider olena zoom olena@demo-studio.test",
        ("Olena Koval hosts on Zoom as olena@demo-studio.test",),
    ),
    Row(
        "disable",
        ("Online meetings are off",),
        check=lambda core, demo: (
            not core.companies.company(company_id=demo.company_id).online_meetings_enabled
        ),
    ),
    Row(
        "enable",
        ("Online meetings are on",),
        check=lambda core, demo: (
            core.companies.company(company_id=demo.company_id).online_meetings_enabled
        ),
    ),
    Row("connect zoom", ("Replace the connected Zoom account?",)),
    Row("connect skype", ("Say what to connect: simplybook, zoom, teams or webhook.",)),
    Row("connect teams", ("Connect Microsoft Teams", "work or school account")),
    Row("digest at 9", ("Daily digest on", "at 9:00 (Europe/Kyiv)")),
    Row("template provider : Hi [clinet]", ("The template was not saved", "[clinet]")),
    Row(
        "template provider : Hello [client]",
        ("The provider template for the whole company is saved",),
    ),
    Row("start NOPE123", ("No such meeting",)),
    Row("audit", ("Latest changes", "set the daily digest")),
    Row("enable", ("Not allowed", "This command needs the"), admin=False),
    Row("audit", ("Not allowed",), admin=False),
    Row("role", ("Not quite", "Mention one person with @")),
]


@dataclass
class FrontEnd:
    name: str
    core: Core
    demo: Demo
    say: Callable[[str, bool], str]
    meetbot: Meetbot


@pytest.fixture(params=["slack", "teams"])
def front_end(
    request: pytest.FixtureRequest,
    make_core: Callable[..., Core],
    world: SandboxWorld,
    teams: Tenant,
) -> Iterator[FrontEnd]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    core = make_core(
        public_url=url,
        slack_signing_secret=SIGNING_SECRET,
        slack_client_id=world.slack.client_id,
        slack_client_secret=world.slack.client_secret,
        **teams.settings(),
    )
    demo = seed_demo(core, world)
    with BackgroundServer(build_web_app(core), port=port, name="meetbot"):
        if request.param == "slack":
            yield _slack(core, demo, world, url)
        else:
            yield _teams(core, demo, teams, Meetbot(core, url))


def _slack(core: Core, demo: Demo, world: SandboxWorld, url: str) -> FrontEnd:
    slack = SlackPlatform(world, url)
    slack.team_id = demo.team_id
    world.slack.add_user(demo.team_id, id=SLACK_ADMIN, name="owner", is_admin=True)
    world.slack.add_user(demo.team_id, id=SLACK_STAFF, name="staff")

    def say(text: str, admin: bool) -> str:
        answer = slack.command(text, user=SLACK_ADMIN if admin else SLACK_STAFF)
        assert answer.status_code == 200, answer.text
        return reply_text(answer).replace("*", "")

    return FrontEnd("slack", core, demo, say, Meetbot(core, url))


def _teams(core: Core, demo: Demo, teams: Tenant, meetbot: Meetbot) -> FrontEnd:
    # The same company, reached from a Teams tenant too; its installer is its admin there.
    core.workspaces.bind(
        company_id=demo.company_id, platform="teams", external_id=DEFAULT_TENANT_ID, name="Teams"
    )
    core.staff.set_role(
        company_id=demo.company_id,
        actor=Actor(ChatPlatform.TEAMS, DEFAULT_TENANT_ID, OLENA_AAD),
        user_id=OLENA_AAD,
        role="admin",
    )

    def say(text: str, admin: bool) -> str:
        user = teams.olena if admin else teams.ivan
        posts = ask(teams, meetbot, user, text)
        assert posts, f"no answer to {text!r}"
        return "\n".join(text_of(post) for post in posts).replace("*", "")

    return FrontEnd("teams", core, demo, say, meetbot)


def test_the_same_commands_give_the_same_results(front_end: FrontEnd) -> None:
    """The table is one set-up session, typed in order; every row is checked on both."""
    for row in TABLE:
        answer = front_end.say(row.text, row.admin)
        for phrase in row.says:
            assert phrase in answer, f"{front_end.name}: {row.text!r} → {answer!r}"
        if row.check is not None:
            assert row.check(front_end.core, front_end.demo), f"{front_end.name}: {row.text!r}"


def _command_lines(text: str) -> list[str]:
    """The lines of a help text that name a command (everything but headings, the intro and the
    examples)."""
    return [line for line in text.splitlines() if " — " in line]


@pytest.mark.parametrize("front_end", ["slack"], indirect=True)
def test_slack_help_describes_each_command_in_groups(
    front_end: FrontEnd, world: SandboxWorld
) -> None:
    slack = SlackPlatform(world, front_end.meetbot.url)
    slack.team_id = front_end.demo.team_id
    answer = slack.command("help", user=SLACK_ADMIN)
    [section] = [b["text"]["text"] for b in answer.json()["blocks"] if b["type"] == "section"]
    lines = _command_lines(section)
    assert len(lines) >= len(USAGE), "a line for every command"
    for line in lines:
        typed, says = line.split(" — ")
        assert typed.startswith("`/meetings ") and typed.endswith("`"), line
        assert len(says.split()) >= 2, f"a description, not a usage: {line}"
    for group in ("*Set-up*", "*Services and providers*", "*Meetings*", "*Reports*", "*Examples*"):
        assert group in section
    assert "`/meetings provider Olena Koval staff @olena`" in section, "examples"


@pytest.mark.parametrize("front_end", ["teams"], indirect=True)
def test_teams_help_card_has_no_backticks_and_no_slash_command(
    front_end: FrontEnd, teams: Tenant
) -> None:
    [post] = ask(teams, front_end.meetbot, teams.olena, "help")
    [card] = activity_cards(post["activity"])
    rendered = json.dumps(card, ensure_ascii=False)
    assert "`" not in rendered and "/meetings" not in rendered
    texts = [e["text"] for e in card["body"] if e["type"] == "TextBlock"]
    lines = [line for text in texts for line in _command_lines(text.replace("\n\n", "\n"))]
    assert len(lines) >= len(USAGE), "a line for every command"
    for line in lines:
        typed, says = line.split(" — ")
        assert typed.split()[0] in USAGE, line
        assert len(says.split()) >= 2, f"a description, not a usage: {line}"
    for group in ("Set-up", "Services and providers", "Meetings", "Reports", "Examples"):
        assert any(group in text.split("\n\n") for text in texts), group


def test_a_mention_sets_a_role_on_both(front_end: FrontEnd, teams: Tenant) -> None:
    if front_end.name == "slack":
        answer = front_end.say(f"role <@{SLACK_STAFF}|staff> junior", True)
        who = Actor(ChatPlatform.SLACK, front_end.demo.team_id, SLACK_STAFF)
    else:
        posts = ask_in_channel(
            teams,
            front_end.meetbot,
            teams.olena,
            "role <at>Ivan Staff</at> junior",
            mention=(teams.ivan, "Ivan Staff"),
        )
        answer = "\n".join(text_of(p) for p in posts)
        who = Actor(ChatPlatform.TEAMS, DEFAULT_TENANT_ID, IVAN_AAD)
    assert "Role set" in answer
    member = front_end.core.staff.staff_member(company_id=front_end.demo.company_id, actor=who)
    assert member is not None and member.role == "junior"


def test_teams_chat_with_teams_meetings_end_to_end(
    make_core: Callable[..., Core], world: SandboxWorld, teams: Tenant
) -> None:
    """Teams as both chat and meeting platform: set up from a Teams chat, a booking becomes a
    Graph meeting and a card with both links in the provider's Teams channel."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    core = make_core(public_url=url, **teams.settings())
    demo = seed_demo(core, world)
    owner = world.microsoft.add_user("Studio Owner", "owner@studio.example")
    chat_in_teams(core, demo)
    with BackgroundServer(build_web_app(core), port=port, name="meetbot"):
        meetbot = Meetbot(core, url)
        bookings_channel_in_teams(teams, meetbot)

        [sign_in] = ask(teams, meetbot, teams.olena, "connect teams")
        link = re.search(
            r"\[Connect Microsoft Teams\] (\S+/oauth/microsoft/start\S+)", text_of(sign_in)
        )
        assert link, text_of(sign_in)
        world.microsoft.signing_in = owner
        chat = teams.sim.personal_conversation(teams.olena)
        browser = Browser(world)
        try:
            asked = new_posts(teams, chat, lambda: _signed_in(browser, link.group(1)))
        finally:
            browser.close()
        [card] = [post for post in asked if "Confirm the Microsoft account" in text_of(post)]
        assert "owner@studio.example" in text_of(card), "a card in Olena's chat asks first"
        [confirm] = [
            action
            for action in activity_cards(card["activity"])[0]["actions"]
            if action.get("title") == "Confirm"
        ]
        pressed = teams.sim.card_submit(teams.olena, confirm["data"], reply_to_id=card["id"])
        send(teams, meetbot, pressed)
        answered = teams.sim.activity(chat, card["id"])  # the card becomes the answer
        assert answered is not None and "Microsoft Teams is connected" in text_of(answered)
        [moved] = ask(teams, meetbot, teams.olena, "provider olena teams")
        assert "hosts on Microsoft Teams" in text_of(moved)

        booking = book(world, demo, client_name="Iryna", starts_in=timedelta(minutes=5))
        answer = httpx.post(
            f"{url}/webhooks/simplybook/{demo.webhook_token}",
            json=world.simplybook.callback(demo.login, booking["id"]),
        )
        assert answer.status_code == 202
        [card] = new_posts(teams, teams.bookings, lambda: run_jobs(core))
        shown = text_of(card)
        assert shown.startswith("Online meeting: Online yoga consultation") and "Iryna" in shown
        [meeting] = world.microsoft.meetings_of(owner)
        client = re.search(r"\[Client's join link\] (\S+)", shown)
        host = re.search(r"\[Host link\] (\S+)", shown)
        assert client and host, shown
        assert httpx.get(client.group(1)).headers["location"] == meeting["joinWebUrl"]
        assert httpx.get(host.group(1)).headers["location"] == meeting["joinWebUrl"]
        assert world.slack.messages(demo.channel_id) == [], "the provider's channel is in Teams"


def _signed_in(browser: Browser, start: str) -> None:
    page = browser.microsoft(start)
    assert page.status_code == 200 and "Confirm in chat" in page.text, page.text


def test_a_slow_teams_command_is_acknowledged_and_answered_in_the_persons_chat(
    make_core: Callable[..., Core], world: SandboxWorld, teams: Tenant
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    core = make_core(public_url=url, **teams.settings())
    demo = seed_demo(core, world)
    chat_in_teams(core, demo)
    with BackgroundServer(build_web_app(core), port=port, name="meetbot"):
        meetbot = Meetbot(core, url)
        world.simplybook.faults.latency = 3.0  # two calls (services, providers): past Teams' wait
        [working] = ask(teams, meetbot, teams.olena, "providers")
        assert text_of(working).startswith("Working on it…")
        world.simplybook.faults.latency = 0.0
        chat = teams.sim.personal_conversation(teams.olena)
        [answer] = new_posts(teams, chat, lambda: run_jobs(core))
        assert text_of(answer).startswith("Providers") and "Olena Koval" in text_of(answer)
        [job] = core.queue.jobs(kind="chat_command")
        assert job.state == "done"
