"""`/meetings` as Slack sends it: signed, form-encoded, over real HTTP; each answers within 3 s and
does what it says in the database. Roles are enforced and tenants are walls."""

from __future__ import annotations

from functools import partial
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.bootstrap import Core
from app.sandbox import Demo, SandboxWorld, seed_demo, wait_for
from storage.tables import ProviderRow

from .conftest import run_jobs
from .harness import say
from .slack_platform import SlackPlatform, reply_text

ADMIN, JUNIOR, OUTSIDER = "UADMIN01", "UJUNIOR1", "UNOBODY1"


@pytest.fixture
def setup(
    slack_app: tuple[Core, SlackPlatform], world: SandboxWorld
) -> tuple[Core, SlackPlatform, Demo]:
    core, slack = slack_app
    demo = seed_demo(core, world)
    world.slack.add_user(demo.team_id, id=ADMIN, name="owner", is_admin=True)
    world.slack.add_user(demo.team_id, id=JUNIOR, name="junior")
    world.slack.add_user(demo.team_id, id=OUTSIDER, name="outsider")
    world.simplybook.add_service(demo.login, id=2, name="Pilates für Anfänger")
    world.simplybook.add_provider(demo.login, id=2, name="Maria Petrenko")
    slack.team_id = demo.team_id
    return core, slack, demo


_say = partial(say, answered_within=3.0)


def test_help_for_empty_and_unknown_input(setup: tuple[Core, SlackPlatform, Demo]) -> None:
    _, slack, _ = setup
    assert "/meetings connect simplybook" in _say(slack, "")
    unknown = _say(slack, "statsu", user=OUTSIDER)
    assert "I don't know the command “statsu”. Did you mean `/meetings status`?" in unknown
    assert "*Examples*" in unknown


def test_status_shows_the_whole_setup(setup: tuple[Core, SlackPlatform, Demo]) -> None:
    _, slack, demo = setup
    text = _say(slack, "status")
    assert "Online meetings:* on" in text
    assert f"connected as {demo.login} (Europe/Kyiv)" in text
    assert "Zoom:* connected (account acct-demo-studio)" in text
    assert "Online yoga consultation" in text
    assert (
        f"Olena Koval: Zoom, hosted by olena@demo-studio.test; <#{demo.channel_id}>; nobody is "
        "told of changes by name (`/meetings provider Olena Koval staff @person`)"
    ) in text, "a host's e-mail, not Zoom's id for them, and the staff still to map"
    assert demo.zoom_user_id not in text


def test_services_and_forgiving_service_names(setup: tuple[Core, SlackPlatform, Demo]) -> None:
    core, slack, demo = setup
    listing = _say(slack, "services")
    assert (
        "Pilates für Anfänger:* off" in listing
        and "Online yoga consultation:* online meetings on" in listing
    )
    assert "Online meetings on for Pilates für Anfänger" in _say(
        slack, "service enable PILATES fur"
    )
    assert core.catalog.service(company_id=demo.company_id, external_id="2").online_meetings  # type: ignore[union-attr]
    assert "Online meetings off for Online yoga consultation" in _say(
        slack, "service disable onl yoga"
    )
    assert not core.catalog.service(company_id=demo.company_id, external_id="1").online_meetings  # type: ignore[union-attr]
    assert "Did you mean: Pilates für Anfänger?" in _say(
        slack, "service enable Pilatse fur Anfanger"
    )


def test_ambiguous_names_ask_for_more(
    setup: tuple[Core, SlackPlatform, Demo], world: SandboxWorld
) -> None:
    _, slack, demo = setup
    world.simplybook.add_service(demo.login, id=3, name="Pilates advanced")
    _say(slack, "services")
    assert "More than one service starts with “pilates”" in _say(slack, "service enable pilates")


