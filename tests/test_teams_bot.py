"""Teams as a chat front-end, against the Teams simulator and meetbot's web app over real HTTP:
the Bot Framework token and the service-URL allow-list guard `/api/messages`; commands, the
SimplyBook.me form and buttons reach the core; bookings arrive as Adaptive Cards in the provider's
channel and are edited in place; the cards show user text literally; the app package validates.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import jsonschema
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.teams.bot import Mentioned, command_text
from adapters.teams.cards import (
    ACTION_KEY,
    activity_cards,
    card_text,
    escape,
    file_card,
    render_card,
    simplybook_form,
)
from adapters.teams.connector import ServiceUrlRefused, allowed_service_url
from adapters.teams.manifest import (
    COMMANDS,
    MAX_COMMANDS,
    MAX_DESCRIPTION,
    MAX_TITLE,
    build_manifest,
    covered_commands,
    package,
)
from adapters.teams.sender import teams_pacer
from app.bootstrap import Core, build_integrations
from app.sandbox import SandboxWorld
from bot import messages
from bot.commands import USAGE
from bot.domain import ChatPlatform, ChatTarget
from bot.domain.installations import TeamsConversation
from bot.errors import ChatChannelUnavailable, RetryLater
from bot.messages import (
    ActionButton,
    ChatMessage,
    Fact,
    Link,
    LinkButton,
    Text,
    When,
    time_range,
)
from simulators.server import BackgroundServer
from simulators.teams import (
    DEFAULT_TENANT_ID,
    TeamsConnectorSimulator,
)
from storage.tables import TeamsConversationRow
from storage.teams_conversations import SqlTeamsConversations

from .conftest import count_rows, run_jobs
from .harness import SQLITE_ONLY, CallbackAddress, deliver
from .teams_platform import (
    API_KEY,
    API_SECRET,
    IVAN_AAD,
    LOGIN,
    OLENA_AAD,
    ROOT,
    SCHEMAS,
    Meetbot,
    Servers,
    Tenant,
    _tenant,
    ask,
    ask_in_channel,
    install,
    new_posts,
    send,
    text_of,
)


def meetbot_installer(core: Core) -> str | None:
    return SqlTeamsConversations(core.engine).installer(tenant_id=DEFAULT_TENANT_ID)


# Cards: pure, on the JSON.


MEAN_NAME = (
    "<!channel> *x* [a](http://evil) _y_ ~~z~~ `code` {{DATE(2026-01-01T10:00:00Z, LONG)}} &amp;"
)


def test_card_shape() -> None:
    message = ChatMessage(
        title="Online meeting: Yoga",
        text="Booked by a client.",
        facts=(Fact("When", "Mon 10:00"), Fact("Client", "Iryna")),
        buttons=(LinkButton("Host link", "https://meetbot.example/h/abc", primary=True),),
        actions=(ActionButton("Start meeting now", "meetbot_start", "m-1", "primary"),),
        note="Updated when the booking changes.",
        summary="Iryna booked Yoga",
    )
    card = render_card(message)
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    title, text, when, client, note = card["body"]
    assert title == {
        "type": "TextBlock",
        "text": "Online meeting: Yoga",
        "wrap": True,
        "weight": "Bolder",
        "size": "Large",
    }
    assert text["text"] == "Booked by a client."
    assert when == {
        "type": "TextBlock",
        "text": "**When:** Mon 10:00",
        "wrap": True,
        "spacing": "Small",
    }
    assert client["text"] == "**Client:** Iryna" and client["wrap"] is True
    assert "FactSet" not in json.dumps(card), "a FactSet clips long values such as links"
    assert note["isSubtle"] is True and note["size"] == "Small"
    open_url, submit = card["actions"]
    assert open_url == {
        "type": "Action.OpenUrl",
        "title": "Host link",
        "url": "https://meetbot.example/h/abc",
        "style": "positive",
    }
    assert submit["type"] == "Action.Submit" and submit["style"] == "positive"
    assert submit["data"] == {ACTION_KEY: "meetbot_start", "value": "m-1"}
    assert card_text(card).splitlines() == [
        "Online meeting: Yoga",
        "Booked by a client.",
        "When: Mon 10:00",
        "Client: Iryna",
        "Updated when the booking changes.",
        "[Host link] https://meetbot.example/h/abc",
        "[Start meeting now]",
    ]


def test_user_text_is_shown_literally() -> None:
    message = ChatMessage(
        title=f"Online meeting: {MEAN_NAME}",
        facts=(
            Fact("Client", MEAN_NAME),
            Fact("Note", "- not a list\n1. nor this\n# nor a header"),
        ),
        body=(Text(f"Hello {MEAN_NAME}"),),
    )
    card = render_card(message)
    shown = json.dumps(card)
    for markup in ("*x*", "[a](http", "_y_", "~~z~~", "`code`", "{{DATE(", " &amp;"):
        assert markup not in shown, markup  # every construct Teams would honour is escaped
    client = card["body"][2]["text"]
    assert client.startswith(
        "**Client:** \\<!channel> \\*x\\* \\[a\\](http://evil) \\_y\\_ \\~\\~z\\~\\~"
    )
    assert "\\{\\{DATE(" in client and "\\&amp;" in client
    note = card["body"][3]["text"]
    assert note == "**Note:** \\- not a list\n\n1\\. nor this\n\n\\# nor a header"
    lines = card_text(card).splitlines()
    assert lines[0] == f"Online meeting: {MEAN_NAME}"
    assert lines[1] == f"Hello {MEAN_NAME}"
    assert f"Client: {MEAN_NAME}" in lines


def test_links_and_moments_in_a_companys_wording() -> None:
    moment = datetime(2026, 3, 2, 8, 30, tzinfo=ZoneInfo("Europe/Kyiv"))
    body = (
        Text("Join [here]: "),
        Link("https://meetbot.example/m/a_b (c)", "the [client] link"),
        Text(" at "),
        When(moment, "Mon 2 Mar 08:30"),
    )
    markdown = render_card(ChatMessage(title="t", body=body))["body"][1]["text"]
    assert markdown == (
        "Join \\[here\\]: [the \\[client\\] link](https://meetbot.example/m/a_b%20%28c%29) at "
        "{{DATE(2026-03-02T06:30:00Z, LONG)}} {{TIME(2026-03-02T06:30:00Z)}}"
    )
    assert card_text({"body": [{"type": "TextBlock", "text": markdown}]}) == (
        "Join [here]: the [client] link at 2026-03-02T06:30:00Z"
    )


def test_a_mention_is_a_real_entity_whose_text_is_in_the_card() -> None:
    people = (
        messages.Mentioned("aad-1", "Olena <b>Koval</b>"),
        messages.Mentioned("aad-2", "Ivan"),
    )
    card = render_card(ChatMessage(title="Cancelled: Yoga", mentions=people))
    assert card["body"][1]["text"] == "<at>Olena bKovalb</at>, <at>Ivan</at>"
    assert card["msteams"]["entities"] == [
        {
            "type": "mention",
            "text": "<at>Olena bKovalb</at>",
            "mentioned": {"id": "aad-1", "name": "Olena bKovalb"},
        },
        {"type": "mention", "text": "<at>Ivan</at>", "mentioned": {"id": "aad-2", "name": "Ivan"}},
    ]
    assert card_text(card).splitlines()[1] == "@Olena bKovalb, @Ivan"


def test_a_time_fact_reads_in_each_readers_zone_and_links_wrap() -> None:
    start = datetime(2026, 12, 1, 13, 30, tzinfo=ZoneInfo("UTC"))
    when = Fact("When", "fallback", shown=time_range(start, start + timedelta(hours=1), "UTC"))
    link = Fact("Client's link", "https://meetbot.example/m/" + "x" * 80)
    card = render_card(ChatMessage(title="t", facts=(when, link)))
    assert card["body"][1]["text"] == (
        "**When:** {{DATE(2026-12-01T13:30:00Z, SHORT)}} {{TIME(2026-12-01T13:30:00Z)}}"
        "–{{TIME(2026-12-01T14:30:00Z)}}"
    )
    assert all(block["wrap"] for block in card["body"])
    assert "FactSet" not in json.dumps(card)


def test_nothing_forms_across_two_pieces_of_text() -> None:
    body = (
        Text("{"),
        Text("{DATE(2026-01-01T10:00:00Z, LONG)}} R&"),
        Text("amp; ["),
        Text("a](b)"),
    )
    markdown = render_card(ChatMessage(title="t", body=body))["body"][1]["text"]
    assert "{{" not in markdown and " &amp;" not in markdown and "[a]" not in markdown
    assert card_text(render_card(ChatMessage(title="t", body=body))).splitlines()[1] == (
        "{{DATE(2026-01-01T10:00:00Z, LONG)}} R&amp; [a](b)"
    )


def test_meetbots_own_texts_name_people_and_channels() -> None:
    message = ChatMessage(
        title="Role set", text="<@aad-1> is now *senior*; bookings go to <#19:c@thread.tacv2>"
    )
    card = render_card(
        message, names={"aad-1": "Ivan Staff", "19:c@thread.tacv2": "olena-bookings"}
    )
    assert (
        card_text(card).splitlines()[1]
        == "@Ivan Staff is now *senior*; bookings go to #olena-bookings"
    )
    unnamed = card_text(render_card(message)).splitlines()[1]
    assert unnamed == "@aad-1 is now *senior*; bookings go to #19:c@thread.tacv2"


def test_the_credentials_form_masks_secrets_and_never_refills_them() -> None:
    form = simplybook_form(
        errors={"api_key": "SimplyBook.me refused this login and key."}, login="studio"
    )
    inputs = {e["id"]: e for e in form["body"] if e["type"] == "Input.Text"}
    assert list(inputs) == ["login", "api_key", "api_secret"]
    assert inputs["login"]["value"] == "studio" and "style" not in inputs["login"]
    for secret in ("api_key", "api_secret"):
        assert inputs[secret]["style"] == "password" and "value" not in inputs[secret]
    position = [e.get("id") or e.get("text") for e in form["body"]]
    assert position.index("api_key") + 1 == position.index(
        "SimplyBook.me refused this login and key."
    )
    [connect] = form["actions"]
    assert connect["type"] == "Action.Submit" and connect["data"] == {"meetbot_form": "simplybook"}


def test_a_file_becomes_text_in_a_card() -> None:
    small = b"\xef\xbb\xbfbooking,client\n2262,*Iryna*\n"
    card = file_card(title="Report", comment="2 booking(s)", filename="r.csv", content=small)
    text = card_text(card)
    assert "booking,client\n2262,*Iryna*" in text and "this is the whole of r.csv" in text
    assert card["body"][-1]["fontType"] == "Monospace"
    rows = b"booking,client\n" + b"".join(b"%d,Client %d\n" % (n, n) for n in range(3000))
    big = file_card(title="Report", comment="", filename="r.csv", content=rows)
    shown = big["body"][-1]["text"]
    assert len(json.dumps(big).encode()) < 26 * 1024
    assert "first " in card_text(big) and "of 3001 lines" in card_text(big)
    assert shown.startswith("booking,client\n\n0,Client 0")


def test_command_text_from_a_teams_message() -> None:
    bot = "28:bot-app"
    mentioned = [
        Mentioned("<at>meetbot</at>", bot, "meetbot"),
        Mentioned("<at>Ivan Staff</at>", "29:ivan", "Ivan Staff"),
        Mentioned("<at>olena-bookings</at>", "19:chan@thread.tacv2", "olena-bookings"),
        Mentioned("<at>Nobody</at>", "29:nobody", "Nobody"),
    ]
    people = {"29:ivan": IVAN_AAD}
    assert (
        command_text(
            "<at>meetbot</at> role <at>Ivan Staff</at> senior", mentioned, bot_id=bot, people=people
        )
        == f"role  <@{IVAN_AAD}>  senior"
    )
    assert command_text(
        "<at>meetbot</at>&nbsp;provider Olena channel <at>olena-bookings</at>",
        mentioned,
        bot_id=bot,
        people=people,
    ).split() == ["provider", "Olena", "channel", "<#19:chan@thread.tacv2>"]
    assert command_text("/meetings help", [], bot_id=bot, people={}) == "help"
    assert command_text(
        "role <at>Nobody</at> admin", mentioned, bot_id=bot, people=people
    ).split() == [
        "role",
        "Nobody",
        "admin",
    ]


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://smba.trafficmanager.net/emea/", True),
        ("https://SMBA.trafficmanager.net/teams/", True),
        ("http://smba.trafficmanager.net/emea/", False),  # https only, except on loopback
        ("https://smba.trafficmanager.net.evil.example/", False),
        ("https://evil.example/?smba.trafficmanager.net", False),
        ("https://user@smba.trafficmanager.net/", False),
        ("https://smba.trafficmanager.net:99999/", False),
        ("https://x.teams.example/", True),  # matched by "*.teams.example"
        ("https://teams.example/", False),
        ("http://127.0.0.1:3978/teams/", False),  # loopback only when listed
        ("not a url", False),
        ("https://smba.trafficmanager.net:443/emea/", True),
        ("https://smba.trafficmanager.net:8443/emea/", False),  # the port is checked too
        ("https://x.teams.example:8443/", False),
        ("https://smba.onyx.example:8443/", True),  # listed with its port
        ("https://smba.onyx.example/", False),
    ],
)
def test_service_url_allow_list(url: str, allowed: bool) -> None:
    hosts = ("smba.trafficmanager.net", "*.teams.example", "smba.onyx.example:8443")
    assert allowed_service_url(url, hosts) is allowed


def test_service_url_allow_list_checks_the_loopback_port() -> None:
    assert allowed_service_url("http://127.0.0.1:3978/teams/", ("127.0.0.1:3978",))
    assert not allowed_service_url("http://127.0.0.1:3979/teams/", ("127.0.0.1:3978",))
    assert not allowed_service_url("http://127.0.0.1:3978/teams/", ("127.0.0.1",))


def test_pacing_per_conversation() -> None:
    now = [100.0]
    pacer = teams_pacer(max_wait=0.0, clock=lambda: now[0])

    async def burst(key: str, count: int) -> None:
        for _ in range(count):
            await pacer.acquire(key)

    asyncio.run(burst("19:a", 7))
    with pytest.raises(RetryLater) as limited:
        asyncio.run(burst("19:a", 1))
    assert limited.value.after_seconds == pytest.approx(1.0)
    asyncio.run(burst("19:b", 7))  # another conversation has its own budget
    for second in range(1, 16):  # 4 a second stays under 7/s and 8/2s ...
        now[0] = 100.0 + second
        asyncio.run(burst("19:c", 4))
    now[0] = 116.0
    with pytest.raises(RetryLater) as per_half_minute:  # ... until 60 in 30 s
        asyncio.run(burst("19:c", 1))
    assert per_half_minute.value.after_seconds == pytest.approx(15.0)


# /api/messages: who may talk to meetbot.


BAD_TOKENS: dict[str, Callable[[TeamsConnectorSimulator], str | None]] = {
    "missing": lambda sim: None,
    "malformed": lambda sim: "Bearer not-a-jwt",
    "basic scheme": lambda sim: "Basic dXNlcjpwYXNz",
    "another app id": lambda sim: f"Bearer {sim.channel_token(audience='another-app-id')}",
    "expired": lambda sim: f"Bearer {sim.channel_token(lifetime=-600)}",
    "other serviceurl claim": lambda sim: (
        f"Bearer {sim.channel_token(service_url='https://smba.trafficmanager.net/emea/')}"
    ),
}


@SQLITE_ONLY
@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_an_activity_without_a_valid_token_is_401(
    teams: Tenant, meetbot: Meetbot, case: str
) -> None:
    sim = teams.sim
    answer = sim.send(
        meetbot.bot, sim.message(teams.olena, "help"), authorization=BAD_TOKENS[case](sim)
    )
    assert answer.status_code == 401
    assert answer.json() == {"ok": False, "reason": "missing or invalid Bot Framework token"}
    assert sim.activities() == []
    assert count_rows(meetbot.core, TeamsConversationRow) == 0


@SQLITE_ONLY
def test_malformed_bodies_are_4xx(teams: Tenant, meetbot: Meetbot) -> None:
    for body in (b"{", b"[]", b"x" * (300 * 1024)):
        answer = httpx.post(meetbot.bot, content=body, headers={"Content-Type": "application/json"})
        assert answer.status_code in (400, 413)


@SQLITE_ONLY
def test_a_valid_token_gets_an_answer_in_the_conversation(teams: Tenant, meetbot: Meetbot) -> None:
    [reply] = ask(teams, meetbot, teams.olena, "help")
    assert text_of(reply).startswith("meetbot commands\n")
    assert "provider NAME zoom EMAIL" in text_of(reply) and "/meetings" not in text_of(reply)
    assert reply["reply_to_id"] is not None
    [token_call] = [r for r in teams.sim.requests if r.path.endswith("/oauth2/v2.0/token")]
    assert token_call.status == 200
    ask(teams, meetbot, teams.olena, "status")
    # One token for both turns: the credentials (and msal's cache) outlive a turn.
    assert teams.sim.count("POST", "/oauth2/v2.0/token") == 1


@SQLITE_ONLY
def test_installed_for_oneself_greets_and_makes_the_installer_admin(
    teams: Tenant, meetbot: Meetbot
) -> None:
    chat = teams.sim.personal_conversation(teams.ivan)
    installed = teams.sim.bot_installed_personal(teams.ivan)
    [greeting] = new_posts(teams, chat, lambda: send(teams, meetbot, installed))
    assert text_of(greeting).startswith("Hello, I am meetbot")
    assert meetbot_installer(meetbot.core) == IVAN_AAD
    install(teams, meetbot)  # a later install in a team does not take the tenant over
    assert meetbot_installer(meetbot.core) == IVAN_AAD
    [form] = ask(teams, meetbot, teams.ivan, "connect simplybook")
    assert "API secret" in text_of(form)


@SQLITE_ONLY
def test_a_service_url_off_the_allow_list_is_never_called(teams: Tenant, meetbot: Meetbot) -> None:
    calls: list[str] = []

    async def capture(request: Request) -> Response:
        calls.append(request.url.path)
        return JSONResponse({"id": "1"}, status_code=201)

    elsewhere = Starlette(routes=[Route("/{path:path}", capture, methods=["GET", "POST", "PUT"])])
    with BackgroundServer(elsewhere, name="elsewhere", lifespan="off") as server:
        # Same machine, but "localhost" is not on MEETBOT_TEAMS_SERVICE_URL_HOSTS (127.0.0.1 is).
        service_url = server.url.replace("127.0.0.1", "localhost") + "/teams/"
        for make in (
            lambda: teams.sim.message(teams.olena, "help"),
            lambda: teams.sim.bot_added_to_team(teams.team, by_user=teams.olena),
        ):
            activity = make()
            activity["serviceUrl"] = service_url
            answer = teams.sim.send(meetbot.bot, activity)  # with a token valid for that URL
            assert answer.status_code == 403
            assert "serviceUrl" in answer.json()["reason"]
    assert calls == []
    assert teams.sim.activities() == []
    assert count_rows(meetbot.core, TeamsConversationRow) == 0


@SQLITE_ONLY
def test_without_an_app_id_teams_is_off_unless_asked_for_and_then_warns(
    servers: Servers,
    start_meetbot: Callable[..., Meetbot],
    caplog: pytest.LogCaptureFixture,
) -> None:
    open_teams = _tenant(servers, app_id="")
    off = start_meetbot(open_teams, teams_allow_unauthenticated=False)
    assert httpx.post(off.bot, json={}).status_code == 404
    with caplog.at_level(logging.WARNING, logger="meetbot"):
        local = start_meetbot(open_teams)
    assert any(
        "NOT authenticated" in r.getMessage() or "WITHOUT" in r.getMessage() for r in caplog.records
    )
    health = httpx.get(f"{local.url}/healthz").json()["integrations"]["teams"]
    assert health == {"configured": True, "authenticated": False}
    [reply] = ask(open_teams, local, open_teams.olena, "help")
    assert text_of(reply).startswith("meetbot commands")
    assert all("authorization" not in r.headers for r in open_teams.sim.requests)


# The whole flow: set up from Teams, then bookings reach the channel.


def _company_world(world: SandboxWorld) -> dict[str, Any]:
    world.simplybook.add_company(
        LOGIN,
        api_key=API_KEY,
        api_secret=API_SECRET,
        name="Teams Yoga Studio",
        timezone="Europe/Kyiv",
    )
    world.simplybook.add_service(LOGIN, id=1, name="Online yoga consultation", duration=60)
    world.simplybook.add_provider(LOGIN, id=1, name="Olena Koval", email="olena@studio.test")
    return world.zoom.add_user(
        account_id=f"acct-{LOGIN}", email="olena@studio.test", first_name="Olena", last_name="Koval"
    )


def _connect_zoom(
    core: Core, world: SandboxWorld, company_id: str, zoom_user: dict[str, Any]
) -> None:
    tokens = world.zoom.issue_tokens(account_id=f"acct-{LOGIN}", user_id=zoom_user["id"])
    core.zoom_tokens.connect(
        company_id=company_id,
        zoom_account_id=f"acct-{LOGIN}",
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        expires_at=core.clock.now() + timedelta(seconds=int(tokens["expires_in"])),
        connected_by=f"teams:{DEFAULT_TENANT_ID}:{OLENA_AAD}",
    )


def _book(world: SandboxWorld, client: str, starts_in: timedelta) -> dict[str, Any]:
    start = (datetime.now(ZoneInfo("Europe/Kyiv")) + starts_in).replace(second=0, microsecond=0)
    return world.simplybook.add_booking(
        LOGIN,
        service_id=1,
        provider_id=1,
        client_name=client,
        client_email="client@example.test",
        start=f"{start:%Y-%m-%d %H:%M:%S}",
        end=f"{start + timedelta(minutes=60):%Y-%m-%d %H:%M:%S}",
    )


def _submit_form(
    teams: Tenant, meetbot: Meetbot, form_id: str, **values: str
) -> list[dict[str, Any]]:
    chat = teams.sim.personal_conversation(teams.olena)
    value = {"meetbot_form": "simplybook", **values}
    submit = teams.sim.card_submit(teams.olena, value, reply_to_id=form_id)
    return new_posts(teams, chat, lambda: send(teams, meetbot, submit))


def _connect_simplybook(teams: Tenant, meetbot: Meetbot) -> str:
    """The form: wrong credentials, then the right ones, the card replaced each time; returns the
    webhook token from the callback URL meetbot answers with."""
    sim, chat = teams.sim, teams.sim.personal_conversation(teams.olena)
    [form] = ask(teams, meetbot, teams.olena, "connect simplybook")
    assert "API secret" in text_of(form)
    wrong = {"login": LOGIN, "api_key": "wrong", "api_secret": API_SECRET}
    assert _submit_form(teams, meetbot, form["id"], **wrong) == []
    again = sim.activity(chat, form["id"])
    assert again is not None and "refused this company login" in text_of(again)
    assert "Company login: teams-studio" in text_of(again)
    right = {"login": LOGIN, "api_key": API_KEY, "api_secret": API_SECRET}
    [connected] = _submit_form(teams, meetbot, form["id"], **right)
    assert text_of(connected).startswith("Connected to SimplyBook.me as teams-studio")
    closed = sim.activity(chat, form["id"])
    assert closed is not None and len(closed["edits"]) == 2
    assert text_of(closed).startswith("SimplyBook.me details received")
    found = re.search(r"/webhooks/simplybook/(\S+)", text_of(connected))
    assert found is not None
    return found.group(1)


def _set_up_commands(teams: Tenant, meetbot: Meetbot, company_id: str) -> set[str]:
    """Commands in the 1:1 chat, then two in the channel; returns the channel threads used."""
    for command, expected in (
        ("enable", "Online meetings are on"),
        ("service enable Online yoga consultation", "Online meetings on for Online yoga"),
        ("provider Olena Koval zoom olena@studio.test", "Olena Koval hosts on Zoom"),
    ):
        [answer] = ask(teams, meetbot, teams.olena, command)
        assert text_of(answer).startswith(expected), text_of(answer)
    ivan = (teams.ivan, "Ivan Staff")
    [role] = ask_in_channel(
        teams, meetbot, teams.olena, "role <at>Ivan Staff</at> senior", mention=ivan
    )
    assert text_of(role).startswith("Role set\n@Ivan Staff is now *senior*")
    staff = meetbot.core.staff.staff(company_id=company_id)
    assert [(member.user_id, member.role) for member in staff] == [(IVAN_AAD, "senior")]
    [mapped] = ask_in_channel(teams, meetbot, teams.olena, "provider Olena Koval channel")
    assert text_of(mapped).startswith("Olena Koval's bookings go to #olena-bookings")
    assert mapped["thread_id"] == mapped["reply_to_id"], "answered in the command's thread"
    [provider] = meetbot.core.catalog.providers(company_id=company_id)
    assert provider.channel == ChatTarget(ChatPlatform.TEAMS, DEFAULT_TENANT_ID, teams.bookings)
    return {role["thread_id"], mapped["thread_id"]}


def _reschedule(world: SandboxWorld, booking_id: str) -> None:
    later = (datetime.now(ZoneInfo("Europe/Kyiv")) + timedelta(days=2)).replace(
        hour=15, minute=30, second=0, microsecond=0
    )
    end = later + timedelta(minutes=45)
    world.simplybook.update_booking(
        LOGIN, booking_id, start=f"{later:%Y-%m-%d %H:%M:%S}", end=f"{end:%Y-%m-%d %H:%M:%S}"
    )


def test_set_up_from_teams_then_bookings_reach_the_channel(
    teams: Tenant, meetbot: Meetbot, world: SandboxWorld
) -> None:
    sim, core = teams.sim, meetbot.core
    zoom_user = _company_world(world)
    chat = sim.personal_conversation(teams.olena)

    # Added to the team: a greeting in General, and the installer is the tenant's first admin.
    install(teams, meetbot)
    [greeting] = sim.activities(teams.team)
    assert "connect simplybook" in text_of(greeting)
    assert meetbot_installer(core) == OLENA_AAD
    [status] = ask(teams, meetbot, teams.olena, "status")
    assert text_of(status).startswith("meetbot is not connected yet")
    [refused] = ask(teams, meetbot, teams.ivan, "connect simplybook")
    assert text_of(refused).startswith("Not allowed")

    token = _connect_simplybook(teams, meetbot)
    company = core.companies.company_for_workspace(platform="teams", workspace_id=DEFAULT_TENANT_ID)
    assert company is not None
    _connect_zoom(core, world, company.id, zoom_user)
    threads = _set_up_commands(teams, meetbot, company.id)

    # A booking: a card posted proactively, as a new thread of that channel.
    booking = _book(world, MEAN_NAME, timedelta(minutes=5))
    deliver(meetbot.url, world, CallbackAddress(LOGIN, token), booking["id"], "create")
    [card] = new_posts(teams, teams.bookings, lambda: run_jobs(core))
    assert card["thread_id"] == card["id"]
    shown = text_of(card)
    assert shown.startswith("Online meeting: Online yoga consultation")
    assert f"Client: {MEAN_NAME}" in shown and "[Host link] http://127.0.0.1" in shown
    assert card["activity"]["channelData"]["meetbot"]["marker"]
    actions = activity_cards(card["activity"])[0]["actions"]
    [start] = [action for action in actions if action["type"] == "Action.Submit"]
    assert start["data"][ACTION_KEY] == "meetbot_start"

    # A new time: the same card, edited in place (a short note may follow in its thread).
    _reschedule(world, booking["id"])
    deliver(meetbot.url, world, CallbackAddress(LOGIN, token), booking["id"], "change")
    run_jobs(core)
    root = sim.activity(teams.bookings, card["id"])
    assert root is not None and len(root["edits"]) == 1
    assert "15:30–16:15" in sim.read_by(teams.olena, root), "in the reader's own zone"
    assert {post["thread_id"] for post in sim.activities(teams.bookings)} == {card["id"], *threads}

    # "Start meeting now" pressed in the channel: the host link goes to the presser alone.
    press = sim.card_submit(
        teams.olena, start["data"], reply_to_id=card["id"], conversation_id=teams.bookings
    )
    in_chat = new_posts(teams, chat, lambda: send(teams, meetbot, press))
    assert [text_of(post).splitlines()[0] for post in in_chat] == ["The meeting is open"]
    assert text_of(sim.activities(teams.bookings)[-1]) == "I answered you in our private chat"

    # The report arrives in the asker's chat, its CSV as text in a card.
    *report, sent = ask(teams, meetbot, teams.olena, "report")
    assert text_of(sent).startswith("Report sent")
    assert any("Teams does not take files from bots" in text_of(post) for post in report)

    # meetbot removed from the team: the next booking reaches the admin in their chat.
    sim.remove_bot(teams.team)
    second = _book(world, "Taras", timedelta(minutes=30))
    deliver(meetbot.url, world, CallbackAddress(LOGIN, token), second["id"], "create")
    run_jobs(core)
    told = [text_of(post) for post in sim.activities(chat)]
    assert any(t.startswith("For Olena Koval: Online meeting") and "Taras" in t for t in told)
    assert "removed from this team" in "\n".join(told)

    # No secret was ever posted: not in any card, any edit, or any request meetbot made.
    sent_bodies = "".join(request.body.decode("utf-8", "replace") for request in sim.requests)
    everything = json.dumps(sim.activities()) + sent_bodies
    assert API_SECRET not in everything and API_KEY not in everything


# The sender's answers to the Connector's refusals.


@SQLITE_ONLY
def test_connector_refusals_in_the_cores_words(
    teams: Tenant, meetbot: Meetbot, world: SandboxWorld
) -> None:
    install(teams, meetbot)
    ask_in_channel(teams, meetbot, teams.olena, "help")
    channel = ChatTarget(ChatPlatform.TEAMS, DEFAULT_TENANT_ID, teams.bookings)
    person = ChatTarget(ChatPlatform.TEAMS, DEFAULT_TENANT_ID, IVAN_AAD)
    message = ChatMessage(title="Hello")

    async def attempt(target: ChatTarget) -> Any:
        integrations = build_integrations(meetbot.core)
        assert integrations.teams is not None
        try:
            return await integrations.teams.post(target=target, message=message, marker="m-1")
        finally:
            await integrations.aclose()

    # Ivan never wrote to meetbot: his 1:1 chat is opened through the team's roster.
    posted = asyncio.run(attempt(person))
    assert posted.channel_id == teams.sim.personal_conversation(teams.ivan)
    teams.sim.throttle(retry_after=3)
    with pytest.raises(RetryLater) as throttled:
        asyncio.run(attempt(channel))
    assert throttled.value.after_seconds == 3.0
    teams.sim.fail_transiently(502)
    with pytest.raises(RetryLater):
        asyncio.run(attempt(channel))
    teams.sim.remove_bot(teams.team)
    with pytest.raises(ChatChannelUnavailable) as removed:
        asyncio.run(attempt(channel))
    assert removed.value.code == "BotNotInConversationRoster"

    # A stored reference that names another host is never called.
    store = SqlTeamsConversations(meetbot.core.engine)
    for reference_text in store.tenant_references(tenant_id=DEFAULT_TENANT_ID):
        reference = json.loads(reference_text)
        reference["serviceUrl"] = "https://attacker.example/teams/"
        store.remember(
            conversation=TeamsConversation(
                tenant_id=DEFAULT_TENANT_ID,
                conversation_id=reference["conversation"]["id"],
                conversation_type=reference["conversation"].get("conversationType", ""),
                service_url=reference["serviceUrl"],
                reference=json.dumps(reference),
            )
        )
    calls = len(teams.sim.requests)
    with pytest.raises(ServiceUrlRefused):
        asyncio.run(attempt(channel))
    assert len(teams.sim.requests) == calls


# The app package.


def test_manifest_validates_against_the_published_schema() -> None:
    schema_file = SCHEMAS / "teams-app-manifest.schema.json"
    if not schema_file.exists():
        if os.environ.get("CI"):
            pytest.fail(f"the published schema is missing: {schema_file}")
        pytest.skip("the shared schemas folder is not beside this repository")
    manifest = build_manifest(
        app_id="5c0f4ea5-6e2b-4a51-9d0c-6d2f1b1e7a11", public_url="https://bookings.yoga.example"
    )
    # The schema's own patterns use \\p{L}, which Python's re lacks: validate without checking it.
    validator = jsonschema.Draft4Validator(json.loads(schema_file.read_text()))
    assert list(validator.iter_errors(manifest)) == []
    assert manifest["validDomains"] == ["bookings.yoga.example"]
    [bot] = manifest["bots"]
    assert bot["botId"] == manifest["id"] and sorted(bot["scopes"]) == ["personal", "team"]


def test_manifest_commands_cover_the_grammar() -> None:
    assert covered_commands() == set(USAGE)
    assert len(COMMANDS) <= MAX_COMMANDS
    for title, description, _ in COMMANDS:
        assert len(title) <= MAX_TITLE and len(description) <= MAX_DESCRIPTION, title
        assert title in USAGE


def test_manifest_command_writes_the_package(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEETBOT_")}
    env.update(
        MEETBOT_PUBLIC_URL="https://bookings.yoga.example",
        MEETBOT_TEAMS_APP_ID="5c0f4ea5-6e2b-4a51-9d0c-6d2f1b1e7a11",
        MEETBOT_TEAMS_APP_PASSWORD="a-real-looking-app-password",
    )
    target = tmp_path / "app.zip"
    result = subprocess.run(
        [sys.executable, "-m", "app", "manifest", "teams", "--out", str(target)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(io.BytesIO(target.read_bytes())) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        color, outline = archive.read("color.png"), archive.read("outline.png")
    assert manifest["bots"][0]["botId"] == "5c0f4ea5-6e2b-4a51-9d0c-6d2f1b1e7a11"
    assert _png_size(color) == (192, 192) and _png_size(outline) == (32, 32)
    assert (
        package(app_id=manifest["id"], public_url="https://bookings.yoga.example")
        == target.read_bytes()
    )
    assert "a-real-looking-app-password" not in result.stdout + result.stderr


def _png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_botbuilder_stays_inside_adapters_teams() -> None:
    importers = []
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(("adapters/teams/", "tests/", "simulators/", ".venv/")):
            continue
        if re.search(r"^\s*(from|import)\s+(botbuilder|botframework)\b", path.read_text(), re.M):
            importers.append(relative)
    assert importers == []


def test_escape_is_idempotent_in_what_a_reader_sees() -> None:
    from adapters.teams.cards import unescape

    for text in ("plain", MEAN_NAME, "a\\b", "1) one\n- two", "x" * 10):
        assert unescape(escape(text)) == text
