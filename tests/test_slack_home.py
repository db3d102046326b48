"""The Slack App Home over HTTP with the simulators: a provider's staff member sees that provider's
upcoming meetings with working host-link and Start buttons, an admin the set-up and open problems
with their fix buttons; nothing crosses from one company to another; the view is published again
when a booking changes. Every view Slack takes is checked against Block Kit's limits twice: by the
Slack simulator (which refuses it as Slack does) and by slack_sdk's own Block Kit models."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.models.views import View

from adapters.slack.home import render_home
from app.sandbox import Demo, SandboxWorld, book, seed_demo, wait_for
from bot.domain import Actor, AlertKind, ChatPlatform
from bot.home import MAX_MEETINGS, MAX_PROBLEMS, HomeMeeting, HomeProblem, HomeView
from bot.messages import START_ACTION, ActionButton, Fact
from bot.usecases import alerts
from simulators.block_kit import view_problems

from .harness import SlackCompany, deliver, make_admin, run_jobs
from .slack_platform import SIGNING_SECRET, SlackPlatform

OLENA = "UOLENA001"  # the demo studio's provider Olena Koval, on Slack
COACH = "UCOACH001"  # the gym's provider, whose SimplyBook.me id is the same ("1")
GYM_ADMIN = "UGYMADMIN"


def valid_home(view: dict[str, Any]) -> dict[str, Any]:
    """The view, after checking it against Block Kit's limits with slack_sdk's models (an
    independent reading of them), and with the simulator's check."""
    assert view["type"] == "home" and 1 <= len(view["blocks"]) <= 100
    modelled = View(**view).to_dict()  # raises SlackObjectFormationError beyond a limit
    assert None not in modelled["blocks"], "a block of a type slack_sdk does not know"
    assert view_problems(view) == []
    return view


def texts(view: dict[str, Any]) -> str:
    parts = []
    for block in view["blocks"]:
        text = block.get("text")
        parts.append(text.get("text", "") if isinstance(text, dict) else "")
        for element in block.get("elements") or []:
            inner = element.get("text")
            parts.append(inner.get("text", "") if isinstance(inner, dict) else str(inner or ""))
    return "\n".join(parts)


