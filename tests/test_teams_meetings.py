"""Microsoft Teams as a meeting platform (S9, S10, S14): accounts connected through msal against
the simulated identity platform, meetings made through Graph's createOrGet, Graph's errors handled."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.sandbox import SandboxWorld, book, message_as_text, wait_for
from simulators.microsoft import AccountKind, MicrosoftUser
from storage.tables import MsAccountRow

from .conftest import run_jobs
from .harness import ADMIN, SlackCompany
from .signin_flow import MS_START, Browser, confirmation, press, start_link

OLENA_STAFF = "UOLENA01"


@dataclass
class Office(SlackCompany):
    owner: MicrosoftUser
    olena: MicrosoftUser

    def sign_in(self, reply: str, user: MicrosoftUser) -> httpx.Response:
        """Presses the reply's sign-in button as `user`; returns meetbot's callback page."""
        self.world.microsoft.signing_in = user
        browser = Browser(self.world)
        try:
            answer = browser.microsoft_answer(start_link(reply, MS_START))
            assert answer.action == f"{self.slack.meetbot_url}/oauth/microsoft/callback"
            return browser.post_answer(answer)
        finally:
            browser.close()

    def confirm(self, user: str = ADMIN) -> str:
        return press(self.world, self.slack, confirmation(self.world, user), "Confirm", user=user)


@pytest.fixture
def meetbot_timings() -> dict[str, Any]:
    # A held Graph answer is given up on after this (not the default 15 s): the retry comes sooner.
    return {"http_timeout_seconds": 5.0}


@pytest.fixture
def office(slack_company: SlackCompany, world: SandboxWorld) -> Iterator[Office]:
    core, demo, admin = slack_company.core, slack_company.demo, slack_company.admin
    world.slack.add_user(demo.team_id, id=OLENA_STAFF, name="olena")
    core.staff.set_role(company_id=demo.company_id, actor=admin, user_id=OLENA_STAFF, role="junior")
    core.staff.tie_staff(
        company_id=demo.company_id,
        actor=admin,
        user_id=OLENA_STAFF,
        provider_external_id=demo.provider_id,
    )
    owner = world.microsoft.add_user("Studio Owner", "owner@studio.example")
    olena = world.microsoft.add_user("Olena Koval", "olena@studio.example")
    yield Office(core, slack_company.slack, demo, world, admin, owner, olena)


def _connected(office: Office) -> None:
    page = office.sign_in(office.say("connect teams"), office.owner)
    assert page.status_code == 200 and "Confirm in chat" in page.text
    assert "Microsoft Teams is connected" in office.confirm()


def test_company_and_provider_accounts_connect_and_tokens_are_encrypted(office: Office) -> None:
    _connected(office)
    reply = office.say("connect teams", user=OLENA_STAFF)
    assert "Olena Koval's own Microsoft account" in reply
    page = office.sign_in(reply, office.olena)
    assert page.status_code == 200 and "Confirm in chat" in page.text
    asked = confirmation(office.world, OLENA_STAFF)
    assert "will host Olena Koval's Teams meetings at" in json.dumps(asked)
    assert "Microsoft Teams is connected" in office.confirm(OLENA_STAFF)

    with Session(office.core.engine) as session:
        rows = {row.provider_external_id: row for row in session.scalars(select(MsAccountRow))}
    assert set(rows) == {"", office.demo.provider_id}
    assert rows[""].username == "owner@studio.example"
    for row in rows.values():
        assert row.token_cache_enc and "refresh_token" not in row.token_cache_enc
        assert "secret" not in row.token_cache_enc
        # A JWT's shape (two base64url JSON parts joined by a dot), not its three-letter start,
        # which random ciphertext contains by chance every few dozen rows.
        assert not re.search(r"eyJ[\w-]*\.eyJ", row.token_cache_enc)
    status = office.say("status").replace("*", "")
    assert "Microsoft Teams: connected as owner@studio.example" in status
    assert "connected Microsoft Teams" in office.say("audit")
    assert wait_for(lambda: office.world.slack.dm_messages(OLENA_STAFF)), "the staff member is told"


def test_a_personal_account_is_refused_with_the_reason(office: Office) -> None:
    personal = office.world.microsoft.add_user(
        "Owner at home", "owner@outlook.com", kind=AccountKind.PERSONAL
    )
    office.world.microsoft.personal_accounts_pass = True  # as on /common: meetbot's own check
    page = office.sign_in(office.say("connect teams"), personal)
    assert page.status_code == 400
    assert "Teams meetings need a work or school account" in page.text
    assert "outlook.com, hotmail.com, live.com" in page.text
    with Session(office.core.engine) as session:
        assert session.scalars(select(MsAccountRow)).all() == []


def test_a_provider_outside_the_companys_organisation_is_refused(office: Office) -> None:
    _connected(office)
    stranger = office.world.microsoft.add_user(
        "Olena elsewhere", "olena@other.example", kind=AccountKind.EXTERNAL
    )
    page = office.sign_in(office.say("connect teams", user=OLENA_STAFF), stranger)
    assert page.status_code == 400 and "another organisation" in page.text


def test_a_booking_on_teams_ends_like_a_zoom_one_and_retries_make_no_second_meeting(
    office: Office,
) -> None:
    world, demo = office.world, office.demo
    _connected(office)
    reply = office.say("provider olena teams")
    assert "Olena Koval hosts on Microsoft Teams" in reply and "company's account" in reply
    world.microsoft.faults.hang_after_effect(method="POST", path=r"/onlineMeetings/createOrGet$")
    booking = book(world, demo, client_name="Iryna", starts_in=timedelta(minutes=5))
    office.deliver(booking)
    run_jobs(office.core, timeout=40)

    assert world.microsoft.created_count() == 1, "the retry got the same meeting back"
    [meeting] = world.microsoft.meetings_of(office.owner)
    [message] = world.slack.messages(demo.channel_id)
    text = message_as_text(message)
    assert "Online meeting: Online yoga consultation" in text and "Iryna" in text
    client = next(word for word in text.split() if "/m/" in word)
    host = next(word for word in text.split() if "/h/" in word)
    joined = httpx.get(client)
    assert joined.status_code == 303 and joined.headers["location"] == meeting["joinWebUrl"]
    assert "/l/meetup-join/" in joined.headers["location"], "the Teams web join"
    assert httpx.get(host).headers["location"] == meeting["joinWebUrl"]
    assert "Teams, hosted by owner@studio.example" in office.say("providers")


def test_a_providers_own_account_hosts_their_meetings(office: Office) -> None:
    world, demo = office.world, office.demo
    _connected(office)
    office.sign_in(office.say("connect teams", user=OLENA_STAFF), office.olena)
    office.confirm(OLENA_STAFF)
    assert "their own account" in office.say("provider olena teams")
    office.deliver(book(world, demo, starts_in=timedelta(days=1)))
    run_jobs(office.core)
    assert len(world.microsoft.meetings_of(office.olena)) == 1
    assert world.microsoft.meetings_of(office.owner) == []


def test_graph_429_waits_as_told_401_refreshes_once_403_tells_the_admins(office: Office) -> None:
    world, demo, core = office.world, office.demo, office.core
    _connected(office)
    office.say("provider olena teams")

    world.microsoft.throttle(times=1, retry_after=1)
    office.deliver(book(world, demo, client_name="Throttled", starts_in=timedelta(days=1)))
    run_jobs(core)
    [job] = core.queue.jobs(kind="sync_booking")
    assert job.state == "done" and job.attempts == 2 and "Retry" not in (job.note or "")
    assert "Microsoft Graph is limiting meetbot's requests" in (job.last_error or "")
    assert world.microsoft.count("POST", r"createOrGet$") == 2, "one throttled, one answered"

    refreshes = world.microsoft.refresh_count
    world.microsoft.expire_access_tokens()
    office.deliver(book(world, demo, client_name="Expired", starts_in=timedelta(days=2)))
    run_jobs(core)
    assert world.microsoft.refresh_count == refreshes + 1
    assert world.microsoft.created_count() == 2

    world.microsoft.deny_online_meetings(office.owner)
    denied = book(world, demo, client_name="Denied", starts_in=timedelta(days=3))
    office.deliver(denied)
    run_jobs(core)
    dead = [j for j in core.queue.jobs(kind="sync_booking") if j.state == "dead"]
    assert len(dead) == 1 and "does not let the connected account create online meetings" in (
        dead[0].last_error or ""
    )
    alerts = [message_as_text(m) for m in world.slack.dm_messages(ADMIN)]
    assert any(a.startswith(f"Needs attention: Booking {denied['id']}") for a in alerts)


def test_a_revoked_microsoft_account_holds_bookings_and_asks_to_reconnect(office: Office) -> None:
    world, demo, core = office.world, office.demo, office.core
    _connected(office)
    office.say("provider olena teams")
    world.microsoft.revoke(office.owner)
    world.microsoft.expire_access_tokens()
    office.deliver(book(world, demo, starts_in=timedelta(days=1)))
    run_jobs(core)
    assert world.microsoft.created_count() == 0
    [alert] = [
        m for m in world.slack.dm_messages(ADMIN) if "Microsoft Teams needs reconnecting" in str(m)
    ]
    assert "Reconnect Teams" in str(alert["blocks"])
    assert "needs reconnecting" in office.say("status")


def test_teams_booking_create_change_cancel_moves_then_deletes_behind_the_same_links(
    office: Office,
) -> None:
    world, demo, core = office.world, office.demo, office.core
    _connected(office)
    office.say("provider olena teams")
    booking = book(world, demo, client_name="Iryna", starts_in=timedelta(days=1))
    office.deliver(booking)
    run_jobs(core)
    [meeting] = world.microsoft.meetings_of(office.owner)
    [message] = world.slack.messages(demo.channel_id)
    links = [w for w in message_as_text(message).split() if "/m/" in w or "/h/" in w]

    later = datetime.now(ZoneInfo("Europe/Kyiv")).replace(
        hour=16, minute=15, second=0, microsecond=0
    ) + timedelta(days=3)
    world.simplybook.update_booking(
        demo.login,
        booking["id"],
        start=f"{later:%Y-%m-%d %H:%M:%S}",
        end=f"{later + timedelta(minutes=45):%Y-%m-%d %H:%M:%S}",
    )
    office.deliver(booking, "change")
    run_jobs(core)
    moved = world.microsoft.meeting(meeting["id"])
    assert moved is not None
    assert datetime.fromisoformat(moved["startDateTime"]) == later
    assert datetime.fromisoformat(moved["endDateTime"]) == later + timedelta(minutes=45)
    top, reply = world.slack.messages(demo.channel_id)
    assert top["ts"] == message["ts"] and len(top["edits"]) == 1, "edited, not posted again"
    assert [w for w in message_as_text(top).split() if "/m/" in w or "/h/" in w] == links
    assert message_as_text(reply).startswith("Rescheduled")

    world.simplybook.update_booking(demo.login, booking["id"], status="cancelled")
    office.deliver(booking, "cancel")
    run_jobs(core)
    assert world.microsoft.meeting(meeting["id"]) is None, "deleted on Teams"
    top, _, cancelled = world.slack.messages(demo.channel_id)
    assert cancelled["reply_broadcast"] and message_as_text(cancelled).startswith("Cancelled")
    assert len(top["edits"]) == 2 and "Cancelled: Online yoga consultation" in message_as_text(top)
    client = next(w for w in links if "/m/" in w)
    assert httpx.get(client).status_code == 410
    assert world.microsoft.created_count() == 1


def test_the_callback_also_takes_the_answer_in_the_query(office: Office) -> None:
    """`GET /oauth/microsoft/callback` is a fixed route: an answer there is read like a form post."""
    start = start_link(office.say("connect teams"), MS_START)
    office.world.microsoft.signing_in = office.owner
    browser = Browser(office.world)
    try:
        form = browser.microsoft_answer(start)
        page = browser.client.get(form.action, params=form.fields)
        declined = browser.client.get(form.action, params={"error": "access_denied", "state": "x"})
    finally:
        browser.close()
    assert page.status_code == 200 and "Confirm in chat" in page.text
    assert declined.status_code == 400
