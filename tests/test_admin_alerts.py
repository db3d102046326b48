"""Problems that need a person reach the company's admins by direct message, once, with the button
that fixes it; the button works, and the fix is announced (S15, issue "admins by direct message").

Each failure is the real one, driven through the simulators: a revoked Zoom account, an archived
channel, a job that keeps failing, an unmapped provider, Zoom's daily limit, Kiosk turned on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.jobs import schedule_routine
from app.sandbox import message_as_text, seed_demo, wait_for
from bot.domain import Actor, ChatPlatform

from .conftest import SteppingClock, run_jobs
from .harness import ADMIN, SlackCompany
from .signin_flow import ZOOM_START, Browser, confirmation, start_link


@dataclass
class Shop(SlackCompany):
    clock: SteppingClock

    def press(self, message: dict[str, Any], label: str) -> str:
        [button] = [
            element
            for block in message["blocks"]
            if block["type"] == "actions"
            for element in block["elements"]
            if element["text"]["text"] == label
        ]
        before = len(self.world.slack.response_posts())
        answer = self.slack.press(button["action_id"], user=ADMIN, value=button.get("value"))
        assert answer.status_code == 200
        assert wait_for(lambda: len(self.world.slack.response_posts()) > before)
        return json.dumps(self.world.slack.response_posts()[-1]["payload"])


@pytest.fixture
def shop(slack_company: SlackCompany, clock: SteppingClock) -> Shop:
    company = slack_company
    company.core.records.set_digest(company_id=company.demo.company_id, enabled=False)
    return Shop(company.core, company.slack, company.demo, company.world, company.admin, clock)


def _alert_messages(shop: Shop) -> list[dict[str, Any]]:
    return [
        m
        for m in shop.world.slack.dm_messages(ADMIN)
        if message_as_text(m).startswith(("Needs attention", "Still open", "Resolved"))
    ]


def test_revoked_zoom_is_told_once_and_reconnect_starts_oauth(shop: Shop) -> None:
    world, demo = shop.world, shop.demo
    world.zoom.revoke_account(f"acct-{demo.login}")
    first = shop.book_and_sync(client_name="Iryna")
    second = shop.book_and_sync(client_name="Petro")

    [alert] = _alert_messages(shop)
    text = message_as_text(alert)
    assert text.startswith("Needs attention: Zoom needs reconnecting")
    assert first["code"] in text and "an admin must reconnect Zoom" in text
    assert world.zoom.created_count() == 0 and world.slack.messages(demo.channel_id) == []
    assert "Zoom needs reconnecting" in shop.say("status")

    pressed = shop.press(alert, "Reconnect Zoom")
    world.zoom.authorizing_user = (f"acct-{demo.login}", demo.zoom_user_id)
    browser = Browser(world)
    try:
        assert "Confirm in chat" in browser.zoom(start_link(pressed, ZOOM_START)).text
    finally:
        browser.close()
    run_jobs(shop.core)
    assert world.zoom.created_count() == 0, "nothing is used before the admin confirms"
    assert "Zoom is connected" in shop.press(confirmation(world, ADMIN), "Confirm")
    run_jobs(shop.core)

    resolved = message_as_text(_alert_messages(shop)[-1])
    assert resolved.startswith("Resolved: Zoom needs reconnecting")
    assert "the waiting bookings are being set up now" in resolved
    assert len(_alert_messages(shop)) == 2
    assert world.zoom.created_count() == 2, "both held bookings went through after reconnecting"
    posted = " ".join(message_as_text(m) for m in world.slack.messages(demo.channel_id))
    assert first["code"] in posted and second["code"] in posted


def test_channel_gone_is_told_once_and_resolved_by_choosing_another(shop: Shop) -> None:
    world, demo = shop.world, shop.demo
    world.slack.archive_channel(demo.channel_id)
    first = shop.book_and_sync(client_name="Iryna")
    shop.book_and_sync(client_name="Petro")

    [alert] = _alert_messages(shop)
    assert message_as_text(alert).startswith(
        "Needs attention: Olena Koval's channel cannot be used"
    )
    assert first["code"] in message_as_text(alert)
    bookings = [t for t in shop.dms() if t.startswith("For Olena Koval")]
    assert len(bookings) == 2, "every booking still reaches a person"

    world.slack.add_channel(demo.team_id, id="CNEWPLACE", name="olena-new")
    reply = shop.say("provider olena channel <#CNEWPLACE|olena-new>")
    assert "bookings go to" in reply
    run_jobs(shop.core)
    resolved = message_as_text(_alert_messages(shop)[-1])
    assert resolved.startswith("Resolved: Olena Koval's channel cannot be used")
    assert len(world.slack.messages("CNEWPLACE")) == 2, "the held bookings reach the new channel"


def test_dead_job_is_told_with_a_retry_button_that_requeues_and_completes(shop: Shop) -> None:
    world, demo = shop.world, shop.demo
    world.zoom.faults.fail(method="POST", path=r"/v2/users/.+/meetings$", status=500, times=None)
    booking = shop.book_and_sync()
    [job] = shop.core.queue.jobs(kind="sync_booking")
    assert job.state == "dead"

    [alert] = _alert_messages(shop)
    text = message_as_text(alert)
    assert text.startswith(f"Needs attention: Booking {booking['id']} could not be set up")
    assert "gave up after 5 attempts: Zoom answered HTTP 500" in text

    world.zoom.faults.clear()
    assert "Trying again" in shop.press(alert, "Retry")
    run_jobs(shop.core)
    [job] = shop.core.queue.jobs(kind="sync_booking")
    assert job.state == "done"
    assert world.zoom.created_count() == 1 and len(world.slack.messages(demo.channel_id)) == 1
    resolved = message_as_text(_alert_messages(shop)[-1])
    assert resolved.startswith(f"Resolved: Booking {booking['id']} could not be set up")
    assert "Nothing to retry" in shop.press(alert, "Retry"), "a second press changes nothing"
    assert "Nothing needs attention." in shop.say("status")


def test_unmapped_provider_is_told_once_reminded_after_a_day_and_resolved(shop: Shop) -> None:
    world, demo, core = shop.world, shop.demo, shop.core
    core.catalog.map_provider(
        company_id=demo.company_id, external_id=demo.provider_id, platform=None
    )
    shop.book_and_sync(client_name="Iryna")
    shop.book_and_sync(client_name="Petro")
    [alert] = _alert_messages(shop)
    assert message_as_text(alert).startswith("Needs attention: Olena Koval has no meeting host")
    assert "/meetings provider Olena Koval zoom EMAIL" in message_as_text(alert)

    shop.clock.offset = timedelta(hours=25)
    shop.book_and_sync(client_name="Oksana")
    reminder = message_as_text(_alert_messages(shop)[-1])
    assert reminder.startswith("Still open: Olena Koval has no meeting host")
    assert len(_alert_messages(shop)) == 2

    reply = shop.say(f"provider olena zoom olena@{demo.login}.test")
    assert "3 upcoming booking(s)" in reply
    run_jobs(core)
    resolved = message_as_text(_alert_messages(shop)[-1])
    assert resolved.startswith("Resolved: Olena Koval has no meeting host")
    assert world.zoom.created_count() == 3


def test_zoom_daily_limit_is_told_once_and_cleared_after_the_utc_reset(shop: Shop) -> None:
    world, demo, core = shop.world, shop.demo, shop.core
    world.zoom.daily_meeting_limit = 0
    shop.book_and_sync(client_name="Iryna")
    shop.book_and_sync(client_name="Petro")
    [alert] = _alert_messages(shop)
    text = message_as_text(alert)
    assert text.startswith("Needs attention: Zoom's daily limit reached")
    assert "00:00 UTC" in text
    waiting = core.queue.jobs(kind="sync_booking")
    assert {job.state for job in waiting} == {"pending"}, "rescheduled, not failed"
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    assert all(tomorrow <= job.run_at <= tomorrow + timedelta(minutes=2) for job in waiting)

    world.zoom.daily_meeting_limit = 100
    shop.clock.offset = tomorrow - datetime.now(UTC) + timedelta(minutes=3)
    schedule_routine(core, demo.company_id)
    run_jobs(core)
    resolved = message_as_text(_alert_messages(shop)[-1])
    assert resolved.startswith("Resolved: Zoom's daily limit reached")
    assert world.zoom.created_count() == 2


def test_kiosk_turned_on_is_found_by_the_routine_and_told_once(shop: Shop) -> None:
    world, demo, core = shop.world, shop.demo, shop.core
    world.simplybook.set_plugin(demo.login, "kiosk", True)
    for _ in range(2):  # two hourly runs: one message
        schedule_routine(core, demo.company_id)
        run_jobs(core)
    [alert] = _alert_messages(shop)
    assert message_as_text(alert).startswith("Needs attention: SimplyBook.me's Kiosk feature is on")
    assert "Custom Features" in message_as_text(alert)

    world.simplybook.set_plugin(demo.login, "kiosk", False)
    schedule_routine(core, demo.company_id)
    run_jobs(core)
    assert message_as_text(_alert_messages(shop)[-1]).startswith(
        "Resolved: SimplyBook.me's Kiosk feature is on"
    )
    routine = [job for job in core.queue.jobs(kind="company_routine") if job.state == "pending"]
    assert len(routine) == 1, "the routine keeps its next run queued"


def test_another_companys_admin_gets_none_of_it(shop: Shop) -> None:
    world = shop.world
    other = seed_demo(shop.core, world, login="other-studio")
    world.slack.add_user(other.team_id, id="UOTHER01", name="other", is_admin=True)
    shop.core.staff.set_role(
        company_id=other.company_id,
        actor=Actor(ChatPlatform.SLACK, other.team_id, "UOTHER01"),
        user_id="UOTHER01",
        role="admin",
    )
    world.zoom.revoke_account(f"acct-{shop.demo.login}")
    shop.book_and_sync()
    assert len(_alert_messages(shop)) == 1
    assert world.slack.dm_messages("UOTHER01") == []
    pressed = shop.slack.press("meetbot_job_retry", user="UOTHER01", team=other.team_id, value="1")
    assert pressed.status_code == 200
    # The answer goes to the response_url after the click is acknowledged: poll until it is there.
    assert wait_for(
        lambda: any("Nothing to retry" in str(post) for post in world.slack.response_posts())
    ), world.slack.response_posts()


def test_an_admin_who_left_does_not_keep_the_others_from_being_told(shop: Shop) -> None:
    world, demo, core = shop.world, shop.demo, shop.core
    core.staff.set_role(
        company_id=demo.company_id,
        actor=Actor(ChatPlatform.SLACK, demo.team_id, ADMIN),
        user_id="UGONE0001",  # an admin whose Slack account is gone
        role="admin",
    )
    world.slack.archive_channel(demo.channel_id)
    booking = shop.book_and_sync(client_name="Iryna")
    assert any(t.startswith("For Olena Koval") for t in shop.dms()), "the booking still arrives"
    [alert] = _alert_messages(shop)
    assert booking["code"] in message_as_text(alert)
    assert {job.state for job in core.queue.jobs()} <= {"done", "pending"}
