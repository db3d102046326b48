"""The chat app's Home, decided in memory: whom it shows which meetings (never another company's,
nor below admin another provider's), what admins see, and when it is published again."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from bot.domain import (
    AccountState,
    Actor,
    Booking,
    ChatPlatform,
    Company,
    Meeting,
    MeetingHostRef,
    MeetingPlatform,
    MeetingState,
    PaymentState,
    Provider,
    Service,
    ZoomAccount,
)
from bot.errors import ChatAuthRevoked, PermanentFailure, RetryLater
from bot.home import MAX_MEETINGS, HomeView
from bot.messages import START_ACTION
from bot.urls import PublicUrls
from bot.usecases import alerts
from bot.usecases.home import NOT_SET_UP, HomeDeps, home_opened, refresh_homes
from tests.core.fakes import (
    EPOCH,
    FakeAlertStore,
    FakeBookingWebhooks,
    FakeClock,
    FakeHomePublisher,
    FakeHomeRecords,
    RecordFakes,
    booking_details,
    build_deps,
    record_fakes,
)

STUDIO = Company("c1", "studio", "Studio", "Europe/Kyiv", online_meetings_enabled=True)
GYM = Company("c2", "gym", "Gym", "UTC", online_meetings_enabled=True)
ADMIN = Actor(ChatPlatform.SLACK, "T1", "U-admin")
OLENA = Actor(ChatPlatform.SLACK, "T1", "U-olena")
TARAS = Actor(ChatPlatform.SLACK, "T1", "U-taras")
STRANGER = Actor(ChatPlatform.SLACK, "T1", "U-nobody")
GYM_COACH = Actor(ChatPlatform.SLACK, "T2", "U-coach")  # the other company's provider "p1"
HOST = MeetingHostRef(MeetingPlatform.ZOOM, "z1", "host@studio.com")


class Homes:
    """Two companies whose providers share an external id ("p1"), staff tied to each, and the
    Home's stand-ins."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.records: RecordFakes = record_fakes(self.clock)
        self.records.companies.add(STUDIO, workspace=("slack", "T1"))
        self.records.companies.add(GYM, workspace=("slack", "T2"))
        self.alerts = FakeAlertStore(self.clock)
        self.webhooks = FakeBookingWebhooks()
        self.home = FakeHomeRecords(self.records.records)
        self.publisher = FakeHomePublisher()
        shared = self.records.records
        shared.zoom_accounts["c1"] = ZoomAccount("z1", "c1", "acc1", AccountState.ACTIVE)
        for company, provider, name in (
            ("c1", "p1", "Olena"),
            ("c1", "p2", "Taras"),
            ("c2", "p1", "Coach"),
        ):
            shared.providers[(company, provider)] = Provider(
                company, provider, name, "", MeetingPlatform.ZOOM, "host@studio.com", None
            )
        shared.services[("c1", "s1")] = Service("c1", "s1", "Yoga", online_meetings=True)
        staff = self.records.staff
        staff.set_role(company_id="c1", actor=ADMIN, user_id=ADMIN.user_id, role="admin")
        staff.tie_staff(
            company_id="c1", actor=OLENA, user_id=OLENA.user_id, provider_external_id="p1"
        )
        staff.tie_staff(
            company_id="c1", actor=TARAS, user_id=TARAS.user_id, provider_external_id="p2"
        )
        staff.tie_staff(
            company_id="c2", actor=GYM_COACH, user_id=GYM_COACH.user_id, provider_external_id="p1"
        )

    def deps(self) -> HomeDeps:
        offered = {
            **self.records.named(),
            "alerts": self.alerts,
            "home": self.home,
            "publisher": self.publisher,
            "booking_webhooks": self.webhooks,
            "urls": PublicUrls("https://meetbot.example"),
            "clock": self.clock,
        }
        return build_deps(HomeDeps, offered)

    def meeting(
        self, company: str, provider: str, client: str, *, days: float = 1, **details: Any
    ) -> Meeting:
        """A scheduled meeting for a booking of `provider`, `days` from now."""
        number = self.records.records.new_id("")
        start = EPOCH + timedelta(days=days)
        booking = Booking(
            f"b{number}",
            company,
            booking_details(
                start=start,
                external_id=number,
                provider_id=provider,
                client_name=client,
                **details,
            ),
        )
        self.records.records.bookings[booking.id] = booking
        meeting = Meeting(
            id=f"meet{number}",
            company_id=company,
            booking_id=booking.id,
            host=HOST,
            marker=f"m{number}",
            state=MeetingState.SCHEDULED,
            start=start,
            end=start + timedelta(hours=1),
            external_id=f"z{number}",
            join_url="https://zoom.example/j",
            client_token=f"client-{number}",
            host_token=f"host-{number}",
        )
        self.records.records.meetings[meeting.id] = meeting
        return meeting

    def open(self, viewer: Actor) -> HomeView:
        asyncio.run(home_opened(self.deps(), viewer))
        shown = self.publisher.shown(viewer.workspace_id, viewer.user_id)
        assert shown is not None
        return shown


