"""Direct messages to admins are sent once per admin, even when the job is run again after a
crash: the intent is recorded first, and a retry looks for the message before sending it again."""

from __future__ import annotations

import asyncio

import pytest

from bot.domain import AlertKind, ChatPlatform, ChatTarget, Job
from bot.errors import ChatChannelUnavailable, OutcomeUnknown, PermanentFailure
from bot.messages import ChatMessage
from bot.outbox import ChatOutbox
from bot.usecases import alerts
from bot.usecases.alerts import DeadJobAlerts, NoticeDeps, notify_admins, send_to_admins
from tests.core.fakes import FakeAlertStore, FakeChat, FakeClock, FakeOutbox

ANN = ChatTarget(ChatPlatform.SLACK, "T1", "U-ann")
BEN = ChatTarget(ChatPlatform.SLACK, "T1", "U-ben")
NOTICE = ChatMessage(title="Needs attention: Zoom needs reconnecting")


class World:
    def __init__(self, clock: FakeClock, *admins: ChatTarget) -> None:
        self.alerts = FakeAlertStore(clock)
        self.outbox = FakeOutbox(clock)
        self.outbox.inboxes["c1"] = list(admins)
        self.chat = FakeChat(clock)
        chats = {ChatPlatform.SLACK: self.chat}
        self.deps = NoticeDeps(self.alerts, ChatOutbox(records=self.outbox, chats=chats))

    def send(self, key: str = "alert:a1:first") -> int:
        return asyncio.run(
            send_to_admins(self.deps.outbox, company_id="c1", key=key, message=NOTICE)
        )


def test_each_admin_gets_the_message_once(clock: FakeClock) -> None:
    world = World(clock, ANN, BEN)
    assert world.send() == 2
    assert world.send() == 2  # the job ran again: nothing more is sent
    assert [sent.target for sent in world.chat.messages] == [ANN, BEN]


def test_a_crash_after_posting_finds_the_post_instead_of_repeating_it(clock: FakeClock) -> None:
    world = World(clock, ANN)
    world.send()
    # The process died after the post but before recording it: forget the recorded id.
    [entry] = world.outbox.entries.values()
    world.outbox.forget_post(entry)
    assert world.send() == 1
    assert len(world.chat.messages) == 1
    [entry] = world.outbox.entries.values()
    assert entry.message_id == world.chat.messages[0].message_id


def test_a_crash_before_posting_posts_on_the_retry(clock: FakeClock) -> None:
    world = World(clock, ANN)
    world.chat.fail_next(OutcomeUnknown("the connection dropped"))
    with pytest.raises(OutcomeUnknown):
        world.send()
    assert world.chat.messages == []
    assert world.send() == 1
    assert len(world.chat.messages) == 1


def test_only_a_retry_looks_for_an_earlier_post(clock: FakeClock) -> None:
    world = World(clock, ANN)
    world.send()
    assert world.chat.lookups == []  # a first attempt cannot have posted before
    world.outbox.forget_post(next(iter(world.outbox.entries.values())))
    world.send()
    assert len(world.chat.lookups) == 1


def test_one_unreachable_admin_does_not_silence_the_others(clock: FakeClock) -> None:
    world = World(clock, ANN, BEN)
    world.chat.fail_next(ChatChannelUnavailable("ann left", code="user_not_found"))
    assert world.send() == 1
    assert [sent.target for sent in world.chat.messages] == [BEN]


def test_no_admin_reachable_is_a_permanent_failure(clock: FakeClock) -> None:
    world = World(clock, ANN)
    world.chat.fail_next(ChatChannelUnavailable("gone", code="user_not_found"))
    with pytest.raises(PermanentFailure, match="no admin could be reached"):
        world.send()


def test_no_admin_known_sends_nothing_and_fails_nothing(clock: FakeClock) -> None:
    assert World(clock).send() == 0


def test_different_keys_are_different_messages(clock: FakeClock) -> None:
    world = World(clock, ANN)
    world.send("alert:a1:first")
    world.send("alert:a1:resolved")
    assert len(world.chat.messages) == 2


def test_a_notice_for_an_unknown_alert_tells_nobody(clock: FakeClock) -> None:
    world = World(clock, ANN)
    said = asyncio.run(
        notify_admins(world.deps, company_id="c1", key="alert:zz:first", timezone="UTC")
    )
    assert said == "nothing to tell: alert:zz:first is unknown"
    assert world.chat.messages == []


def test_an_alert_resolved_before_it_was_told_is_not_told(clock: FakeClock) -> None:
    world = World(clock, ANN)
    world.alerts.raise_alert(company_id="c1", spec=alerts.zoom_revoked("revoked"))
    world.alerts.resolve(company_id="c1", kind=AlertKind.ACCOUNT_REVOKED, resolution="reconnected")
    said = asyncio.run(
        notify_admins(world.deps, company_id="c1", key="alert:a1:first", timezone="UTC")
    )
    assert said == "resolved before it was told"
    assert world.chat.messages == []


def test_an_open_alert_is_told_with_its_fix_button(clock: FakeClock) -> None:
    world = World(clock, ANN)
    world.alerts.raise_alert(company_id="c1", spec=alerts.zoom_revoked("token revoked"))
    said = asyncio.run(
        notify_admins(world.deps, company_id="c1", key="alert:a1:first", timezone="UTC")
    )
    assert said == "told 1 admin(s): Zoom needs reconnecting"
    [sent] = world.chat.messages
    assert sent.message.title == "Needs attention: Zoom needs reconnecting"
    assert [action.action_id for action in sent.message.actions] == [alerts.ACTION_RECONNECT_ZOOM]


def test_the_same_problem_is_alerted_once_until_resolved(clock: FakeClock) -> None:
    store = FakeAlertStore(clock)
    spec = alerts.zoom_revoked("revoked")
    assert store.raise_alert(company_id="c1", spec=spec, booking="AB12")
    assert not store.raise_alert(company_id="c1", spec=spec, booking="CD34")
    [alert] = store.open_alerts(company_id="c1")
    assert alert.bookings == ("AB12", "CD34")


def dead_job(kind: str = "sync_booking", company: str | None = "c1") -> Job:
    return Job(7, kind, company, {"booking_id": "1001"}, 8, "w1")


def test_a_dead_booking_job_raises_an_alert_and_its_later_success_resolves_it(
    clock: FakeClock,
) -> None:
    store = FakeAlertStore(clock)
    observer = DeadJobAlerts(store)
    observer.buried(dead_job(), "gave up")
    [alert] = store.open_alerts(company_id="c1")
    assert alert.spec.kind is AlertKind.JOB_DEAD and alert.bookings == ("1001",)
    observer.completed(dead_job(), "meeting created")
    assert store.open_alerts(company_id="c1") == []
    assert "went through on a later try" in store.alerts[alert.id].resolution


@pytest.mark.parametrize(("kind", "company"), [("digest", "c1"), ("sync_booking", None)])
def test_other_dead_jobs_raise_no_alert(clock: FakeClock, kind: str, company: str | None) -> None:
    store = FakeAlertStore(clock)
    DeadJobAlerts(store).buried(dead_job(kind, company), "x")
    assert store.alerts == {}
