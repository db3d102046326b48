"""Redelivered webhooks end with exactly one meeting and one message (X3, reliability rule 1)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from app.bootstrap import Core
from app.sandbox import Demo, SandboxWorld, book
from storage.tables import JobRow, MeetingRow, NotificationRow, ReceivedEventRow

from .conftest import count_rows, run_jobs


def _deliver(url: str, body: dict[str, str]) -> int:
    return httpx.post(url, json=body, timeout=30).status_code


def _assert_one_meeting_one_message(core: Core, world: SandboxWorld, demo: Demo) -> None:
    assert world.zoom.created_count() == 1
    assert len(world.zoom.live_meetings()) == 1
    assert len(world.slack.messages(demo.channel_id)) == 1
    assert count_rows(core, MeetingRow) == 1
    assert count_rows(core, NotificationRow) == 1


def test_same_webhook_five_times_in_a_row(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    booking = book(world, demo)
    body = world.simplybook.callback(demo.login, booking["id"], "create")
    url = f"{web}/webhooks/simplybook/{demo.webhook_token}"

    statuses = [_deliver(url, body) for _ in range(5)]

    assert statuses == [202] * 5
    assert count_rows(core, ReceivedEventRow) == 5, "every delivery is kept for audit"
    assert count_rows(core, JobRow) == 1, "a burst coalesces into one pending sync"
    run_jobs(core)
    _assert_one_meeting_one_message(core, world, demo)


def test_same_webhook_five_times_with_the_worker_running_between(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    booking = book(world, demo)
    body = world.simplybook.callback(demo.login, booking["id"], "create")
    url = f"{web}/webhooks/simplybook/{demo.webhook_token}"

    for _ in range(5):
        assert _deliver(url, body) == 202
        run_jobs(core)

    assert core.queue.counts() == {"done": 5}
    _assert_one_meeting_one_message(core, world, demo)


def test_same_webhook_twenty_times_concurrently(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    booking = book(world, demo)
    body = world.simplybook.callback(demo.login, booking["id"], "create")
    url = f"{web}/webhooks/simplybook/{demo.webhook_token}"

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(lambda _: _deliver(url, body), range(20)))

    assert statuses == [202] * 20
    assert count_rows(core, ReceivedEventRow) == 20
    assert count_rows(core, JobRow) == 1
    run_jobs(core)
    _assert_one_meeting_one_message(core, world, demo)


def test_two_bookings_get_two_meetings(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    url = f"{web}/webhooks/simplybook/{demo.webhook_token}"
    for name in ("Client One", "Client Two"):
        booking = book(world, demo, client_name=name)
        assert _deliver(url, world.simplybook.callback(demo.login, booking["id"])) == 202
    run_jobs(core)
    assert world.zoom.created_count() == 2
    assert len(world.slack.messages(demo.channel_id)) == 2