@pytest.fixture
def homes() -> Homes:
    return Homes()


def _clients(view: HomeView) -> list[str]:
    return [meeting.title.split(" · ")[1] for meeting in view.meetings]


def test_a_providers_staff_member_sees_that_providers_meetings_and_nobody_elses(
    homes: Homes,
) -> None:
    homes.meeting("c1", "p1", "Ann", days=2)
    homes.meeting("c1", "p1", "Bea", days=1)
    homes.meeting("c1", "p2", "Taras's client")
    homes.meeting("c2", "p1", "Gym client")  # another company, same provider id

    olena, taras, coach = homes.open(OLENA), homes.open(TARAS), homes.open(GYM_COACH)

    assert _clients(olena) == ["Bea", "Ann"]  # soonest first
    assert _clients(taras) == ["Taras's client"]
    assert _clients(coach) == ["Gym client"]
    assert not olena.admin and not olena.setup and not olena.problems
    assert olena.title == "meetbot for Studio" and coach.title == "meetbot for Gym"


def test_each_meeting_has_its_host_link_and_the_start_button_of_its_message(
    homes: Homes,
) -> None:
    made = homes.meeting("c1", "p1", "Ann")

    [meeting] = homes.open(OLENA).meetings

    assert meeting.host_link == "https://meetbot.example/h/" + made.host_token
    assert meeting.start_button is not None
    assert (meeting.start_button.action_id, meeting.start_button.value) == (START_ACTION, made.id)
    assert meeting.when.endswith("(Europe/Kyiv)")  # the fallback: the company's own zone


def test_no_start_button_while_payment_is_pending_or_once_the_meeting_is_open(
    homes: Homes,
) -> None:
    homes.meeting("c1", "p1", "Pays later", payment=PaymentState.PENDING)
    opened = homes.meeting("c1", "p1", "Opened early", days=2)
    homes.records.records.meetings[opened.id] = replace(opened, opened_at=EPOCH)
    homes.meeting("c1", "p1", "Opens by itself", days=0.005)  # 7 minutes away, lead is 10

    shown = {meeting.title: meeting for meeting in homes.open(OLENA).meetings}

    assert all(meeting.start_button is None for meeting in shown.values())
    assert "Awaiting payment" in shown["Yoga · Pays later"].state
    assert "Open" in shown["Yoga · Opened early"].state
    assert "Open" in shown["Yoga · Opens by itself"].state


def test_cancelled_and_finished_meetings_are_not_listed(homes: Homes) -> None:
    cancelled = homes.meeting("c1", "p1", "Cancelled")
    homes.records.records.meetings[cancelled.id] = replace(cancelled, state=MeetingState.CANCELLED)
    homes.meeting("c1", "p1", "Yesterday", days=-1)

    view = homes.open(OLENA)

    assert view.meetings == () and view.meetings_note == "No upcoming online meetings."


def test_the_soonest_meetings_are_shown_and_the_rest_are_pointed_to(homes: Homes) -> None:
    for day in range(MAX_MEETINGS + 3):
        homes.meeting("c1", "p1", f"Client {day}", days=day + 1)

    view = homes.open(OLENA)

    assert len(view.meetings) == MAX_MEETINGS
    assert _clients(view)[0] == "Client 0"
    assert "/meetings report" in view.meetings_note


