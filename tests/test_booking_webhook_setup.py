"""The booking webhook set up from chat (issue 17, must show 4): its secret is shown once, in the
admin's private answer only, stored encrypted, and rotated with the old one accepted until it is
retired. A business without SimplyBook.me starts with it."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.slack.app import reply_payload
from adapters.teams.activities import answered_privately
from bot.commands.reply import say, secretly
from bot.domain import Actor, ChatPlatform
from bot.domain.installations import ChatInstallation
from bot.errors import AlreadyConnected
from storage.tables import CompanyRow, WebhookSourceRow

from .booking_webhook_sender import BookingSender
from .conftest import count_rows
from .harness import ADMIN, SQLITE_ONLY, SlackCompany
from .teams_platform import Meetbot, Tenant, ask_in_channel, install, new_posts, text_of

SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]+")
ADDRESS = re.compile(r"http://\S+/webhooks/bookings/([0-9a-f]+)")


def _connected(company: SlackCompany) -> tuple[BookingSender, str]:
    reply = company.say("connect webhook")
    secret, address = SECRET.search(reply), ADDRESS.search(reply)
    assert secret is not None and address is not None, reply
    sender = BookingSender(
        company.slack.meetbot_url, address.group(1), secret.group(0), company.demo
    )
    return sender, reply


def test_the_secret_is_shown_once_privately_and_stored_encrypted(
    slack_company: SlackCompany,
) -> None:
    sender, reply = _connected(slack_company)

    assert "shown only now" in reply
    again = slack_company.say("connect webhook")
    assert "already connected" in again and sender.url in again and "whsec_" not in again
    status = slack_company.say("status")
    assert "Booking webhook" in status and "whsec_" not in status
    with Session(slack_company.core.engine) as session:
        stored = session.scalars(select(WebhookSourceRow.secrets_enc)).one()  # type: ignore[call-overload]
    assert sender.secret not in stored and "whsec_" not in stored
    channels = slack_company.world.slack.messages(slack_company.demo.channel_id)
    assert all(sender.secret not in str(message) for message in channels)
    assert sender.post(sender.event("setup-1")).status_code == 202


def test_rotation_accepts_the_old_secret_until_it_is_retired(slack_company: SlackCompany) -> None:
    sender, _reply = _connected(slack_company)
    old = sender.secret

    rotated = slack_company.say("webhook rotate")
    found = SECRET.search(rotated)
    assert found is not None and found.group(0) != old
    new = found.group(0)
    assert "keeps working until" in rotated

    assert sender.post(sender.event("rot-1"), secret=old).status_code == 202
    assert sender.post(sender.event("rot-2"), secret=new).status_code == 202

    retired = slack_company.say("webhook retire-old")
    assert "1 old secret(s) removed" in retired
    refused = sender.post(sender.event("rot-3"), secret=old)
    assert refused.status_code == 401 and "no signature matches" in refused.json()["reason"]
    assert sender.post(sender.event("rot-4"), secret=new).status_code == 202


def test_only_admins_manage_the_webhook_and_disconnecting_closes_it(
    slack_company: SlackCompany,
) -> None:
    sender, _reply = _connected(slack_company)
    slack_company.world.slack.add_user(slack_company.demo.team_id, id="UJUNIOR1", name="junior")

    for command in ("connect webhook", "webhook rotate", "disconnect webhook"):
        answer = slack_company.say(command, user="UJUNIOR1")
        assert "Not allowed" in answer and "whsec_" not in answer

    assert "disconnected" in slack_company.say("disconnect webhook")
    gone = sender.post(sender.event("gone-1"))
    assert gone.status_code == 404 and gone.json()["reason"] == "unknown booking source"
    assert "not connected" in slack_company.say("webhook rotate")


def _new_shop(slack_company: SlackCompany) -> None:
    slack, world = slack_company.slack, slack_company.world
    world.slack.add_workspace("TNEWSHOP", name="New shop", bot_token="xoxb-TNEWSHOP-sandbox")
    world.slack.add_user("TNEWSHOP", id=ADMIN, name="owner", is_admin=True)
    installed = ChatInstallation(
        "TNEWSHOP", "New shop", "xoxb-TNEWSHOP-sandbox", "UBOT", "B1", (), ADMIN
    )
    slack_company.core.workspaces.save_installation(installation=installed)  # as Slack's OAuth does
    slack.team_id = "TNEWSHOP"


def test_a_business_without_simplybook_starts_with_the_webhook(
    slack_company: SlackCompany,
) -> None:
    _new_shop(slack_company)

    reply = slack_company.say("connect webhook")

    assert SECRET.search(reply) is not None
    status = slack_company.say("status")
    assert "*SimplyBook.me:* not connected" in status and "*Booking webhook:* connected" in status
    assert "/webhooks/simplybook/" not in status
    assert "Online meetings are on" in slack_company.say("enable"), "no SimplyBook.me switch to ask"
    with Session(slack_company.core.engine) as session:
        assert session.scalar(select(CompanyRow).where(CompanyRow.name == "Your company"))  # type: ignore[arg-type]


def test_a_business_started_from_chat_gets_its_name_and_its_first_events_zone(
    slack_company: SlackCompany,
) -> None:
    _new_shop(slack_company)
    sender, _reply = _connected(slack_company)
    core = slack_company.core
    company = core.companies.company_for_workspace(platform="slack", workspace_id="TNEWSHOP")
    assert company is not None and company.timezone == "UTC"

    renamed = slack_company.say("company name Kyiv Yoga Loft")
    kyiv = sender.post(sender.event("first-1"))  # the sender's events are in Europe/Kyiv
    later = sender.event("second-1")
    later["data"]["time_zone"] = "America/Chicago"
    chicago = sender.post(later)

    assert "Kyiv Yoga Loft" in renamed
    assert kyiv.status_code == 202 and chicago.status_code == 202
    named = core.companies.company(company_id=company.id)
    assert named.name == "Kyiv Yoga Loft" and named.timezone == "Europe/Kyiv"
    assert "company name NAME" in slack_company.say("help")


@SQLITE_ONLY
def test_on_teams_the_secret_asked_for_in_a_channel_arrives_in_the_private_chat(
    teams: Tenant, meetbot: Meetbot
) -> None:
    install(teams, meetbot)  # the installer becomes meetbot's admin
    chat = teams.sim.personal_conversation(teams.olena)

    in_private = new_posts(
        teams, chat, lambda: ask_in_channel(teams, meetbot, teams.olena, "connect webhook")
    )

    in_channel = [text_of(post) for post in teams.sim.activities(teams.bookings)]
    assert in_channel and all("whsec_" not in text for text in in_channel)
    assert in_channel[-1] == "I answered you in our private chat"
    assert any(SECRET.search(text_of(post)) for post in in_private)


def test_simplybook_connected_later_joins_the_webhooks_company(
    slack_company: SlackCompany,
) -> None:
    core = slack_company.core
    shop = Actor(ChatPlatform.SLACK, "TLATER01", "UOWNER01", True)
    started = core.companies.start_company(actor=shop, name="Your company")
    source, _secret = core.booking_webhooks.connect(company_id=started.id)
    assert not started.uses_simplybook

    joined, _token = core.companies.connect_simplybook(
        actor=shop,
        login="later-shop",
        api_key="k" * 16,
        api_secret="s" * 16,
        name="Later",
        timezone="UTC",
    )

    assert joined.id == started.id and joined.simplybook_login == "later-shop"
    assert core.booking_webhooks.company_source(company_id=joined.id) == source
    found = core.companies.company_for_workspace(platform="slack", workspace_id="TLATER01")
    assert found is not None and found.uses_simplybook


def test_two_connects_at_once_make_one_source_and_the_other_is_told_it_exists(
    slack_company: SlackCompany,
) -> None:
    core = slack_company.core
    company_id = slack_company.demo.company_id
    start = threading.Barrier(6)

    def connect() -> str:
        start.wait()
        try:
            core.booking_webhooks.connect(company_id=company_id)
        except AlreadyConnected:
            return "already connected"
        return "connected"

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(lambda _: connect(), range(6)))

    assert sorted(outcomes) == ["already connected"] * 5 + ["connected"]
    assert count_rows(core, WebhookSourceRow) == 1
    assert "already connected" in slack_company.say("connect webhook")


def test_a_secret_reply_is_private_on_both_front_ends_even_without_a_link() -> None:
    plain = say("Signing secret", "`whsec_QUJD`")  # no address, no button: nothing else hides it
    shown_to_all = replace(plain, public=True)

    assert not answered_privately(plain) and answered_privately(secretly(plain))
    assert answered_privately(secretly(shown_to_all))
    assert reply_payload(shown_to_all)["response_type"] == "in_channel"
    assert reply_payload(secretly(shown_to_all))["response_type"] == "ephemeral"
    assert not secretly(plain).replace_original, "a secret never replaces a shared message"


@SQLITE_ONLY
def test_on_teams_a_rotated_secret_asked_for_in_a_channel_arrives_in_the_private_chat(
    teams: Tenant, meetbot: Meetbot
) -> None:
    install(teams, meetbot)
    chat = teams.sim.personal_conversation(teams.olena)
    new_posts(teams, chat, lambda: ask_in_channel(teams, meetbot, teams.olena, "connect webhook"))

    in_private = new_posts(
        teams, chat, lambda: ask_in_channel(teams, meetbot, teams.olena, "webhook rotate")
    )

    assert any("New booking webhook secret" in text_of(post) for post in in_private)
    in_channel = [text_of(post) for post in teams.sim.activities(teams.bookings)]
    assert all("whsec_" not in text for text in in_channel)
