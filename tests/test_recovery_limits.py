"""Recovery within Slack's and Zoom's real limits (issue 15).

An app outside the Slack Marketplace may read a channel's history once a minute, 15 messages a
page; Zoom's meeting list shows only the first 250 characters of an agenda. A crash after the
platform's effect must still end with exactly one message and one meeting: the history search is
rescheduled (never given up on by posting again) and the Zoom marker leads the agenda."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.bootstrap import Core, build_integrations
from app.sandbox import Demo, SandboxWorld, book
from app.worker import build_worker
from bot.domain import CatalogEntry, ChatPlatform, ChatTarget, MeetingHostRef, MeetingPlatform
from bot.errors import RetryLater
from storage.tables import MeetingRow, NotificationRow

from .conftest import SteppingClock
from .harness import SQLITE_ONLY, busy, deliver, run_jobs

CREATE = r"^/v2/users/[^/]+/meetings$"
POST = r"chat\.postMessage$"
HISTORY = r"conversations\.history$"
OTHER_PERSON = "UOTHER01"


@pytest.fixture
def meetbot_timings() -> dict[str, Any]:
    # An answer the platform holds back is given up on after a second: the retry comes soon.
    return {"http_timeout_seconds": 1.0}


class Time:
    """Moves meetbot's clock and the Slack simulator's together."""

    def __init__(self, clock: SteppingClock, world: SandboxWorld) -> None:
        self._clock = clock
        self._slack_offset = 0.0
        world.slack.clock = lambda: time.monotonic() + self._slack_offset

    def pass_seconds(self, seconds: float) -> None:
        self._clock.offset += timedelta(seconds=seconds)
        self._slack_offset += seconds


def _all_done(core: Core) -> bool:
    return {job.state for job in core.queue.jobs()} <= {"done"}


def run_worker_minute_by_minute(core: Core, passing: Time, *, minutes: int) -> int:
    """One worker that keeps running (like `meetbot worker`) does what is due; when only a later
    retry is left, a minute passes. Returns how many minutes passed before every job was done."""

    async def main() -> int:
        integrations = build_integrations(core)
        worker = build_worker(core, integrations, role="test-worker")
        loop = asyncio.get_running_loop()
        try:
            for minute in range(minutes + 1):
                deadline = loop.time() + 15
                while loop.time() < deadline:
                    await worker.drain()
                    if not busy(core):
                        break
                    await asyncio.sleep(0.01)
                if _all_done(core):
                    return minute
                passing.pass_seconds(61)
            return minutes + 1
        finally:
            await integrations.aclose()

    return asyncio.run(main())


def _meetbot_messages(world: SandboxWorld, channel_id: str) -> list[dict[str, Any]]:
    return [m for m in world.slack.messages(channel_id) if m["metadata"] is not None]


def _in_background(action: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=action, daemon=True)
    thread.start()
    return thread


def test_a_crash_after_the_slack_post_with_history_at_non_marketplace_limits_posts_once(
    core: Core, demo: Demo, world: SandboxWorld, web: str, clock: SteppingClock
) -> None:
    passing = Time(clock, world)
    world.slack.marketplace_app = False  # 1 history read a minute, 15 messages a page
    world.slack.faults.hang_after_effect(method="POST", path=POST, seconds=60)

    def forty_people_write_after_the_post() -> None:
        assert world.slack.faults.wait_for_hang(30), "the post reached Slack"
        for number in range(40):
            world.slack.post_as_user(
                demo.channel_id, user_id=OTHER_PERSON, text=f"message {number}"
            )

    writers = _in_background(forty_people_write_after_the_post)
    deliver(web, world, demo, book(world, demo)["id"])
    try:
        minutes = run_worker_minute_by_minute(core, passing, minutes=10)
    finally:
        world.slack.faults.release()
        writers.join(10)

    assert _all_done(core), core.queue.jobs()
    [message] = _meetbot_messages(world, demo.channel_id)
    assert len(world.slack.messages(demo.channel_id)) == 41, "ours and the forty others"
    with Session(core.engine) as session:
        notification = session.scalars(select(NotificationRow)).one()
    assert notification.state == "posted" and notification.message_id == message["ts"]
    assert message["metadata"]["event_payload"]["marker"] == notification.marker
    assert world.slack.count("POST", POST) == 1, "never posted again"
    assert minutes >= 2, "Slack's one read a minute was met and waited for"
    refused = [
        r for r in world.slack.requests if r.path.endswith("conversations.history") and r.status
    ]
    assert any(r.status == 429 for r in refused), "the search met Slack's limit"
    assert sum(r.status == 200 for r in refused) == 3, "41 messages at 15 a page, none read twice"
    assert world.zoom.created_count() == 1


def test_a_240_character_provider_name_and_a_crash_after_zoom_create_is_one_meeting(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    long_name = ("Olena Koval-Shevchenko " * 11)[:240]
    world.simplybook.add_provider(demo.login, id=1, name=long_name, email="olena@demo-studio.test")
    core.catalog.merge_catalog(
        company_id=demo.company_id,
        services=[],
        providers=[CatalogEntry("1", long_name, email="olena@demo-studio.test")],
    )
    world.zoom.listed_agenda_chars = 250
    world.zoom.faults.hang_after_effect(method="POST", path=CREATE, seconds=60)

    deliver(web, world, demo, book(world, demo)["id"])
    try:
        run_jobs(core, timeout=30)
    finally:
        world.zoom.faults.release()

    assert world.zoom.count("POST", CREATE) == 1
    assert world.zoom.created_count() == 1, "the retry found the meeting by its marker"
    [meeting] = world.zoom.live_meetings()
    with Session(core.engine) as session:
        row = session.scalars(select(MeetingRow)).one()
    assert row.state == "scheduled" and row.external_id == str(meeting["id"])
    assert long_name in meeting["agenda"], "the provider's name was long enough to matter"
    assert meeting["agenda"].startswith(row.marker), "the marker leads the agenda"
    assert len(_meetbot_messages(world, demo.channel_id)) == 1
    assert _all_done(core)


def test_a_meeting_an_older_version_made_with_the_marker_last_is_still_found(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    deliver(web, world, demo, book(world, demo)["id"])
    run_jobs(core)
    with Session(core.engine) as session:
        row = session.scalars(select(MeetingRow)).one()
    [meeting] = world.zoom.live_meetings()
    old_agenda = f"Booking 1001 with {'a very long provider name ' * 12}.\n{row.marker}"
    # As an older meetbot wrote it: the marker last, past the 250 characters the list shows.
    world.zoom.rewrite_agenda(int(meeting["id"]), old_agenda)
    world.zoom.listed_agenda_chars = 250
    host = MeetingHostRef(MeetingPlatform.ZOOM, row.account_id, row.host_user)

    async def find(marker: str) -> Any:
        integrations = build_integrations(core)
        try:
            return await integrations.zoom.find_meeting(
                host=host, marker=marker, start=row.start_at
            )
        finally:
            await integrations.aclose()

    found = asyncio.run(find(row.marker))
    assert found is not None and found.external_id == str(meeting["id"])
    assert asyncio.run(find("meetbot:someone-else")) is None


@SQLITE_ONLY
def test_a_search_resumed_after_another_worker_posted_still_finds_that_post(
    core: Core, demo: Demo, world: SandboxWorld, clock: SteppingClock
) -> None:
    """Worker A's search is cut short by the limit; meanwhile worker B runs the job, finds nothing
    and posts. When A goes on below where it stopped it must still see B's newer post."""
    passing = Time(clock, world)
    world.slack.marketplace_app = False
    since = clock.now()
    for number in range(20):
        world.slack.post_as_user(demo.channel_id, user_id=OTHER_PERSON, text=f"message {number}")
    target = ChatTarget(ChatPlatform.SLACK, demo.team_id, demo.channel_id)
    marker = "meetbot:message=resumed-search"

    async def main() -> Any:
        integrations = build_integrations(core)
        found: Any = None
        try:
            with pytest.raises(RetryLater):  # page 1 read, page 2 refused: A keeps its place
                await integrations.slack.find_posted(target=target, marker=marker, since=since)
            passing.pass_seconds(61)
            posted = _post_as_meetbot(core, demo, marker)  # worker B
            for _ in range(4):
                passing.pass_seconds(61)
                try:
                    found = await integrations.slack.find_posted(
                        target=target, marker=marker, since=since
                    )
                except RetryLater:
                    continue
                break
            return posted, found
        finally:
            await integrations.aclose()

    posted, found = asyncio.run(main())
    assert found is not None and found.message_id == posted


