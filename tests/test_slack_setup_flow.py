"""From an empty database to a posted booking message, only through Slack requests and the OAuth
redirects a browser would follow: install → SimplyBook.me form → Zoom OAuth → enable → service →
provider mapping → booking webhook → message in the provider's channel."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import httpx

from app.bootstrap import Core
from app.sandbox import SandboxWorld, message_as_text, wait_for

from .conftest import run_jobs
from .harness import say
from .signin_flow import ZOOM_START, Browser, confirmation, press, start_link
from .slack_platform import SlackPlatform

TEAM, OWNER = "TSHOP0001", "UOWNER001"


def _install(slack: SlackPlatform, world: SandboxWorld) -> None:
    with httpx.Client(follow_redirects=False, timeout=10) as browser:
        _install_with(browser, slack, world)


def _install_with(browser: httpx.Client, slack: SlackPlatform, world: SandboxWorld) -> None:
    page = browser.get(f"{slack.meetbot_url}/slack/install")
    assert page.status_code == 200
    authorize = re.search(r'href="([^"]+/oauth/v2/authorize[^"]+)"', page.text)
    assert authorize, page.text
    # bolt's state cookie is Secure: a browser on https would send it back, so this one does too.
    cookie = page.headers["set-cookie"].split(";", 1)[0]
    approved = browser.get(authorize.group(1).replace("&amp;", "&"))
    assert approved.status_code == 302
    finished = browser.get(approved.headers["location"], headers={"Cookie": cookie})
    assert finished.status_code == 200, finished.text
    greeting = world.slack.dm_messages(OWNER)
    assert greeting and "/meetings connect simplybook" in greeting[-1]["text"]


_say = partial(say, user=OWNER, answered_within=3.0)


def test_full_setup_through_slack_only(
    slack_app: tuple[Core, SlackPlatform], world: SandboxWorld
) -> None:
    core, slack = slack_app
    slack.team_id = TEAM
    world.slack.add_workspace(TEAM, name="Yoga Shop", bot_token="xoxb-TSHOP0001-installed")
    world.slack.add_user(TEAM, id=OWNER, name="owner", is_owner=True)
    channel = world.slack.add_channel(TEAM, name="olena-bookings")
    world.slack.authorizing_team, world.slack.authorizing_user = TEAM, OWNER
    world.simplybook.add_company(
        "yoga-shop",
        api_key="shop-api-key-1234",
        api_secret="shop-api-secret-1234",
        name="Yoga Shop",
        timezone="Europe/Kyiv",
    )
    world.simplybook.add_service("yoga-shop", id=7, name="Online yoga consultation")
    world.simplybook.add_provider("yoga-shop", id=3, name="Olena Koval")
    olena = world.zoom.add_user(account_id="acct-shop", email="olena@yoga.shop", first_name="Olena")

    _install(slack, world)
    assert "meetbot is not connected yet" in _say(slack, "status")

    assert _say(slack, "connect simplybook") == ""  # the answer is the form itself
    # The form is opened after the command is acknowledged: poll until it is there.
    assert wait_for(lambda: world.slack.views()), "the form was opened"
    [form] = world.slack.views()
    assert form["callback_id"] == "meetbot_simplybook"
    wrong = slack.submit_form(
        {"login": "yoga-shop", "api_key": "wrong", "api_secret": "x"}, user=OWNER
    )
    assert (
        wrong.json()["response_action"] == "errors"
        and "refused" in wrong.json()["errors"]["api_key"]
    )
    accepted = slack.submit_form(
        {
            "login": "yoga-shop",
            "api_key": "shop-api-key-1234",
            "api_secret": "shop-api-secret-1234",
        },
        user=OWNER,
    )
    assert accepted.status_code == 200 and not accepted.content
    assert wait_for(lambda: len(world.slack.dm_messages(OWNER)) == 2), (
        "the callback URL arrives by DM"
    )
    callback_url = re.search(
        r"(http://\S+/webhooks/simplybook/[\w-]+)", str(world.slack.dm_messages(OWNER)[-1])
    )
    assert callback_url, world.slack.dm_messages(OWNER)[-1]

    start = start_link(_say(slack, "connect zoom"), ZOOM_START)
    world.zoom.authorizing_user = ("acct-shop", olena["id"])
    browser = Browser(world)
    try:
        signed_in = browser.zoom(start)
        assert signed_in.status_code == 200 and "Confirm in chat" in signed_in.text
        callback = str(signed_in.url)
        reused = browser.client.get(callback)
        assert reused.status_code == 400 and "expired" in reused.text, "the state is single-use"
        again = browser.zoom(start)
        assert again.status_code == 400 and "expired" in again.text, "the start link is single-use"
    finally:
        browser.close()
    asked = confirmation(world, OWNER)
    assert "Zoom account acct-shop (olena@yoga.shop) will host Yoga Shop's meetings" in str(asked)
    assert "Zoom is connected" in press(world, slack, asked, "Confirm", user=OWNER)

    assert "Online meetings are on" in _say(slack, "enable")
    assert "Online meetings on for Online yoga consultation" in _say(
        slack, "service enable online yoga"
    )
    assert "hosts on Zoom as olena@yoga.shop" in _say(slack, "provider olena zoom olena@yoga.shop")
    assert "bookings go to" in _say(slack, f"provider olena channel <#{channel}|olena-bookings>")
    assert "Nothing needs attention." in _say(slack, "status")

    start = (datetime.now(ZoneInfo("Europe/Kyiv")) + timedelta(days=2)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    booking = world.simplybook.add_booking(
        "yoga-shop",
        service_id=7,
        provider_id=3,
        client_name="Iryna",
        client_email="i@example.test",
        start=f"{start:%Y-%m-%d %H:%M:%S}",
        end=f"{start + timedelta(hours=1):%Y-%m-%d %H:%M:%S}",
    )
    webhook = httpx.post(
        callback_url.group(1), json=world.simplybook.callback("yoga-shop", booking["id"])
    )
    assert webhook.status_code == 202
    run_jobs(core)

    [message] = wait_for(lambda: world.slack.messages(channel))
    text = message_as_text(message)
    assert "Online meeting: Online yoga consultation" in text and "Iryna" in text
    assert f"{slack.meetbot_url}/m/" in text and f"{slack.meetbot_url}/h/" in text
    assert len(world.zoom.live_meetings(olena["id"])) == 1


def test_a_company_served_by_one_workspace_cannot_be_taken_by_another(
    slack_app: tuple[Core, SlackPlatform], world: SandboxWorld
) -> None:
    from app.sandbox import seed_demo

    core, slack = slack_app
    demo = seed_demo(core, world)
    world.slack.add_workspace("TINTRUDER", bot_token="xoxb-TINTRUDER-x")
    core.workspaces.bind(
        company_id=None,
        platform="slack",
        external_id="TINTRUDER",  # type: ignore[arg-type]
        bot_token="xoxb-TINTRUDER-x",
    )
    world.slack.add_user("TINTRUDER", id="UINTRUDER", name="intruder", is_admin=True)
    answer = slack.submit_form(
        {
            "login": demo.login,
            "api_key": f"{demo.login}-api-key-0123456789",
            "api_secret": "guessed",
        },
        user="UINTRUDER",
        team="TINTRUDER",
    )
    assert answer.json()["response_action"] == "errors"
    assert "already connected to another chat workspace" in answer.json()["errors"]["login"]
    credentials = core.companies.simplybook_credentials(company_id=demo.company_id)
    assert credentials.api_secret == f"{demo.login}-api-secret-0123456789", (
        "nothing was overwritten"
    )
    assert core.companies.company_for_workspace(platform="slack", workspace_id="TINTRUDER") is None