def test_an_admin_sees_the_set_up_and_each_open_problem_with_its_fix_button(
    homes: Homes,
) -> None:
    homes.alerts.raise_alert(company_id="c1", spec=alerts.zoom_revoked("the token was revoked"))
    homes.alerts.raise_alert(company_id="c2", spec=alerts.kiosk_on())  # the other company's

    view = homes.open(ADMIN)

    assert view.admin and view.meetings == ()  # an admin tied to no provider has no meetings
    setup = {fact.label: fact.value for fact in view.setup}
    assert setup["Online meetings"] == "on" and setup["Zoom"] == "connected (account acc1)"
    assert setup["SimplyBook.me"] == "connected as studio (Europe/Kyiv)"
    assert setup["Services with online meetings"] == "Yoga" and setup["Providers"] == "2"
    assert "Booking webhook" not in setup
    [problem] = view.problems
    assert problem.title == "Zoom needs reconnecting"
    assert problem.fix is not None and problem.fix.action_id == alerts.ACTION_RECONNECT_ZOOM


def test_someone_with_no_role_is_told_how_to_get_their_meetings_shown(homes: Homes) -> None:
    homes.meeting("c1", "p1", "Ann")

    view = homes.open(STRANGER)

    assert view.meetings == () and not view.admin
    assert "/meetings provider NAME staff @you" in view.intro


def test_a_workspace_without_a_company_gets_the_first_step_and_is_not_remembered(
    homes: Homes,
) -> None:
    outsider = Actor(ChatPlatform.SLACK, "T-new", "U1")

    assert homes.open(outsider) == NOT_SET_UP
    assert homes.home.viewers_by_company == {}


def test_a_refresh_publishes_only_views_that_changed(homes: Homes) -> None:
    homes.open(OLENA)
    homes.open(TARAS)
    homes.open(GYM_COACH)
    published = len(homes.publisher.published)
    homes.meeting("c1", "p1", "New booking")

    said = asyncio.run(refresh_homes(homes.deps(), company_id="c1"))

    assert said == "Home views: 1 published, 1 unchanged, 0 refused"
    assert homes.publisher.published[published:][0][1] == OLENA.user_id
    assert _clients(homes.publisher.published[-1][2]) == ["New booking"]


def test_a_refresh_skips_a_workspace_that_now_belongs_to_another_company(homes: Homes) -> None:
    homes.open(OLENA)
    homes.records.records.workspaces[("slack", "T1")] = "c2"
    homes.meeting("c1", "p1", "New booking")

    said = asyncio.run(refresh_homes(homes.deps(), company_id="c1"))

    assert said == "Home views: 0 published, 0 unchanged, 0 refused"


def test_one_refused_viewer_does_not_stop_the_others_and_a_rate_limit_retries_the_job(
    homes: Homes,
) -> None:
    homes.open(OLENA)
    homes.open(TARAS)
    homes.meeting("c1", "p1", "For Olena")
    homes.meeting("c1", "p2", "For Taras")
    homes.publisher.fail_next(ChatAuthRevoked("gone"))

    said = asyncio.run(refresh_homes(homes.deps(), company_id="c1"))
    assert said == "Home views: 1 published, 0 unchanged, 1 refused"

    homes.meeting("c1", "p1", "Another")
    homes.meeting("c1", "p2", "Another")
    homes.publisher.fail_next(RetryLater("Slack rate limit", after_seconds=3))
    with pytest.raises(RetryLater):
        asyncio.run(refresh_homes(homes.deps(), company_id="c1"))
    assert homes.publisher.published[-1][1] == TARAS.user_id  # Olena waits for the retry


def test_a_viewer_slack_refuses_is_not_remembered(homes: Homes) -> None:
    homes.publisher.fail_next(PermanentFailure("Slack refused the Home view: user_not_found"))

    with pytest.raises(PermanentFailure):
        asyncio.run(home_opened(homes.deps(), OLENA))

    assert homes.home.viewers(company_id="c1") == []


def test_an_admin_of_a_company_fed_only_by_the_booking_webhook_sees_the_webhook(
    homes: Homes,
) -> None:
    shop = Company("c3", "", "Shop", "UTC", online_meetings_enabled=True)
    homes.records.companies.add(shop, workspace=("slack", "T3"))
    source, _secret = homes.webhooks.connect(company_id="c3")
    boss = Actor(ChatPlatform.SLACK, "T3", "U-boss")
    homes.records.staff.set_role(company_id="c3", actor=boss, user_id=boss.user_id, role="admin")

    setup = {fact.label: fact.value for fact in homes.open(boss).setup}

    assert setup["SimplyBook.me"] == "not connected (bookings come from the booking webhook)"
    assert setup["Booking webhook"] == (
        f"connected (https://meetbot.example/webhooks/bookings/{source.id})"
    )
    assert setup["Zoom"] == "not connected"