def test_provider_mapping_commands(
    setup: tuple[Core, SlackPlatform, Demo], world: SandboxWorld
) -> None:
    core, slack, demo = setup
    maria_zoom = world.zoom.add_user(
        account_id=f"acct-{demo.login}", email="maria@demo-studio.test", first_name="Maria"
    )
    channel = world.slack.add_channel(demo.team_id, name="maria-bookings")
    _say(slack, "providers")
    assert "Maria Petrenko hosts on Zoom as maria@demo-studio.test" in _say(
        slack, "provider maria zoom <mailto:MARIA@demo-studio.test|MARIA@demo-studio.test>"
    )
    assert f"Maria Petrenko's bookings go to <#{channel}>" in _say(
        slack, f"provider Maria Petrenko channel <#{channel}|maria-bookings>"
    )
    assert "is tied to Maria Petrenko" in _say(slack, f"provider maria staff <@{JUNIOR}|junior>")
    provider = core.catalog.provider(company_id=demo.company_id, external_id="2")
    assert provider is not None and provider.zoom_user == maria_zoom["id"]
    assert provider.channel is not None and provider.channel.channel_id == channel
    member = core.staff.staff_member(company_id=demo.company_id, actor=_actor(demo, JUNIOR))
    assert member is not None and (member.role, member.provider_external_id) == ("junior", "2")
    assert "not a user of the connected Zoom account" in _say(
        slack, "provider maria zoom nobody@x.test"
    )
    listing = _say(slack, "providers")
    assert f"Maria Petrenko: Zoom, hosted by maria@demo-studio.test; <#{channel}>\n" in listing


def _actor(demo: Demo, user: str):  # type: ignore[no-untyped-def]
    from bot.domain import Actor, ChatPlatform

    return Actor(ChatPlatform.SLACK, demo.team_id, user)


def test_channel_defaults_to_where_the_command_was_typed(
    setup: tuple[Core, SlackPlatform, Demo],
) -> None:
    core, slack, demo = setup
    _say(slack, "providers")
    _say(slack, "provider maria channel", channel="CHERE001")
    provider = core.catalog.provider(company_id=demo.company_id, external_id="2")
    assert (
        provider is not None
        and provider.channel is not None
        and provider.channel.channel_id == "CHERE001"
    )


def test_roles(setup: tuple[Core, SlackPlatform, Demo]) -> None:
    core, slack, demo = setup
    assert "Not allowed" in _say(slack, "status", user=JUNIOR)
    assert "is now *junior*" in _say(slack, f"role <@{JUNIOR}> junior")
    assert "meetbot status" in _say(slack, "status", user=JUNIOR)
    assert "needs the *admin* role" in _say(slack, "enable", user=JUNIOR)
    assert "is now *admin*" in _say(slack, f"role <@{JUNIOR}> admin")
    assert "Online meetings are on" in _say(slack, "enable", user=JUNIOR)
    assert "You cannot lower your own role" in _say(slack, f"role <@{ADMIN}> junior")
    assert "Role removed" in _say(slack, f"role <@{JUNIOR}|junior> none")
    member = core.staff.staff_member(company_id=demo.company_id, actor=_actor(demo, JUNIOR))
    assert member is not None and member.role is None


def test_typos_get_usage(setup: tuple[Core, SlackPlatform, Demo]) -> None:
    _, slack, _ = setup
    assert "Usage: `/meetings role @user admin|senior|junior|none`" in _say(slack, "role bob boss")
    assert "Usage: `/meetings provider NAME zoom EMAIL" in _say(
        slack, "provider maria zoom not-an-email"
    )
    assert "Say what to connect: simplybook, zoom, teams or webhook." in _say(
        slack, "connect skype"
    )


ADMIN_COMMANDS = [
    "enable",
    "disable",
    "connect simplybook",
    "connect zoom",
    "disconnect zoom",
    "service enable Online yoga",
    "provider Olena zoom olena@demo-studio.test",
    "provider Olena channel <#C1|x>",
    f"provider Olena staff <@{JUNIOR}>",
    f"role <@{OUTSIDER}> admin",
]


@pytest.mark.parametrize("text", ADMIN_COMMANDS)
def test_non_admins_are_refused_with_the_role_needed(
    setup: tuple[Core, SlackPlatform, Demo], world: SandboxWorld, text: str
) -> None:
    core, slack, demo = setup
    before = (
        core.catalog.providers(company_id=demo.company_id),
        core.companies.company(company_id=demo.company_id),
    )
    reply = _say(slack, text, user=OUTSIDER)
    assert "This command needs the *admin* role in meetbot" in reply
    assert (
        core.catalog.providers(company_id=demo.company_id),
        core.companies.company(company_id=demo.company_id),
    ) == before
    assert world.slack.views() == []


