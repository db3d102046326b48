"""A booking's changes reach its meeting and message: a reschedule moves the meeting (links stay),
a cancel deletes it, a payment opens the client's link; the provider's message is edited in place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from app.bootstrap import Core
from app.sandbox import Demo, SandboxWorld, book, message_as_text
from storage.tables import MeetingRow

from .conftest import SteppingClock, count_rows, run_jobs
from .harness import deliver


def _top(world: SandboxWorld, demo: Demo) -> list[dict[str, Any]]:
    """The channel's messages without thread replies."""
    return [m for m in world.slack.messages(demo.channel_id) if m["thread_ts"] in (None, m["ts"])]


def _links(world: SandboxWorld, demo: Demo, web: str) -> tuple[str, str]:
    [message] = _top(world, demo)
    text = message_as_text(message)
    client = next(w for w in text.split() if "/m/" in w).replace("http://meetbot.test", web)
    host = next(w for w in text.split() if "/h/" in w).replace("http://meetbot.test", web)
    return client, host


def _local(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}"


def test_create_reschedule_cancel(core: Core, demo: Demo, world: SandboxWorld, web: str) -> None:
    booking = book(world, demo, client_name="Iryna")
    deliver(web, world, demo, booking["id"], "create")
    run_jobs(core)
    [meeting] = world.zoom.live_meetings()
    client, host = _links(world, demo, web)

    later = (datetime.now(ZoneInfo("Europe/Kyiv")) + timedelta(days=3)).replace(
        hour=15, minute=30, second=0, microsecond=0
    )
    world.simplybook.update_booking(
        demo.login, booking["id"], start=_local(later), end=_local(later + timedelta(minutes=45))
    )
    deliver(web, world, demo, booking["id"], "change")
    run_jobs(core)

    moved = world.zoom.meeting(meeting["id"])
    assert moved is not None and moved["duration"] == 45
    assert moved["start_time"] == later.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")
    message, reply = world.slack.messages(demo.channel_id)
    assert len(message["edits"]) == 1, "edited in place, not posted again"
    assert "15:30–16:15 (Europe/Kyiv)" in message_as_text(message)
    assert reply["thread_ts"] == message["ts"], "a short reply in the message's thread"
    said = message_as_text(reply)
    assert said.startswith("Rescheduled") and "Now: " in said and "15:30–16:15" in said
    assert _links(world, demo, web) == (client, host), "the links stay the same"
    waiting = httpx.get(client)  # three days ahead now: the link waits for the new time
    assert waiting.status_code == 200 and "has not started yet" in waiting.text

    world.simplybook.update_booking(demo.login, booking["id"], status="cancelled")
    deliver(web, world, demo, booking["id"], "cancel")
    deliver(web, world, demo, booking["id"], "cancel")  # redelivered: costs nothing
    run_jobs(core)

    assert world.zoom.live_meetings() == []
    [message] = _top(world, demo)
    assert len(message["edits"]) == 2
    assert "Cancelled: Online yoga consultation" in message_as_text(message)
    assert "/m/" not in message_as_text(message), "no link buttons on a cancelled booking"
    for link in (client, host):
        page = httpx.get(link)
        assert page.status_code == 410 and "cancelled" in page.text
    assert count_rows(core, MeetingRow) == 1 and world.zoom.created_count() == 1
    assert {j.state for j in core.queue.jobs(kind="sync_booking")} == {"done"}
    [reminder] = core.queue.jobs(kind="meeting_reminder")
    assert reminder.run_at == later.astimezone(ZoneInfo("UTC")) - timedelta(minutes=10)