def test_a_workspace_without_a_company_is_told_both_ways_to_start() -> None:
    assert "`/meetings connect simplybook`" in NOT_SET_UP.intro
    assert "`/meetings connect webhook`" in NOT_SET_UP.intro


def test_a_workspace_admin_demoted_in_slack_loses_the_admins_home_at_the_next_refresh(
    homes: Homes,
) -> None:
    owner = Actor(ChatPlatform.SLACK, "T1", "U-owner", is_workspace_admin=True)  # no meetbot role
    homes.publisher.workspace_admins.add(("T1", "U-owner"))
    homes.alerts.raise_alert(company_id="c1", spec=alerts.kiosk_on())
    assert homes.open(owner).admin

    homes.publisher.workspace_admins.clear()  # Slack: no longer an admin or owner
    homes.alerts.raise_alert(company_id="c1", spec=alerts.zoom_revoked("revoked"))
    asyncio.run(refresh_homes(homes.deps(), company_id="c1"))

    shown = homes.publisher.shown("T1", "U-owner")
    assert shown is not None and not shown.admin
    assert shown.setup == () and shown.problems == ()
    [viewer] = homes.home.viewers(company_id="c1")
    assert not viewer.actor.is_workspace_admin  # kept: the next refresh need not ask again
    asyncio.run(refresh_homes(homes.deps(), company_id="c1"))
    assert homes.publisher.admin_checks == [("T1", "U-owner")]


def test_a_workspace_admin_still_admin_keeps_the_admins_home_and_a_meetbot_role_decides_alone(
    homes: Homes,
) -> None:
    owner = Actor(ChatPlatform.SLACK, "T1", "U-owner", is_workspace_admin=True)
    homes.publisher.workspace_admins.add(("T1", "U-owner"))
    homes.open(owner)
    # An admin by meetbot role who is a workspace admin too: the role decides, Slack is not asked.
    homes.open(replace(ADMIN, is_workspace_admin=True))
    homes.alerts.raise_alert(company_id="c1", spec=alerts.kiosk_on())

    asyncio.run(refresh_homes(homes.deps(), company_id="c1"))

    shown = homes.publisher.shown("T1", "U-owner")
    assert shown is not None and shown.admin and shown.problems
    assert homes.publisher.admin_checks == [("T1", "U-owner")]


def test_an_admin_demoted_by_a_meetbot_role_loses_the_admins_home_at_the_next_refresh(
    homes: Homes,
) -> None:
    assert homes.open(ADMIN).admin
    homes.records.staff.set_role(company_id="c1", actor=ADMIN, user_id=ADMIN.user_id, role="junior")
    homes.alerts.raise_alert(company_id="c1", spec=alerts.kiosk_on())

    asyncio.run(refresh_homes(homes.deps(), company_id="c1"))

    shown = homes.publisher.shown(ADMIN.workspace_id, ADMIN.user_id)
    assert shown is not None and not shown.admin and shown.problems == ()


def test_when_slack_cannot_say_the_viewer_is_shown_no_admins_home_and_a_rate_limit_retries(
    homes: Homes,
) -> None:
    owner = Actor(ChatPlatform.SLACK, "T1", "U-owner", is_workspace_admin=True)
    homes.publisher.workspace_admins.add(("T1", "U-owner"))
    homes.open(owner)
    homes.alerts.raise_alert(company_id="c1", spec=alerts.kiosk_on())

    homes.publisher.fail_next(RetryLater("Slack rate limit", after_seconds=3))
    with pytest.raises(RetryLater):
        asyncio.run(refresh_homes(homes.deps(), company_id="c1"))

    homes.publisher.fail_next(PermanentFailure("Slack: user_not_allowed"))
    asyncio.run(refresh_homes(homes.deps(), company_id="c1"))
    shown = homes.publisher.shown("T1", "U-owner")
    assert shown is not None and not shown.admin
