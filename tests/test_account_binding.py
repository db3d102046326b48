"""Cross-tenant account linking fails (issue 12): a sign-in is finished only in the browser that
opened meetbot's Connect link, an account connected to another company is refused without naming
it, and nothing is used until the person who signed in confirms it in chat. Zoom and Microsoft,
the company's account and a provider's own, over HTTP against the simulators."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.bootstrap import Core
from app.sandbox import Demo, SandboxWorld, seed_demo, wait_for
from app.web import build_web_app
from bot.domain import Actor, ChatPlatform
from bot.signin import MS_START as MS_START_PURPOSE
from bot.signin import ZOOM_START as ZOOM_START_PURPOSE
from simulators.microsoft import MicrosoftUser
from simulators.server import BackgroundServer
from storage.tables import CompanyRow, MsAccountRow, OAuthStateRow, ZoomAccountRow

from .conftest import SteppingClock
from .microsoft_platform import FormPost
from .signin_flow import (
    MS_START,
    ZOOM_START,
    Browser,
    confirmation,
    continue_from,
    press,
    start_link,
)
from .slack_platform import SlackPlatform, reply_text

OTHER_BROWSER = "only in the browser that opened its Connect button"
TAKEN = "already connected to another company"


@dataclass
class Company:
    demo: Demo
    admin: str
    staff: str  # junior staff tied to the provider Olena Koval


@dataclass
class Tenants:
    core: Core
    slack: SlackPlatform
    world: SandboxWorld
    sunrise: Company  # the victim, named "Sunrise Pilates"
    rival: Company

    def say(self, company: Company, text: str, *, user: str | None = None) -> str:
        answer = self.slack.command(text, user=user or company.admin, team=company.demo.team_id)
        assert answer.status_code == 200
        return reply_text(answer)

    def press(self, company: Company, message: dict[str, Any], label: str, user: str) -> str:
        return press(self.world, self.slack, message, label, user=user, team=company.demo.team_id)

    def zoom_start(self, company: Company) -> str:
        """The start link of "connect zoom" (which first offers to replace the connected one)."""
        reply = self.say(company, "connect zoom")
        assert "Replace it" in reply
        before = len(self.world.slack.response_posts())
        pressed = self.slack.press(
            "meetbot_zoom_replace", user=company.admin, team=company.demo.team_id
        )
        assert pressed.status_code == 200
        assert wait_for(lambda: len(self.world.slack.response_posts()) > before)
        return start_link(json.dumps(self.world.slack.response_posts()[-1]["payload"]), ZOOM_START)

    def zoom_rows(self) -> list[ZoomAccountRow]:
        with Session(self.core.engine) as session:
            return list(session.scalars(select(ZoomAccountRow)))

    def ms_rows(self, company: Company) -> list[MsAccountRow]:
        with Session(self.core.engine) as session:
            query = select(MsAccountRow).where(MsAccountRow.company_id == company.demo.company_id)
            return list(session.scalars(query))

    def sign_in_microsoft(self, reply: str, user: MicrosoftUser) -> httpx.Response:
        self.world.microsoft.signing_in = user
        browser = Browser(self.world)
        try:
            return browser.microsoft(start_link(reply, MS_START))
        finally:
            browser.close()

    def connect_microsoft(
        self, company: Company, user: MicrosoftUser, *, as_staff: bool = False
    ) -> None:
        person = company.staff if as_staff else company.admin
        page = self.sign_in_microsoft(self.say(company, "connect teams", user=person), user)
        assert page.status_code == 200 and "Confirm in chat" in page.text, page.text
        asked = confirmation(self.world, person)
        assert "Microsoft Teams is connected" in self.press(company, asked, "Confirm", person)


def _company(core: Core, world: SandboxWorld, login: str, people: tuple[str, str]) -> Company:
    demo = seed_demo(core, world, login=login)
    admin, staff = people
    world.slack.add_user(demo.team_id, id=admin, name=f"{login} owner", is_admin=True)
    world.slack.add_user(demo.team_id, id=staff, name=f"{login} olena")
    actor = Actor(ChatPlatform.SLACK, demo.team_id, admin)
    core.staff.set_role(company_id=demo.company_id, actor=actor, user_id=admin, role="admin")
    core.staff.set_role(company_id=demo.company_id, actor=actor, user_id=staff, role="junior")
    core.staff.tie_staff(
        company_id=demo.company_id, actor=actor, user_id=staff, provider_external_id="1"
    )
    return Company(demo, admin, staff)


@pytest.fixture
def tenants(slack_app: tuple[Core, SlackPlatform], world: SandboxWorld) -> Iterator[Tenants]:
    core, slack = slack_app
    sunrise = _company(core, world, "sunrise-pilates", ("USUNADMIN", "USUNOLENA"))
    rival = _company(core, world, "rival-studio", ("URIVADMIN", "URIVOLENA"))
    with Session(core.engine) as session, session.begin():
        session.execute(
            update(CompanyRow)
            .where(CompanyRow.id == sunrise.demo.company_id)
            .values(name="Sunrise Pilates")
        )
    yield Tenants(core, slack, world, sunrise, rival)


# Zoom.


def test_a_zoom_callback_without_the_starting_browsers_cookie_is_refused(tenants: Tenants) -> None:
    world, rival = tenants.world, tenants.rival
    world.zoom.authorizing_user = ("acct-rival-studio", rival.demo.zoom_user_id)
    start = tenants.zoom_start(rival)
    with httpx.Client(timeout=15) as starter:
        to_zoom = continue_from(starter, start)
        assert to_zoom.status_code == 303
        cookie = to_zoom.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "path=/oauth/zoom" in cookie
        assert "secure" not in cookie, "the test's meetbot is on plain http"
        callback = starter.get(to_zoom.headers["location"]).headers["location"]

        elsewhere = httpx.get(callback, timeout=15)  # another browser: no cookie
        forged = httpx.get(callback, cookies={"meetbot_zoom_signin": "guessed"}, timeout=15)
        for refused in (elsewhere, forged):
            assert refused.status_code == 400
            assert "Finish in the browser you started in" in refused.text
            assert OTHER_BROWSER in refused.text
        assert not any("Confirm the" in json.dumps(m) for m in world.slack.dm_messages(rival.admin))

        finished = starter.get(callback)  # the refusals did not use the sign-in up
    assert finished.status_code == 200 and "Confirm in chat" in finished.text
    assert "expired" in httpx.get(start, timeout=15).text, "the start link works once"


def test_a_zoom_account_of_another_company_is_refused_without_naming_it(tenants: Tenants) -> None:
    world, rival, sunrise = tenants.world, tenants.rival, tenants.sunrise
    # The rival's admin gets Sunrise's Zoom admin to sign in through the rival's Connect link.
    world.zoom.authorizing_user = ("acct-sunrise-pilates", sunrise.demo.zoom_user_id)
    browser = Browser(world)
    try:
        page = browser.zoom(tenants.zoom_start(rival))
    finally:
        browser.close()
    assert page.status_code == 400 and "This Zoom account is already in use" in page.text
    assert TAKEN in page.text
    assert "Sunrise" not in page.text and "sunrise" not in page.text
    assert not any("Confirm the" in json.dumps(m) for m in world.slack.dm_messages(rival.admin))
    owners = {row.company_id: row.zoom_account_id for row in tenants.zoom_rows()}
    assert owners[rival.demo.company_id] == "acct-rival-studio", "the rival keeps its own account"
    assert owners[sunrise.demo.company_id] == "acct-sunrise-pilates"


def test_a_zoom_account_is_used_only_after_the_starting_admin_confirms(tenants: Tenants) -> None:
    world, sunrise = tenants.world, tenants.sunrise
    fresh = world.zoom.add_user(account_id="acct-sunrise-new", email="studio@sunrise.test")
    world.zoom.authorizing_user = ("acct-sunrise-new", fresh["id"])
    world.slack.add_user(sunrise.demo.team_id, id="USUNOTHER", name="other admin", is_admin=True)

    def sign_in() -> dict[str, Any]:
        browser = Browser(world)
        try:
            page = browser.zoom(tenants.zoom_start(sunrise))
        finally:
            browser.close()
        assert page.status_code == 200 and "Confirm in chat" in page.text
        return confirmation(world, sunrise.admin)

    def connected() -> str:
        [row] = [r for r in tenants.zoom_rows() if r.company_id == sunrise.demo.company_id]
        return row.zoom_account_id

    asked = sign_in()
    assert (
        "Zoom account acct-sunrise-new (studio@sunrise.test) will host Sunrise Pilates's meetings"
        in json.dumps(asked)
    )
    assert connected() == "acct-sunrise-pilates", "nothing changes before the confirmation"
    assert "Nothing to confirm" in tenants.press(sunrise, asked, "Confirm", "USUNOTHER")
    assert connected() == "acct-sunrise-pilates", "only the admin who signed in can confirm"
    assert "Zoom was not connected" in tenants.press(sunrise, asked, "Cancel", sunrise.admin)
    assert connected() == "acct-sunrise-pilates"
    assert "Nothing to confirm" in tenants.press(sunrise, asked, "Confirm", sunrise.admin)

    asked = sign_in()
    assert "Zoom is connected" in tenants.press(sunrise, asked, "Confirm", sunrise.admin)
    assert connected() == "acct-sunrise-new"
    assert "connected Zoom" in tenants.say(sunrise, "audit")


def test_an_unanswered_confirmation_expires_and_keeps_no_tokens(
    tenants: Tenants, clock: SteppingClock
) -> None:
    world, sunrise = tenants.world, tenants.sunrise
    fresh = world.zoom.add_user(account_id="acct-sunrise-new", email="studio@sunrise.test")
    world.zoom.authorizing_user = ("acct-sunrise-new", fresh["id"])
    browser = Browser(world)
    try:
        assert "Confirm in chat" in browser.zoom(tenants.zoom_start(sunrise)).text
    finally:
        browser.close()
    asked = confirmation(world, sunrise.admin)

    def waiting_tokens() -> int:
        with Session(tenants.core.engine) as session:
            rows = session.scalars(
                select(OAuthStateRow).where(OAuthStateRow.purpose == "zoom_confirm")
            )
            return sum(1 for row in rows if row.payload_enc)

    assert waiting_tokens() == 1, "the signed-in account waits, encrypted"
    clock.offset += timedelta(minutes=61)
    tenants.zoom_start(sunrise)  # any later sign-in clears what expired unanswered
    assert waiting_tokens() == 0
    assert "Nothing to confirm" in tenants.press(sunrise, asked, "Confirm", sunrise.admin)
    connected = {row.company_id: row.zoom_account_id for row in tenants.zoom_rows()}
    assert connected[sunrise.demo.company_id] == "acct-sunrise-pilates"


# Microsoft: the company's account and a provider's own.


def test_a_microsoft_callback_without_the_starting_browsers_cookie_is_refused(
    tenants: Tenants,
) -> None:
    world, rival = tenants.world, tenants.rival
    world.microsoft.signing_in = world.microsoft.add_user("Rival Owner", "owner@rival.example")
    start = start_link(tenants.say(rival, "connect teams"), MS_START)
    browser = Browser(world)
    try:
        answer = browser.microsoft_answer(start)
        assert "meetbot_ms_signin" in str(browser.client.cookies.jar)
        relay = httpx.post(answer.action, data=answer.fields, timeout=15)  # Microsoft's post
        assert relay.status_code == 200 and "<form method='post'" in relay.text
        elsewhere = httpx.post(answer.action, data={**answer.fields, "meetbot_relayed": "1"})
        by_query = httpx.get(answer.action, params=answer.fields, timeout=15)
        for refused in (elsewhere, by_query):
            assert refused.status_code == 400 and OTHER_BROWSER in refused.text
        assert tenants.ms_rows(rival) == []
        finished = browser.post_answer(answer)  # the starting browser, with its cookie
    finally:
        browser.close()
    assert finished.status_code == 200 and "Confirm in chat" in finished.text


def test_a_microsoft_account_of_another_company_is_refused_company_and_provider(
    tenants: Tenants,
) -> None:
    world, rival, sunrise = tenants.world, tenants.rival, tenants.sunrise
    owner = world.microsoft.add_user("Sunrise Owner", "owner@sunrise.example")
    olena = world.microsoft.add_user("Olena Koval", "olena@sunrise.example")
    tenants.connect_microsoft(sunrise, owner)
    tenants.connect_microsoft(sunrise, olena, as_staff=True)

    page = tenants.sign_in_microsoft(tenants.say(rival, "connect teams"), owner)
    assert page.status_code == 400 and "This Microsoft account is already in use" in page.text
    assert TAKEN in page.text and "Sunrise" not in page.text

    tenants.connect_microsoft(rival, world.microsoft.add_user("Rival Owner", "boss@rival.example"))
    reply = tenants.say(rival, "connect teams", user=rival.staff)
    page = tenants.sign_in_microsoft(reply, olena)
    assert page.status_code == 400 and TAKEN in page.text and "Sunrise" not in page.text
    assert [row.provider_external_id for row in tenants.ms_rows(rival)] == [""]
    assert {row.provider_external_id for row in tenants.ms_rows(sunrise)} == {"", "1"}


def test_microsoft_accounts_are_used_only_after_the_person_who_signed_in_confirms(
    tenants: Tenants,
) -> None:
    world, sunrise = tenants.world, tenants.sunrise
    owner = world.microsoft.add_user("Sunrise Owner", "owner@sunrise.example")
    olena = world.microsoft.add_user("Olena Koval", "olena@sunrise.example")

    page = tenants.sign_in_microsoft(tenants.say(sunrise, "connect teams"), owner)
    assert page.status_code == 200 and "Confirm in chat" in page.text
    asked = confirmation(world, sunrise.admin)
    text = json.dumps(asked)
    assert "Microsoft account Sunrise Owner (owner@sunrise.example) will host" in text
    assert "Sunrise Pilates's Teams meetings (the company's account)" in text
    assert tenants.ms_rows(sunrise) == [], "nothing is stored as an account before Confirm"
    assert "Nothing to confirm" in tenants.press(sunrise, asked, "Confirm", sunrise.staff)
    assert "Microsoft Teams is connected" in tenants.press(sunrise, asked, "Confirm", sunrise.admin)

    reply = tenants.say(sunrise, "connect teams", user=sunrise.staff)
    assert tenants.sign_in_microsoft(reply, olena).status_code == 200
    asked = confirmation(world, sunrise.staff)
    assert "will host Olena Koval's Teams meetings at Sunrise Pilates" in json.dumps(asked)
    assert "Nothing to confirm" in tenants.press(sunrise, asked, "Confirm", sunrise.admin)
    assert "not connected" in tenants.press(sunrise, asked, "Cancel", sunrise.staff)
    assert [row.provider_external_id for row in tenants.ms_rows(sunrise)] == [""]

    tenants.connect_microsoft(sunrise, olena, as_staff=True)
    assert {row.provider_external_id for row in tenants.ms_rows(sunrise)} == {"", "1"}


def test_behind_https_the_sign_in_cookie_is_secure(
    make_core: Callable[..., Core], world: SandboxWorld
) -> None:
    core = make_core(public_url="https://meetbot.example")
    demo = seed_demo(core, world)
    admin = Actor(ChatPlatform.SLACK, demo.team_id, "UADMIN")
    with BackgroundServer(build_web_app(core), name="meetbot") as server:
        for purpose, path in ((ZOOM_START_PURPOSE, "zoom"), (MS_START_PURPOSE, "microsoft")):
            start_id = core.states.issue(
                purpose=purpose, company_id=demo.company_id, actor=admin, ttl_seconds=60
            )
            shown = httpx.get(f"{server.url}/oauth/{path}/start", params={"id": start_id})
            consent = shown.headers["set-cookie"].lower()
            assert "; secure" in consent and "httponly" in consent and "samesite=lax" in consent
            form = FormPost(shown.text)
            started = httpx.post(  # a browser sends a Secure cookie over https only; this is http
                f"{server.url}{form.action}",
                data=form.fields,
                headers={"Cookie": f"meetbot_consent={form.fields['consent']}"},
            )
            assert started.status_code == 303, started.text
            cookie = started.headers["set-cookie"].lower()
            assert "; secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie


def test_a_microsoft_sign_in_that_cannot_start_is_a_page_not_a_server_error(
    tenants: Tenants,
) -> None:
    world, rival = tenants.world, tenants.rival
    start = start_link(tenants.say(rival, "connect teams"), MS_START)
    world.microsoft.faults.fail(path=".*", status=503, times=None)
    browser = Browser(world)
    try:
        answer = browser.open_start(start)
    finally:
        world.microsoft.faults.clear()
        browser.close()
    assert answer.status_code == 400, answer.text
    assert (
        "Microsoft could not be reached" in answer.text and "Nothing was connected" in answer.text
    )


def test_a_start_link_shows_what_it_connects_and_goes_on_only_from_meetbots_own_page(
    tenants: Tenants,
) -> None:
    """Someone who forwards their Connect link cannot start a sign-in in another's browser
    unseen: opening it says which company it is for, and only the page's own Continue goes on."""
    world, sunrise = tenants.world, tenants.sunrise
    world.zoom.authorizing_user = ("acct-sunrise-pilates", sunrise.demo.zoom_user_id)
    start = tenants.zoom_start(sunrise)
    shown = httpx.get(start, timeout=15)
    assert shown.status_code == 200 and "Connect Zoom to Sunrise Pilates" in shown.text
    assert "anyone who sends you this link" in shown.text
    policy = shown.headers["content-security-policy"]  # no other site frames the Continue button
    assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    nonce = re.search(r"'nonce-([\w-]+)'", policy)
    assert nonce and f"<style nonce='{nonce.group(1)}'>" in shown.text
    assert shown.headers["x-content-type-options"] == "nosniff"
    form = FormPost(shown.text)
    forged = httpx.post(  # another site's page posting the form: the page's cookie is missing
        start.split("?")[0], data={**form.fields, "consent": "forged"}, timeout=15
    )
    assert forged.status_code == 400 and "Nothing was connected" in forged.text
    assert "Connect Zoom to Sunrise Pilates" in httpx.get(start, timeout=15).text, "not used up"
    with httpx.Client(timeout=15) as person:
        assert continue_from(person, start).status_code == 303
