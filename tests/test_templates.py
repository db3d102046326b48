"""Message templates (S8): checked when saved, rendered literally, most specific one wins."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from adapters.slack.app import command_text
from app.bootstrap import Core
from app.sandbox import Demo, SandboxWorld, book, message_as_text
from bot.messages import Link, Text, When
from bot.templates import (
    MessageTemplate,
    TemplateKind,
    TemplateScope,
    TemplateValues,
    choose,
    problems,
    render,
)

from .conftest import run_jobs
from .harness import SlackCompany, say
from .slack_platform import SlackPlatform

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
VALUES = TemplateValues(
    client_link="https://meet.test/m/abc",
    host_link="https://meet.test/h/def",
    service="Yoga",
    provider="Olena",
    client="<!channel> *x*",
    start=START,
    start_text="Tue 01 Dec 2026, 10:00–11:00 (Europe/Kyiv)",
)


def test_unknown_variables_are_refused_with_the_valid_ones() -> None:
    assert problems("Hello [client], join at [online_meeting_link]") == []
    [problem] = problems("Hello [clinet] and [Start]")
    assert problem.startswith("unknown variable(s) [Start], [clinet]; the valid ones are ")
    assert "[online_meeting_link], [online_meeting_provider_link], [service]" in problem
    assert problems("   ") == ["the template is empty"]
    assert problems("x" * 2001) == ["the template is longer than 2000 characters"]


def test_rendering_keeps_user_text_literal_and_links_and_times_typed() -> None:
    segments = render("[client] booked [service] at [start]: [online_meeting_link] [nope", VALUES)
    assert segments == (
        Text("<!channel> *x*"),
        Text(" booked "),
        Text("Yoga"),
        Text(" at "),
        When(START, VALUES.start_text),
        Text(": "),
        Link("https://meet.test/m/abc"),
        Text(" [nope"),
    )


def test_the_most_specific_template_wins() -> None:
    company = MessageTemplate(TemplateKind.PROVIDER, TemplateScope.COMPANY, "", "company")
    service = MessageTemplate(TemplateKind.PROVIDER, TemplateScope.SERVICE, "1", "service")
    provider = MessageTemplate(TemplateKind.PROVIDER, TemplateScope.PROVIDER, "7", "provider")
    client = MessageTemplate(TemplateKind.CLIENT, TemplateScope.COMPANY, "", "client")
    every = [company, service, provider, client]
    assert choose(every, TemplateKind.PROVIDER, service_id="1", provider_id="7") == provider
    assert choose(every, TemplateKind.PROVIDER, service_id="1", provider_id="8") == service
    assert choose(every, TemplateKind.PROVIDER, service_id="2", provider_id="8") == company
    assert choose(every, TemplateKind.CLIENT, service_id="2", provider_id="8") == client
    assert choose([client], TemplateKind.PROVIDER, service_id="1", provider_id="7") is None


def test_slack_command_text_is_unescaped_but_mentions_stay() -> None:
    typed = "provider : &lt;b&gt; &amp; <https://x.test/a|x.test/a> for <@U1> in <#C1|general>"
    assert command_text(typed) == "provider : <b> & https://x.test/a for <@U1> in <#C1|general>"


@pytest.fixture
def shop(slack_company: SlackCompany) -> tuple[Core, SlackPlatform, Demo]:
    return slack_company.core, slack_company.slack, slack_company.demo


def _booked_message(
    core: Core, slack: SlackPlatform, demo: Demo, world: SandboxWorld, client: str
) -> dict[str, Any]:
    booking = book(world, demo, client_name=client, starts_in=timedelta(days=2))
    answer = httpx.post(
        f"{slack.meetbot_url}/webhooks/simplybook/{demo.webhook_token}",
        json=world.simplybook.callback(demo.login, booking["id"]),
    )
    assert answer.status_code == 202
    run_jobs(core)
    assert {job.state for job in core.queue.jobs(kind="sync_booking")} == {"done"}
    return world.slack.messages(demo.channel_id)[-1]


def test_a_template_renders_the_link_and_a_hostile_name_literally(
    shop: tuple[Core, SlackPlatform, Demo], world: SandboxWorld
) -> None:
    core, slack, demo = shop
    saved = say(
        slack,
        "template provider : Meeting with [client] on [start].\nJoin: [online_meeting_link]",
    )
    assert "The provider template for the whole company is saved" in saved
    message = _booked_message(core, slack, demo, world, "<!channel> *x*")

    [rich] = [block for block in message["blocks"] if block["type"] == "rich_text"]
    elements = rich["elements"][0]["elements"]
    texts = [e["text"] for e in elements if e["type"] == "text"]
    assert "<!channel> *x*" in texts, "the name is one literal text element"
    [link] = [e for e in elements if e["type"] == "link"]
    assert link["url"].startswith(slack.meetbot_url + "/m/")
    [date] = [e for e in elements if e["type"] == "date"]
    assert date["format"] == "{date_long_pretty} {time}" and "Europe/Kyiv" in date["fallback"]
    mrkdwn = json.dumps([b for b in message["blocks"] if b["type"] != "rich_text"])
    assert "<!channel>" not in mrkdwn and "*x*" not in mrkdwn, "nowhere as markup either"
    shown = message_as_text(message)
    assert "Meeting with <!channel> *x* on " in shown and "Join: " + link["url"] in shown


def test_unknown_variable_refused_at_save_time_and_nothing_changes(
    shop: tuple[Core, SlackPlatform, Demo],
) -> None:
    core, slack, demo = shop
    refused = say(slack, "template provider : Hi [clinet], see you at [start]")
    assert "The template was not saved" in refused
    assert "Unknown variable(s) [clinet]; the valid ones are [online_meeting_link]" in refused
    assert core.templates.templates(company_id=demo.company_id) == []
    assert "Put `:` before the template's text" in say(slack, "template provider hello")
    assert "Say which template" in say(slack, "template nobody : x")


def test_service_template_client_text_show_and_reset(
    shop: tuple[Core, SlackPlatform, Demo], world: SandboxWorld
) -> None:
    core, slack, demo = shop
    say(slack, "template provider : Company wording for [client]")
    assert "for service Online yoga consultation is saved" in say(
        slack, "template provider service online yoga : Yoga wording for [client]"
    )
    say(slack, "template client : Dear [client], your link: [online_meeting_link]")
    shown = say(slack, "template").replace("*", "")
    assert "Provider (company): Company wording for [client]" in shown
    assert "Provider (service Online yoga consultation): Yoga wording for [client]" in shown
    assert "[online_meeting_provider_link]: the provider's (host) link" in shown

    text = message_as_text(_booked_message(core, slack, demo, world, "Iryna"))
    assert "Yoga wording for Iryna" in text and "Company wording" not in text
    assert "Text for the client (to copy into an e-mail):\nDear Iryna, your link: " in text

    assert "is reset" in say(slack, "template provider service online yoga reset")
    text = message_as_text(_booked_message(core, slack, demo, world, "Petro"))
    assert "Company wording for Petro" in text
    assert "Nothing to reset" in say(slack, "template provider service online yoga reset")
    audit = say(slack, "audit")
    assert "set the provider template (for service Online yoga consultation)" in audit
