"""Messages that several jobs write (a group class's, admins' notices, the digest) are posted once
and end complete, however the jobs interleave: concurrent bookings of one class, slow platforms,
a post that Slack accepts long before it answers (issue: shared-message race, rule 3)."""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from app.bootstrap import Core, build_integrations
from app.jobs import schedule_routine
from app.sandbox import (
    Demo,
    SandboxWorld,
    add_class_service,
    book,
    book_seat,
    message_as_text,
    seed_demo,
)
from app.web import build_web_app
from app.worker import build_worker
from bot.messages import format_time_range
from simulators.server import BackgroundServer

from .conftest import SteppingClock, free_port
from .harness import busy, deliver, make_admin
from .teams_platform import (
    Meetbot,
    Tenant,
    bookings_channel_in_teams,
    chat_in_teams,
    text_of,
)

pytestmark = pytest.mark.slow

CLASS_SERVICE = "3"
KYIV = ZoneInfo("Europe/Kyiv")
SLOW = (0.5, 6.0)  # seconds; all inside meetbot's own HTTP timeouts
# Classes raced side by side in the three-booking tests; MEETBOT_CLASS_RACES=20 for the long run.
RACES = int(os.environ.get("MEETBOT_CLASS_RACES", "2"))
POST = r"/api/chat\.postMessage$"


def class_start(days: int, hour: int) -> datetime:
    return (datetime.now(KYIV) + timedelta(days=days)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )


def run_two_workers(
    core: Core, *, timeout: float, while_running: Callable[[], None] = lambda: None
) -> None:
    """Two workers of four lanes each, side by side on one database, until nothing is left to do.

    `while_running` is called (in a thread) once the workers are up: it can deliver more webhooks
    or release a held answer while jobs are in flight."""

    async def main() -> None:
        integrations = build_integrations(core)
        workers = [build_worker(core, integrations, role=f"race-{n}") for n in (1, 2)]
        stop = asyncio.Event()
        running = [asyncio.create_task(worker.run(stop)) for worker in workers]
        try:
            await asyncio.to_thread(while_running)
            for _ in range(int(timeout * 10)):
                if not busy(core, due_within_seconds=10):
                    break
                await asyncio.sleep(0.1)
        finally:
            stop.set()
            await asyncio.gather(*running)
            await integrations.aclose()
        assert not busy(core, due_within_seconds=10), "the jobs did not finish in time"

    asyncio.run(main())


def seats_in(text: str) -> dict[str, str]:
    """Client name → their own link, as the class message lists them."""
    return dict(re.findall(r"• (\w+) \(\w+\): (\S+/m/[\w-]+)", text))


def assert_one_complete_class(
    world: SandboxWorld, texts: list[str], clients: set[str], web: str, start: datetime
) -> None:
    """`texts`: what the channel shows of this class; one message, every seat, one meeting."""
    assert len(texts) == 1, f"one class message, not {len(texts)}"
    [text] = texts
    seats = seats_in(text)
    assert set(seats) == clients, text
    assert f"Seats: {len(clients)}" in text
    assert len(set(seats.values())) == len(clients), "a link of their own each"
    [meeting] = [m for m in world.zoom.live_meetings() if _starts(m) == start]
    stored = world.zoom.meeting(meeting["id"])
    assert stored is not None
    registered = {r["email"] for r in stored["registrants"] if r["status"] == "approved"}
    assert registered == {f"{client.lower()}@example.test" for client in clients}
    for link in seats.values():
        answer = httpx.get(link.replace("http://meetbot.test", web))
        assert answer.status_code in (200, 303), "every listed link opens (or waits)"


def _starts(meeting: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(meeting["start_time"]).replace("Z", "+00:00"))


def of_class(texts: list[str], start: datetime) -> list[str]:
    """Slack's fallback names the company's zone; a Teams card carries the moment itself."""
    when = format_time_range(start, start + timedelta(hours=1), "Europe/Kyiv")
    moment = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [text for text in texts if when in text or f"When: {moment}" in text]