def test_another_workspace_cannot_touch_this_company(
    setup: tuple[Core, SlackPlatform, Demo], world: SandboxWorld
) -> None:
    core, slack, demo = setup
    world.slack.add_workspace("TOTHER01", bot_token="xoxb-TOTHER01-sandbox")
    core.workspaces.bind(
        company_id=None,
        platform="slack",
        external_id="TOTHER01",  # type: ignore[arg-type]
        bot_token="xoxb-TOTHER01-sandbox",
    )
    world.slack.add_user("TOTHER01", id="UOTHERADM", name="other admin", is_admin=True)
    for text in ("status", "disable", "service disable Online yoga", f"role <@{ADMIN}> junior"):
        reply = _say(slack, text, user="UOTHERADM", team="TOTHER01")
        assert "meetbot is not connected yet" in reply
    assert core.companies.company(company_id=demo.company_id).online_meetings_enabled


def test_kiosk_blocks_enable_and_client_login_is_recommended(
    setup: tuple[Core, SlackPlatform, Demo], world: SandboxWorld
) -> None:
    core, slack, demo = setup
    _say(slack, "disable")
    world.simplybook.set_plugin(demo.login, "kiosk", True)
    refused = _say(slack, "enable")
    assert "Online meetings cannot be turned on" in refused and "Kiosk" in refused
    assert not core.companies.company(company_id=demo.company_id).online_meetings_enabled
    world.simplybook.set_plugin(demo.login, "kiosk", False)
    world.simplybook.set_plugin(demo.login, "client_login", False)
    accepted = _say(slack, "enable")
    assert "Online meetings are on" in accepted and "Recommended: turn on Client Login" in accepted
    world.simplybook.set_plugin(demo.login, "client_login", True)
    _say(slack, "disable")
    assert "Recommended" not in _say(slack, "enable")
    assert core.companies.company(company_id=demo.company_id).online_meetings_enabled


def test_disconnect_zoom_asks_then_deletes_tokens(setup: tuple[Core, SlackPlatform, Demo]) -> None:
    core, slack, demo = setup
    assert "Disconnect Zoom?" in _say(slack, "disconnect zoom")
    assert core.zoom_accounts.zoom_account(company_id=demo.company_id) is not None
    pressed = slack.press("meetbot_zoom_disconnect", user=ADMIN)
    assert pressed.status_code == 200
    assert wait_for(lambda: _posted(slack, "Zoom is disconnected"))
    assert core.zoom_accounts.zoom_account(company_id=demo.company_id) is None
    assert slack.press("meetbot_zoom_disconnect", user=OUTSIDER).status_code == 200
    assert wait_for(lambda: _posted(slack, "Only a meetbot admin"))


def test_reconnecting_zoom_asks_first_then_offers_sign_in(
    setup: tuple[Core, SlackPlatform, Demo],
) -> None:
    _, slack, _ = setup
    asked = _say(slack, "connect zoom")
    assert "Replace the connected Zoom account?" in asked and "/oauth/zoom/start" not in asked
    slack.press("meetbot_zoom_replace", user=ADMIN)
    assert wait_for(lambda: _posted(slack, "/oauth/zoom/start?id=")), "the sign-in button follows"
    assert _posted(slack, "Connect Zoom")


def _posted(slack: SlackPlatform, text: str) -> bool:
    return any(text in str(post) for post in slack.world.slack.response_posts())


def test_single_workspace_mode_with_a_bot_token(make_core: Any, world: SandboxWorld) -> None:
    from app.web import build_web_app
    from simulators.server import BackgroundServer

    from .slack_platform import SIGNING_SECRET

    core = make_core(slack_signing_secret=SIGNING_SECRET, slack_bot_token="xoxb-T0001-single")
    world.slack.add_workspace("T0001", bot_token="xoxb-T0001-single")
    world.slack.add_user("T0001", id=ADMIN, name="owner", is_admin=True)
    with BackgroundServer(build_web_app(core), name="meetbot") as server:
        slack = SlackPlatform(world, server.url, team_id="T0001")
        assert "meetbot is not connected yet" in _say(slack, "status")
        assert httpx.get(f"{server.url}/slack/install").status_code == 404, (
            "no install flow in this mode"
        )