def test_a_change_that_is_not_a_time_change_leaves_the_meeting_alone(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    booking = book(world, demo)
    deliver(web, world, demo, booking["id"], "create")
    run_jobs(core)
    world.simplybook.update_booking(demo.login, booking["id"], client_phone="+380441234567")
    deliver(web, world, demo, booking["id"], "change")
    run_jobs(core)
    assert world.zoom.count("PATCH") == 0
    [message] = world.slack.messages(demo.channel_id)
    assert message["edits"] == []
    assert core.queue.jobs(kind="sync_booking")[-1].note == "meeting and message already in place"


def test_a_meeting_deleted_on_zoom_is_recreated_behind_the_same_links(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    booking = book(world, demo)
    deliver(web, world, demo, booking["id"], "create")
    run_jobs(core)
    [first] = world.zoom.live_meetings()
    client, _ = _links(world, demo, web)
    token = world.zoom.issue_tokens(account_id=f"acct-{demo.login}", user_id=demo.zoom_user_id)[
        "access_token"
    ]
    gone = httpx.delete(
        f"{world.url('zoom')}/v2/meetings/{first['id']}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert gone.status_code == 204
    moved = (datetime.now(ZoneInfo("Europe/Kyiv")) + timedelta(minutes=8)).replace(
        second=0, microsecond=0
    )
    world.simplybook.update_booking(
        demo.login, booking["id"], start=_local(moved), end=_local(moved + timedelta(hours=1))
    )
    deliver(web, world, demo, booking["id"], "change")
    run_jobs(core)
    [second] = world.zoom.live_meetings()
    assert second["id"] != first["id"]
    assert httpx.get(client).headers["location"] == second["join_url"]
    assert len(_top(world, demo)) == 1, "edited, not posted again"


def test_unpaid_booking_link_waits_for_payment(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    booking = book(world, demo, payment_status="not_paid")
    deliver(web, world, demo, booking["id"], "create")
    run_jobs(core)
    [meeting] = world.zoom.live_meetings()
    client, _ = _links(world, demo, web)
    page = httpx.get(client)
    assert page.status_code == 200 and "Payment pending" in page.text
    assert meeting["join_url"] not in page.text and "zoom" not in page.text.lower()
    pending = message_as_text(world.slack.messages(demo.channel_id)[0])
    assert "Payment: pending" in pending
    assert "Start meeting now" not in pending, "it could not open the client's link anyway"

    world.simplybook.update_booking(demo.login, booking["id"], payment_status="paid")
    deliver(web, world, demo, booking["id"], "change")
    run_jobs(core)
    assert httpx.get(client).headers["location"] == meeting["join_url"]
    [message] = world.slack.messages(demo.channel_id)
    assert "Payment: paid" in message_as_text(message) and len(message["edits"]) == 1
    assert "[Start meeting now]" in message_as_text(message), "offered once it is paid"


def test_a_booking_that_already_ended_gets_no_meeting_and_one_plain_notice(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    booking = book(world, demo, client_name="Iryna", starts_in=timedelta(hours=-3))
    for kind in ("create", "change", "create"):
        deliver(web, world, demo, booking["id"], kind)
        run_jobs(core)
    assert world.zoom.created_count() == 0 and count_rows(core, MeetingRow) == 0
    [notice] = world.slack.messages(demo.channel_id)
    text = message_as_text(notice)
    assert text.startswith("Too late for a meeting: Online yoga consultation")
    assert "had already ended when meetbot heard of it, so no video meeting was made" in text
    assert "/m/" not in text and "/h/" not in text, "no links to a meeting that does not exist"


def test_cancelled_before_the_meeting_was_made(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    booking = book(world, demo, status="cancelled")
    deliver(web, world, demo, booking["id"], "cancel")
    run_jobs(core)
    assert world.zoom.created_count() == 0 and world.slack.messages(demo.channel_id) == []
    assert (
        core.queue.jobs(kind="sync_booking")[0].note == "booking is cancelled; no meeting to cancel"
    )


def test_a_failed_edit_after_cancel_is_finished_by_the_retry(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    booking = book(world, demo)
    deliver(web, world, demo, booking["id"], "create")
    run_jobs(core)
    world.slack.faults.fail(method="POST", path=r"chat\.update$", status=500, times=1)
    world.simplybook.update_booking(demo.login, booking["id"], status="cancelled")
    deliver(web, world, demo, booking["id"], "cancel")
    run_jobs(core)
    [message] = _top(world, demo)
    assert "Cancelled: Online yoga consultation" in message_as_text(message)
    [told] = [m for m in world.slack.messages(demo.channel_id) if m["reply_broadcast"]]
    assert told["thread_ts"] == message["ts"], "the retry told the channel once"
    assert world.zoom.live_meetings() == [] and world.zoom.count("DELETE") == 1
    assert core.queue.jobs(kind="sync_booking")[-1].attempts == 2


def test_a_reminder_replies_at_the_opening_time_once_and_follows_a_move(
    core: Core, demo: Demo, world: SandboxWorld, web: str, clock: SteppingClock
) -> None:
    booking = book(world, demo, starts_in=timedelta(days=2))
    deliver(web, world, demo, booking["id"], "create")
    run_jobs(core)
    [message] = world.slack.messages(demo.channel_id)
    [meeting] = world.zoom.live_meetings()
    start = datetime.strptime(meeting["start_time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)

    clock.offset = start - timedelta(minutes=10, seconds=30) - datetime.now(UTC)
    run_jobs(core)
    assert len(world.slack.messages(demo.channel_id)) == 1, "not before the opening time"

    clock.offset = start - timedelta(minutes=9) - datetime.now(UTC)
    run_jobs(core)
    run_jobs(core)
    _, reminder = world.slack.messages(demo.channel_id)
    assert reminder["thread_ts"] == message["ts"]
    text = message_as_text(reminder)
    assert text.startswith("Starting soon: Online yoga consultation")
    assert "[Open as host] http://meetbot.test/h/" in text
    [job] = core.queue.jobs(kind="meeting_reminder")
    assert job.state == "done" and job.note == "reminder posted under 1 message(s)"


def test_a_moved_meetings_old_reminder_stays_quiet(
    core: Core, demo: Demo, world: SandboxWorld, web: str, clock: SteppingClock
) -> None:
    booking = book(world, demo, starts_in=timedelta(days=2))
    deliver(web, world, demo, booking["id"], "create")
    run_jobs(core)
    later = (datetime.now(ZoneInfo("Europe/Kyiv")) + timedelta(days=4)).replace(
        hour=12, minute=0, second=0, microsecond=0
    )
    world.simplybook.update_booking(
        demo.login, booking["id"], start=_local(later), end=_local(later + timedelta(hours=1))
    )
    deliver(web, world, demo, booking["id"], "change")
    run_jobs(core)
    clock.offset = timedelta(days=2)  # past the old time, before the new one
    run_jobs(core)
    old, new = core.queue.jobs(kind="meeting_reminder")
    assert old.state == "done" and "moved" in (old.note or "")
    assert new.state == "pending"
    replies = [m for m in world.slack.messages(demo.channel_id) if m["thread_ts"]]
    assert [message_as_text(r).split("\n")[0] for r in replies] == ["Rescheduled"]


def test_a_message_deleted_in_slack_is_posted_again_on_the_next_change(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    booking = book(world, demo, client_name="Iryna")
    deliver(web, world, demo, booking["id"], "create")
    run_jobs(core)
    [first] = world.slack.messages(demo.channel_id)
    deleted = httpx.post(
        f"{world.url('slack')}/api/chat.delete",
        data={"channel": demo.channel_id, "ts": first["ts"]},
        headers={"Authorization": f"Bearer xoxb-{demo.team_id}-sandbox"},
    )
    assert deleted.json()["ok"], deleted.text
    world.simplybook.update_booking(demo.login, booking["id"], payment_status="not_paid")
    deliver(web, world, demo, booking["id"], "change")
    run_jobs(core)
    [again] = _top(world, demo)
    assert again["ts"] != first["ts"] and "Payment: pending" in message_as_text(again)
    last = core.queue.jobs(kind="sync_booking")[-1]
    assert (
        last.state == "done"
        and last.note == "the provider's message had been deleted; posted again"
    )