def race_classes(web: str, world: SandboxWorld, demo: Demo) -> list[tuple[datetime, set[str]]]:
    """RACES classes, three clients each, every booking delivered at once."""
    classes = [
        (class_start(days=1 + n // 10, hour=8 + n % 10), {f"Iryna{n}", f"Petro{n}", f"Oksana{n}"})
        for n in range(RACES)
    ]
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(
            pool.map(
                lambda seat: deliver(web, world, demo, book_seat(world, demo, *seat)["id"]),
                [(start, client) for start, clients in classes for client in sorted(clients)],
            )
        )
    return classes


def test_three_concurrent_bookings_of_a_class_on_slow_slack_and_zoom_end_in_one_complete_message(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    add_class_service(core, world, demo)
    world.zoom.faults.delay(path="/v2/", seconds=SLOW, seed=7)
    world.slack.faults.delay(path=POST, seconds=SLOW, after_effect=True, seed=7)
    world.slack.faults.delay(path=r"/api/chat\.update$", seconds=SLOW, seed=8)
    classes = race_classes(web, world, demo)

    run_two_workers(core, timeout=240 + 20 * RACES)

    texts = [message_as_text(m) for m in world.slack.messages(demo.channel_id)]
    for start, clients in classes:
        assert_one_complete_class(world, of_class(texts, start), clients, web, start)
    assert world.zoom.created_count() == len(classes)
    assert {job.state for job in core.queue.jobs(kind="sync_booking")} == {"done"}


def test_a_class_post_held_by_slack_while_two_more_book_is_still_one_message_with_all_three(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    add_class_service(core, world, demo)
    world.slack.faults.hang_after_effect(path=POST, seconds=60)
    start = class_start(days=2, hour=9)
    deliver(web, world, demo, book_seat(world, demo, start, "Iryna")["id"])

    def two_more_while_the_first_post_is_held() -> None:
        assert world.slack.faults.wait_for_hang(30), "the first post reached Slack"
        for client in ("Petro", "Oksana"):
            deliver(web, world, demo, book_seat(world, demo, start, client)["id"])
        held_back = world.slack.messages(demo.channel_id)
        assert len(held_back) == 1, "Slack has the post; meetbot has not heard back yet"
        world.slack.faults.release()

    run_two_workers(core, timeout=120, while_running=two_more_while_the_first_post_is_held)

    [message] = world.slack.messages(demo.channel_id)
    clients = {"Iryna", "Petro", "Oksana"}
    assert_one_complete_class(world, [message_as_text(message)], clients, web, start)
    assert message["edits"], "the one message was edited to show the later seats"


def test_clients_booking_and_cancelling_one_class_at_once_leave_exactly_the_live_seats(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    add_class_service(core, world, demo)
    world.zoom.faults.delay(path="/v2/", seconds=(0.05, 1.0), seed=3)
    world.slack.faults.delay(path=r"/api/chat\.", seconds=(0.05, 1.0), after_effect=True, seed=3)
    start = class_start(days=3, hour=19)
    names = ["Iryna", "Petro", "Oksana", "Taras", "Olha", "Marko"]
    bookings = {name: book_seat(world, demo, start, name) for name in names}
    for name in names:
        deliver(web, world, demo, bookings[name]["id"], "create")

    def two_cancel_while_others_book() -> None:
        for name in ("Petro", "Taras"):
            world.simplybook.update_booking(demo.login, bookings[name]["id"], status="cancelled")
            deliver(web, world, demo, bookings[name]["id"], "cancel")

    run_two_workers(core, timeout=240, while_running=two_cancel_while_others_book)

    texts = [message_as_text(m) for m in world.slack.messages(demo.channel_id)]
    assert_one_complete_class(world, texts, {"Iryna", "Oksana", "Olha", "Marko"}, web, start)


def test_three_concurrent_bookings_of_a_class_in_a_teams_channel_end_in_one_complete_card(
    make_core: Callable[..., Core], world: SandboxWorld, teams: Tenant
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    core = make_core(public_url=url, **teams.settings())
    demo = seed_demo(core, world)
    add_class_service(core, world, demo)
    chat_in_teams(core, demo)
    with BackgroundServer(build_web_app(core), port=port, name="meetbot"):
        meetbot = Meetbot(core, url)
        bookings_channel_in_teams(teams, meetbot)
        world.zoom.faults.delay(path="/v2/", seconds=SLOW, seed=11)
        teams.sim.faults.delay(path="/v3/conversations/", seconds=SLOW, after_effect=True, seed=11)
        before = {post["id"] for post in teams.sim.activities(teams.bookings)}
        classes = race_classes(url, world, demo)

        run_two_workers(core, timeout=240 + 20 * RACES)

        cards = [p for p in teams.sim.activities(teams.bookings) if p["id"] not in before]
        texts = [text_of(card) for card in cards]
        for start, clients in classes:
            assert_one_complete_class(world, of_class(texts, start), clients, url, start)


# Every other message that several jobs can write, each under the rule that protects it.

ADMIN = "UADMIN01"


def add_admin(core: Core, world: SandboxWorld, demo: Demo) -> None:
    make_admin(core, world, demo, ADMIN)
    core.records.set_digest(company_id=demo.company_id, enabled=False)


def admin_dms(world: SandboxWorld, starting: str) -> list[str]:
    return [
        text
        for text in (message_as_text(m) for m in world.slack.dm_messages(ADMIN))
        if text.startswith(starting)
    ]


def test_a_problem_met_by_many_jobs_at_once_is_told_to_each_admin_once(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    """Alert notices: one open alert per (company, kind, subject), one notice job per alert."""
    add_admin(core, world, demo)
    world.zoom.revoke_account(f"acct-{demo.login}")
    world.slack.faults.delay(path=r"/api/chat\.postMessage$", seconds=(0.2, 1.5), after_effect=True)
    for client in ("Iryna", "Petro", "Oksana", "Taras", "Olha", "Marko"):
        deliver(
            web,
            world,
            demo,
            book(world, demo, client_name=client, starts_in=timedelta(days=2))["id"],
        )

    run_two_workers(core, timeout=120)

    assert len(admin_dms(world, "Needs attention: Zoom needs reconnecting")) == 1


def test_a_class_whose_channel_is_gone_reaches_the_admins_once_with_every_seat(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    """The admins' copy of a class message is written under the class's turn, like the original."""
    add_class_service(core, world, demo)
    add_admin(core, world, demo)
    world.slack.archive_channel(demo.channel_id)
    world.slack.faults.delay(path=r"/api/chat\.", seconds=(0.2, 2.0), after_effect=True, seed=5)
    start = class_start(days=4, hour=10)
    clients = {"Iryna", "Petro", "Oksana"}
    for client in sorted(clients):
        deliver(web, world, demo, book_seat(world, demo, start, client)["id"])

    run_two_workers(core, timeout=180)

    copies = admin_dms(world, "For Olena Koval: Group class")
    assert len(copies) == 1, copies
    assert set(seats_in(copies[0])) == clients
    assert len(admin_dms(world, "Needs attention")) == 1


def test_a_class_gets_one_starting_soon_reply_however_many_bookings_it_has(
    core: Core, demo: Demo, world: SandboxWorld, web: str, clock: SteppingClock
) -> None:
    """Thread replies: one reminder job per meeting and time, one reply record per message."""
    add_class_service(core, world, demo)
    start = (datetime.now(KYIV) + timedelta(minutes=30)).replace(second=0, microsecond=0)
    for client in ("Iryna", "Petro", "Oksana"):
        deliver(web, world, demo, book_seat(world, demo, start, client)["id"])
    run_two_workers(core, timeout=120)

    clock.offset += timedelta(minutes=25)
    world.slack.faults.delay(path=r"/api/chat\.", seconds=(0.2, 1.5), after_effect=True)
    run_two_workers(core, timeout=120)

    messages = world.slack.messages(demo.channel_id)
    replies = [m for m in messages if m["thread_ts"] and m["thread_ts"] != m["ts"]]
    assert len(messages) - len(replies) == 1
    assert len(replies) == 1 and "starting" in message_as_text(replies[0]).lower()


def test_the_digest_is_sent_once_while_its_routine_is_queued_again_and_again(
    core: Core, demo: Demo, world: SandboxWorld
) -> None:
    """The digest: one routine job per company at a time, and a sent-once record per day."""
    add_admin(core, world, demo)
    core.records.set_digest(company_id=demo.company_id, enabled=True, hour=0)
    world.slack.faults.delay(path=r"/api/chat\.", seconds=(0.3, 1.5), after_effect=True)

    def queue_it_again_while_it_runs() -> None:
        for _ in range(5):
            schedule_routine(core, demo.company_id)
            time.sleep(0.3)

    schedule_routine(core, demo.company_id)
    run_two_workers(core, timeout=120, while_running=queue_it_again_while_it_runs)

    assert len(admin_dms(world, "Today at ")) == 1


def test_a_turn_passes_on_only_when_its_holder_is_done_or_fenced_off(
    core: Core, clock: SteppingClock
) -> None:
    """The key of a holder whose lease ran out is not taken from it while it may still be
    writing; reclaiming its job takes it, and from then on the old worker cannot renew."""
    queue = core.queue
    for subject in ("a", "b"):
        queue.enqueue(kind="sync_booking", dedupe_key=f"turn-test:{subject}", payload={})
    first = queue.claim(worker_id="worker-1", lease_seconds=30)
    second = queue.claim(worker_id="worker-2", lease_seconds=30)
    assert first is not None and second is not None
    assert queue.hold(job=first, key="class:k") and queue.hold(job=first, key="class:k")
    assert not queue.hold(job=second, key="class:k")

    clock.offset += timedelta(seconds=31)  # both leases ran out; worker-2 renews, worker-1 not
    assert queue.extend_lease(job=second, lease_seconds=30)
    assert not queue.hold(job=second, key="class:k"), "a slow holder keeps its turn"

    reclaimed = queue.claim(worker_id="worker-3", lease_seconds=30)
    assert reclaimed is not None and reclaimed.id == first.id
    assert not queue.extend_lease(job=first, lease_seconds=30), "worker-1 is fenced off"
    assert queue.hold(job=second, key="class:k")
    assert not queue.hold(job=reclaimed, key="class:k"), "the reclaimed job waits its turn"
    queue.complete(job=second)
    assert queue.hold(job=reclaimed, key="class:k")
