"""The shared test harness does what a behaviour test relies on: a callback delivered and synced
reaches the provider's channel, and the company's admin is an admin to meetbot."""

from __future__ import annotations

from app.sandbox import message_as_text

from .harness import SlackCompany


def test_a_booking_reaches_the_channel(slack_company: SlackCompany) -> None:
    slack_company.book_and_sync(client_name="Iryna")
    [message] = slack_company.world.slack.messages(slack_company.demo.channel_id)
    assert "Iryna" in message_as_text(message)


def test_the_admin_holds_the_admin_role(slack_company: SlackCompany) -> None:
    company = slack_company
    member = company.core.staff.staff_member(
        company_id=company.demo.company_id, actor=company.admin
    )
    assert member is not None and member.role == "admin"
    assert "Online meetings are on" in company.say("enable")