def buttons(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        element
        for block in view["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


@dataclass
class TwoCompanies:
    studio: SlackCompany
    gym: Demo

    @property
    def world(self) -> SandboxWorld:
        return self.studio.world

    @property
    def slack(self) -> SlackPlatform:
        return self.studio.slack

    def open_home(self, team_id: str, user_id: str) -> dict[str, Any]:
        """`user_id` opens the Home tab; the view Slack then shows, once meetbot published it."""
        before = len(self.world.slack.home_publications())
        answer = self.world.slack.open_home(
            team_id,
            user_id,
            events_url=f"{self.slack.meetbot_url}/slack/events",
            signing_secret=SIGNING_SECRET,
        )
        assert answer.status_code == 200, answer.text
        wait_for(lambda: len(self.world.slack.home_publications()) > before)
        shown = self.world.slack.home_view(team_id, user_id)
        assert shown is not None
        return valid_home(shown)


@pytest.fixture
def two(slack_company: SlackCompany) -> TwoCompanies:
    studio = slack_company
    gym = seed_demo(studio.core, studio.world, login="city-gym")
    studio.world.slack.add_user(studio.demo.team_id, id=OLENA, name="Olena Koval")
    studio.world.slack.add_user(gym.team_id, id=COACH, name="Coach")
    make_admin(studio.core, studio.world, gym, GYM_ADMIN, name="gym owner")
    assert "tied to Olena Koval" in studio.say(f"provider olena staff <@{OLENA}|olena>")
    coach = Actor(ChatPlatform.SLACK, gym.team_id, COACH)
    studio.core.staff.tie_staff(
        company_id=gym.company_id, actor=coach, user_id=COACH, provider_external_id="1"
    )
    return TwoCompanies(studio, gym)


def test_a_providers_staff_member_sees_their_meetings_and_no_other_companys(
    two: TwoCompanies,
) -> None:
    studio = two.studio
    mine = studio.book_and_sync(client_name="Iryna Studio-Client")
    gyms = book(two.world, two.gym, client_name="Petro Gym-Client", starts_in=timedelta(days=2))
    deliver(two.slack.meetbot_url, two.world, two.gym, gyms["id"])
    run_jobs(studio.core)
    assert studio.core.queue.jobs(kind="refresh_home") == []  # nobody opened Home yet

    olena = two.open_home(studio.demo.team_id, OLENA)
    coach = two.open_home(two.gym.team_id, COACH)

    assert "Iryna Studio-Client" in texts(olena) and "Petro" not in texts(olena)
    assert "Petro Gym-Client" in texts(coach) and "Iryna" not in texts(coach)
    assert "Set-up" not in texts(olena)  # staff, not an admin
    host, start = buttons(olena)
    meeting_id = studio.core.booking_records.meeting_id_for_booking(
        company_id=studio.demo.company_id, reference=mine["code"]
    )
    assert (start["action_id"], start["value"]) == (START_ACTION, meeting_id)
    assert host["url"].startswith(f"{two.slack.meetbot_url}/h/")
    opened = httpx.get(host["url"], follow_redirects=False, timeout=10)
    assert opened.status_code in (302, 303) and two.world.url("zoom") in opened.headers["location"]


def test_the_start_button_on_home_opens_the_meeting_and_answers_by_direct_message(
    two: TwoCompanies,
) -> None:
    studio = two.studio
    studio.book_and_sync()
    home = two.open_home(studio.demo.team_id, OLENA)
    [start] = [button for button in buttons(home) if button["action_id"] == START_ACTION]

    pressed = two.slack.interaction(_pressed_on_home(studio.demo.team_id, OLENA, home, start))
    assert pressed.status_code == 200

    wait_for(lambda: studio.dms(OLENA))
    assert "The meeting is open" in studio.dms(OLENA)[-1]
    studio.run_jobs()  # the change queued a Home refresh
    shown = valid_home(two.world.slack.home_view(studio.demo.team_id, OLENA) or {})
    assert "Open: clients can join now." in texts(shown)
    assert START_ACTION not in [button["action_id"] for button in buttons(shown)]


def test_an_admin_sees_the_set_up_and_the_open_problems_with_their_fix_buttons(
    two: TwoCompanies,
) -> None:
    studio = two.studio
    core = studio.core
    core.alerts.raise_alert(
        company_id=studio.demo.company_id, spec=alerts.zoom_revoked("Zoom refused the token")
    )
    core.alerts.raise_alert(company_id=two.gym.company_id, spec=alerts.kiosk_on())

    admin = two.open_home(studio.demo.team_id, studio.admin.user_id)
    gym_admin = two.open_home(two.gym.team_id, GYM_ADMIN)

    assert "Online meetings:* on" in texts(admin)
    assert "Zoom needs reconnecting" in texts(admin) and "Kiosk" not in texts(admin)
    assert "Kiosk" in texts(gym_admin) and "Zoom needs reconnecting" not in texts(gym_admin)
    [fix] = buttons(admin)
    assert fix["action_id"] == alerts.ACTION_RECONNECT_ZOOM

    pressed = two.slack.interaction(
        _pressed_on_home(studio.demo.team_id, studio.admin.user_id, admin, fix)
    )
    assert pressed.status_code == 200
    wait_for(lambda: studio.dms())
    assert "/oauth/zoom/start" in studio.dms()[-1]  # the same sign-in link as the alert's DM

    # A set-up change and a resolved problem reach the Home without it being opened again.
    studio.say("disable")
    core.alerts.resolve(
        company_id=studio.demo.company_id, kind=AlertKind.ACCOUNT_REVOKED, resolution="fixed"
    )
    studio.run_jobs()
    shown = valid_home(two.world.slack.home_view(studio.demo.team_id, studio.admin.user_id) or {})
    assert "Online meetings:* off" in texts(shown)
    assert "No open problems." in texts(shown) and buttons(shown) == []


def test_a_workspace_admin_demoted_in_slack_no_longer_sees_the_admins_home(
    two: TwoCompanies,
) -> None:
    """A workspace admin without a meetbot role is a meetbot admin only while Slack says so:
    each refresh asks Slack again (users.info), so a demotion shows at the next change."""
    studio = two.studio
    team = studio.demo.team_id
    two.world.slack.add_user(team, id="UOWNER01", name="Former Owner", is_admin=True)
    assert "Set-up" in texts(two.open_home(team, "UOWNER01"))
    two.open_home(team, studio.admin.user_id)  # an admin by meetbot role, and a Slack admin

    two.world.slack.add_user(team, id="UOWNER01", name="Former Owner", is_admin=False)
    studio.core.alerts.raise_alert(
        company_id=studio.demo.company_id, spec=alerts.zoom_revoked("Zoom refused the token")
    )
    studio.run_jobs()

    shown = valid_home(two.world.slack.home_view(team, "UOWNER01") or {})
    assert "Set-up" not in texts(shown) and "Zoom needs reconnecting" not in texts(shown)
    assert buttons(shown) == []
    admin = valid_home(two.world.slack.home_view(team, studio.admin.user_id) or {})
    assert "Zoom needs reconnecting" in texts(admin)  # refreshed, and still an admin's Home


def test_home_offers_start_once_the_booking_is_paid(two: TwoCompanies) -> None:
    studio = two.studio
    booking = studio.book_and_sync(payment_status="not_paid")
    unpaid = two.open_home(studio.demo.team_id, OLENA)
    assert "Awaiting payment" in texts(unpaid)
    assert START_ACTION not in [button["action_id"] for button in buttons(unpaid)]

    two.world.simplybook.update_booking(studio.demo.login, booking["id"], payment_status="paid")
    studio.deliver(booking, "change")
    studio.run_jobs()

    paid = valid_home(two.world.slack.home_view(studio.demo.team_id, OLENA) or {})
    assert START_ACTION in [button["action_id"] for button in buttons(paid)]


def test_home_follows_a_cancellation_without_being_opened_again(two: TwoCompanies) -> None:
    studio = two.studio
    kept = studio.book_and_sync(client_name="Stays Booked")
    gone = studio.book_and_sync(client_name="Will Cancel")
    assert "Will Cancel" in texts(two.open_home(studio.demo.team_id, OLENA))
    published = len(two.world.slack.home_publications())

    two.world.simplybook.update_booking(studio.demo.login, gone["id"], status="cancelled")
    studio.deliver(gone, "cancel")
    studio.run_jobs()

    shown = valid_home(two.world.slack.home_view(studio.demo.team_id, OLENA) or {})
    assert "Will Cancel" not in texts(shown) and kept["client_name"] in texts(shown)
    # Only the viewer whose Home changed got a new view (nobody of the other company).
    assert {
        (p["team_id"], p["user_id"]) for p in two.world.slack.home_publications()[published:]
    } == {(studio.demo.team_id, OLENA)}


def test_home_shows_a_new_meeting_without_being_opened_again(two: TwoCompanies) -> None:
    studio = two.studio
    studio.book_and_sync(client_name="First Client")
    assert "Second Client" not in texts(two.open_home(studio.demo.team_id, OLENA))

    studio.book_and_sync(client_name="Second Client")

    shown = valid_home(two.world.slack.home_view(studio.demo.team_id, OLENA) or {})
    assert "Second Client" in texts(shown)


def test_a_workspace_member_without_a_role_gets_the_way_to_their_meetings(
    two: TwoCompanies,
) -> None:
    two.world.slack.add_user(two.studio.demo.team_id, id="UNEWBIE", name="Newbie")

    shown = two.open_home(two.studio.demo.team_id, "UNEWBIE")

    assert "/meetings provider NAME staff @you" in texts(shown)
    assert buttons(shown) == []


def test_the_largest_home_stays_within_block_kit_limits() -> None:
    """The most a view can hold, with names far beyond every limit: Slack would take it."""
    long = "Ω&<>" * 1000
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    view = HomeView(
        title=long,
        intro=long,
        meetings=tuple(
            HomeMeeting(
                title=long,
                start=start,
                end=start + timedelta(hours=1),
                when=long,
                host_link="https://meetbot.example/h/" + "t" * 40,
                state=long,
                start_button=ActionButton(long, START_ACTION, "m" * 3000, "primary"),
            )
            for _ in range(MAX_MEETINGS)
        ),
        meetings_note=long,
        admin=True,
        setup=tuple(Fact(long, long) for _ in range(8)),
        todo=tuple(long for _ in range(40)),
        problems=tuple(
            HomeProblem(long, long, long, ActionButton(long, "meetbot_x", long, "primary"))
            for _ in range(MAX_PROBLEMS)
        ),
        problems_note=long,
        note=long,
    )

    valid_home(render_home(view))


def _pressed_on_home(
    team_id: str, user_id: str, home: dict[str, Any], button: dict[str, Any]
) -> dict[str, Any]:
    """A button pressed on the Home tab: Slack sends the view, and no response_url."""
    block = next(b for b in home["blocks"] if button in (b.get("elements") or []))
    return {
        "type": "block_actions",
        "team": {"id": team_id},
        "user": {"id": user_id, "team_id": team_id},
        "api_app_id": "A0MEETBOT",
        "container": {"type": "view", "view_id": home["id"]},
        "trigger_id": f"trigger-{time.monotonic_ns()}",
        "view": home,
        "actions": [
            {
                "action_id": button["action_id"],
                "block_id": block.get("block_id", "b"),
                "type": "button",
                "value": button.get("value", ""),
                "action_ts": str(time.time()),
            }
        ],
    }


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(fields=st.dictionaries(st.sampled_from(["user", "channel", "tab", "view", "team"]), JSON))
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_home_event_of_any_shape_is_a_server_error(
    two: TwoCompanies, fields: dict[str, Any]
) -> None:
    answer = two.world.slack.send_event(
        two.studio.demo.team_id,
        {"type": "app_home_opened", **fields},
        events_url=f"{two.slack.meetbot_url}/slack/events",
        signing_secret=SIGNING_SECRET,
    )
    assert answer.status_code in (200, 400), answer.text


def test_malformed_home_events_are_refused_without_a_server_error(two: TwoCompanies) -> None:
    for event in (
        {"type": "app_home_opened", "user": 7, "tab": "home"},
        {"type": "app_home_opened", "tab": "home"},
        {"type": "app_home_opened", "user": OLENA, "channel": ["D1"], "tab": "home"},
        {"type": "app_home_opened", "user": OLENA, "tab": "home", "view": "x"},
    ):
        answer = two.world.slack.send_event(
            two.studio.demo.team_id,
            event,
            events_url=f"{two.slack.meetbot_url}/slack/events",
            signing_secret=SIGNING_SECRET,
        )
        assert answer.status_code == 400, (event, answer.text)
    assert two.world.slack.home_publications() == []


def test_names_on_home_render_literally() -> None:
    """A client or provider name is shown as typed: it can neither mention nor disguise a link."""
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    hostile = "<!channel> <https://evil.example|your bank> <@U0ADMIN>"
    view = HomeView(
        title="meetbot for Studio",
        intro=f"You hold {hostile}'s meetings.",
        meetings=(
            HomeMeeting(
                title=f"Yoga · {hostile}",
                start=start,
                end=start + timedelta(hours=1),
                when="Tue 01 Dec 2026, 11:00–12:00 (Europe/Kyiv)",
                host_link="https://meetbot.example/h/t",
            ),
        ),
    )

    shown = texts(valid_home(render_home(view)))

    assert "<!channel>" not in shown and "<https://evil" not in shown and "<@U0ADMIN>" not in shown
    assert shown.count("&lt;!channel&gt;") == 2


def test_long_names_on_home_are_cut_at_a_word_with_an_ellipsis() -> None:
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    words = "Deep stretching and breathing for complete beginners " * 40
    view = HomeView(
        title=f"meetbot for {words}",
        intro="You hold Olena's meetings.",
        meetings=(
            HomeMeeting(
                title=f"{words} · Ann",
                start=start,
                end=start + timedelta(hours=1),
                when="Tue 01 Dec 2026, 11:00–12:00 (Europe/Kyiv)",
                host_link="https://meetbot.example/h/t",
                start_button=ActionButton(words, START_ACTION, "m1", "primary"),
            ),
        ),
        admin=True,
        problems=(HomeProblem(words, words * 2, "01 Dec 2026 09:00 (UTC)"),),
    )

    shown = valid_home(render_home(view))

    header = shown["blocks"][0]["text"]["text"]
    meeting = next(b for b in shown["blocks"] if b.get("block_id") == "meeting_0")
    problem = next(b for b in shown["blocks"] if b.get("block_id") == "problem_0")
    [start_button] = [b for b in buttons(shown) if b["action_id"] == START_ACTION]
    cut = [
        header,
        meeting["text"]["text"].split("*")[1],
        problem["text"]["text"].split("*")[1],
        start_button["text"]["text"],
    ]
    for text in cut:
        assert text.endswith("…"), text
        kept = text.removesuffix("…").removeprefix("meetbot for ")
        assert words.startswith(kept) and words[len(kept)] == " ", text  # a whole word kept
    assert len(header) <= 150 and len(start_button["text"]["text"]) <= 75
    assert problem["text"]["text"].endswith("…") and len(problem["text"]["text"]) <= 3000