def test_a_search_for_a_message_never_posted_ends_under_the_limit(
    core: Core, demo: Demo, world: SandboxWorld, clock: SteppingClock
) -> None:
    """A crash before the post took effect: the marker is nowhere, the window holds two pages and
    Slack allows one read a minute. The search must end with "not posted" (so the job posts),
    not start over at every attempt."""
    passing = Time(clock, world)
    world.slack.marketplace_app = False
    since = clock.now()
    for number in range(20):
        world.slack.post_as_user(demo.channel_id, user_id=OTHER_PERSON, text=f"message {number}")
    target = ChatTarget(ChatPlatform.SLACK, demo.team_id, demo.channel_id)

    async def main() -> tuple[int, Any]:
        integrations = build_integrations(core)
        try:
            for attempt in range(1, 9):
                try:
                    found = await integrations.slack.find_posted(
                        target=target, marker="meetbot:message=never-posted", since=since
                    )
                except RetryLater:
                    passing.pass_seconds(61)
                    continue
                return attempt, found
            return 0, None
        finally:
            await integrations.aclose()

    attempts, found = asyncio.run(main())
    assert attempts > 0, "the search never ended"
    assert found is None


def _post_as_meetbot(core: Core, demo: Demo, marker: str) -> str:
    answer = httpx.post(
        f"{core.settings.slack_api_url}/chat.postMessage",
        headers={"Authorization": f"Bearer xoxb-{demo.team_id}-sandbox"},
        json={
            "channel": demo.channel_id,
            "text": "a booking",
            "metadata": {"event_type": "meetbot_message", "event_payload": {"marker": marker}},
        },
        timeout=10,
    )
    assert answer.json()["ok"], answer.text
    return str(answer.json()["ts"])
