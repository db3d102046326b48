"""The SimplyBook.me form proves the credentials with a fresh login every time, and a refusal
says the same whatever other companies meetbot serves."""

from __future__ import annotations

from app.bootstrap import Core
from app.sandbox import SandboxWorld, wait_for

from .slack_platform import SlackPlatform
from .test_slack_setup_flow import OWNER, TEAM, _install

RIGHT = {"login": "yoga-shop", "api_key": "shop-api-key-1234", "api_secret": "shop-secret-1234"}


def _ready(slack: SlackPlatform, world: SandboxWorld) -> None:
    slack.team_id = TEAM
    world.slack.add_workspace(TEAM, name="Yoga Shop", bot_token="xoxb-TSHOP0001-installed")
    world.slack.add_user(TEAM, id=OWNER, name="owner", is_owner=True)
    world.slack.authorizing_team, world.slack.authorizing_user = TEAM, OWNER
    world.simplybook.add_company(
        "yoga-shop", api_key=RIGHT["api_key"], api_secret=RIGHT["api_secret"], name="Yoga Shop"
    )
    _install(slack, world)


def test_a_wrong_api_key_is_refused_right_after_the_right_one(
    slack_app: tuple[Core, SlackPlatform], world: SandboxWorld
) -> None:
    core, slack = slack_app
    _ready(slack, world)
    accepted = slack.submit_form(RIGHT, user=OWNER)
    assert accepted.status_code == 200 and not accepted.content
    assert wait_for(lambda: len(world.slack.dm_messages(OWNER)) == 2), "connected"

    wrong = slack.submit_form({**RIGHT, "api_key": "shop-api-key-WRONG"}, user=OWNER)

    assert wrong.json()["response_action"] == "errors"
    assert "refused" in wrong.json()["errors"]["api_key"]
    company = core.companies.company_for_workspace(platform="slack", workspace_id=TEAM)
    assert company is not None
    stored = core.companies.simplybook_credentials(company_id=company.id)
    assert stored.api_key == RIGHT["api_key"], "the refused key was not saved"


def test_a_refusal_does_not_tell_whether_meetbot_serves_the_login(
    slack_app: tuple[Core, SlackPlatform], world: SandboxWorld
) -> None:
    _core, slack = slack_app
    _ready(slack, world)
    assert slack.submit_form(RIGHT, user=OWNER).status_code == 200

    served = slack.submit_form({**RIGHT, "api_key": "guessed-key-000"}, user=OWNER)
    unknown = slack.submit_form(
        {**RIGHT, "login": "nobody-shop", "api_key": "guessed-key-000"}, user=OWNER
    )

    assert served.json() == unknown.json()
    assert "refused" in served.json()["errors"]["api_key"]


def test_a_zone_folder_from_the_booking_system_is_not_taken_for_a_zone(
    slack_app: tuple[Core, SlackPlatform], world: SandboxWorld
) -> None:
    core, slack = slack_app
    _ready(slack, world)
    world.simplybook.add_company(  # "Europe" is a folder of the zone database, not a zone
        "yoga-shop",
        api_key=RIGHT["api_key"],
        api_secret=RIGHT["api_secret"],
        name="Yoga Shop",
        timezone="Europe",
    )

    accepted = slack.submit_form(RIGHT, user=OWNER)

    assert accepted.status_code == 200 and not accepted.content
    assert wait_for(lambda: len(world.slack.dm_messages(OWNER)) == 2), "connected"
    company = core.companies.company_for_workspace(platform="slack", workspace_id=TEAM)
    assert company is not None and company.timezone != "Europe"