def test_oauth_states_are_single_use_and_expire(core: Core) -> None:
    from datetime import timedelta

    from bot.domain import Actor, ChatPlatform
    from storage.oauth_states import SqlOAuthStates

    class Clock:
        moment = core.clock.now()

        def now(self):  # type: ignore[no-untyped-def]
            return self.moment

    clock = Clock()
    states = SqlOAuthStates(core.engine, clock)  # type: ignore[arg-type]
    actor = Actor(ChatPlatform.SLACK, "T1", "U1")
    used = states.issue(purpose="zoom_connect", company_id=None, actor=actor, ttl_seconds=60)
    assert states.consume(purpose="zoom_connect", state=used) == (None, actor)
    assert states.consume(purpose="zoom_connect", state=used) is None
    stale = states.issue(purpose="zoom_connect", company_id=None, actor=actor, ttl_seconds=60)
    assert states.consume(purpose="slack_install", state=stale) is None, (
        "a state is bound to its purpose"
    )
    clock.moment += timedelta(seconds=61)
    assert states.consume(purpose="zoom_connect", state=stale) is None


def test_bookings_held_up_by_setup_go_ahead_once_it_is_fixed(
    setup: tuple[Core, SlackPlatform, Demo], world: SandboxWorld
) -> None:
    from app.sandbox import book, message_as_text
    from bot.domain import MeetingPlatform

    core, slack, demo = setup
    core.catalog.map_provider(
        company_id=demo.company_id, external_id=demo.provider_id, platform=MeetingPlatform.ZOOM
    )  # no host ...
    with Session(core.engine) as session, session.begin():  # ... and no channel
        provider = session.scalars(select(ProviderRow)).one()
        provider.chat_platform = provider.chat_workspace_id = provider.chat_channel_id = None
    booking = book(world, demo)
    httpx.post(
        f"{slack.meetbot_url}/webhooks/simplybook/{demo.webhook_token}",
        json=world.simplybook.callback(demo.login, booking["id"]),
    )
    run_jobs(core)
    assert world.zoom.created_count() == 0
    assert "provider 'Olena Koval' has no Zoom host user chosen" in _say(slack, "status")

    reply = _say(slack, f"provider olena zoom olena@{demo.login}.test")
    assert "1 upcoming booking(s) that were waiting for this are being set up now." in reply
    run_jobs(core)
    assert world.zoom.created_count() == 1 and world.slack.messages(demo.channel_id) == []
    held = core.booking_records.booking(company_id=demo.company_id, external_id=booking["id"])
    assert held is not None
    assert held[1] == (
        "no channel is chosen for Olena Koval's bookings, and no admin is known to tell"
    )

    assert "1 upcoming booking(s)" in _say(
        slack, f"provider olena channel <#{demo.channel_id}|olena-bookings>"
    )
    run_jobs(core)
    [message] = world.slack.messages(demo.channel_id)
    assert "Online meeting: Online yoga consultation" in message_as_text(message)
    assert world.zoom.created_count() == 1
    released = core.booking_records.booking(company_id=demo.company_id, external_id=booking["id"])
    assert released is not None and released[1] is None
    assert "Nothing needs attention." in _say(slack, "status")


def test_slow_work_is_acknowledged_at_once_and_answered_by_response_url(
    setup: tuple[Core, SlackPlatform, Demo], world: SandboxWorld
) -> None:
    core, slack, _ = setup
    world.simplybook.faults.latency = 1.5  # two calls (services, providers): well past 2 s
    answer = slack.command("services", user=ADMIN)
    assert answer.status_code == 200 and answer.extensions["elapsed_seconds"] < 3.0
    assert "Working on it" in reply_text(answer)
    [job] = [job for job in core.queue.jobs() if job.kind == "chat_command"]
    assert job.state == "pending", "the slow work is a durable job"
    world.simplybook.faults.latency = 0
    run_jobs(core)
    assert wait_for(lambda: _posted(slack, "Pilates für Anfänger"), timeout=15)
    assert [j.state for j in core.queue.jobs() if j.kind == "chat_command"] == ["done"]
