"""A worker killed (SIGKILL, a real process) between the platform's effect and meetbot's record of it:
after a new worker starts, there is still exactly one meeting and one message (X3, rule 3)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.bootstrap import Core
from app.sandbox import Demo, SandboxWorld, book, wait_for
from app.settings import Settings
from bot.domain import Actor, ChatPlatform
from simulators.slack import mentioned_users
from storage.tables import AdminMessageRow, MeetingRow, NotificationRow

from .harness import deliver, run_jobs

pytestmark = pytest.mark.slow

CREATE = r"^/v2/users/[^/]+/meetings$"


def settings_env(settings: Settings) -> dict[str, str]:
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("MEETBOT_")}
    return {**inherited, **settings.as_environment()}


class WorkerProcess:
    def __init__(self, settings: Settings, log: Path) -> None:
        self._log = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app", "worker"],
            env=settings_env(settings),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        worker.stop()


def _meeting(core: Core) -> MeetingRow | None:
    with Session(core.engine) as session:
        return session.scalars(select(MeetingRow)).first()


def _start(core: Core, tmp_path: Path, workers: list[WorkerProcess]) -> WorkerProcess:
    settings = core.settings.model_copy(update={"job_lease_seconds": 3.0, "log_level": "INFO"})
    worker = WorkerProcess(settings, tmp_path / "workers.log")
    workers.append(worker)
    return worker


def _log_tail(tmp_path: Path) -> str:
    path = tmp_path / "workers.log"
    return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def test_killed_after_zoom_created_the_meeting(
    core: Core,
    demo: Demo,
    world: SandboxWorld,
    web: str,
    tmp_path: Path,
    workers: list[WorkerProcess],
) -> None:
    world.zoom.faults.hang_after_effect(method="POST", path=CREATE, seconds=60)
    deliver(web, world, demo, book(world, demo)["id"])

    first = _start(core, tmp_path, workers)
    assert world.zoom.faults.wait_for_hang(timeout=30), _log_tail(tmp_path)
    assert world.zoom.created_count() == 1
    meeting = _meeting(core)
    assert meeting is not None and meeting.state == "creating", (
        "the intent is recorded before Zoom is called"
    )
    first.kill()

    _start(core, tmp_path, workers)
    assert wait_for(lambda: world.slack.messages(demo.channel_id), timeout=30), _log_tail(tmp_path)

    assert world.zoom.created_count() == 1, "the new worker found the meeting by its marker"
    assert len(world.slack.messages(demo.channel_id)) == 1
    recovered = _meeting(core)
    assert recovered is not None and recovered.state == "scheduled"
    [zoom_meeting] = world.zoom.live_meetings()
    assert recovered.external_id == str(zoom_meeting["id"])
    assert wait_for(lambda: core.queue.counts() == {"done": 1}, timeout=10), core.queue.counts()


def test_killed_after_slack_posted_the_message(
    core: Core,
    demo: Demo,
    world: SandboxWorld,
    web: str,
    tmp_path: Path,
    workers: list[WorkerProcess],
) -> None:
    world.slack.faults.hang_after_effect(method="POST", path=r"chat\.postMessage$", seconds=60)
    deliver(web, world, demo, book(world, demo)["id"])

    first = _start(core, tmp_path, workers)
    assert world.slack.faults.wait_for_hang(timeout=30), _log_tail(tmp_path)
    assert len(world.slack.messages(demo.channel_id)) == 1
    first.kill()

    _start(core, tmp_path, workers)
    assert wait_for(lambda: core.queue.counts() == {"done": 1}, timeout=30), _log_tail(tmp_path)

    [message] = world.slack.messages(demo.channel_id)
    assert world.zoom.created_count() == 1
    with Session(core.engine) as session:
        notification = session.scalars(select(NotificationRow)).one()
    assert notification.state == "posted" and notification.message_id == message["ts"]
    assert (
        json.loads(json.dumps(message["metadata"]))["event_payload"]["marker"]
        == notification.marker
    )


def test_killed_after_slack_posted_the_cancellation_reply(
    core: Core,
    demo: Demo,
    world: SandboxWorld,
    web: str,
    tmp_path: Path,
    workers: list[WorkerProcess],
) -> None:
    staff = "USTAFF0042"
    world.slack.add_user(demo.team_id, id=staff, name="Olena Koval")
    core.staff.tie_staff(
        company_id=demo.company_id,
        actor=Actor(ChatPlatform.SLACK, demo.team_id, staff),
        user_id=staff,
        provider_external_id=demo.provider_id,
    )
    booking = book(world, demo)
    deliver(web, world, demo, booking["id"])
    run_jobs(core)
    [message] = world.slack.messages(demo.channel_id)

    world.slack.faults.hang_after_effect(method="POST", path=r"chat\.postMessage$", seconds=60)
    world.simplybook.update_booking(demo.login, booking["id"], status="cancelled")
    deliver(web, world, demo, booking["id"], "cancel")
    first = _start(core, tmp_path, workers)
    assert world.slack.faults.wait_for_hang(timeout=30), _log_tail(tmp_path)
    assert len(world.slack.messages(demo.channel_id)) == 2, "the reply is in the thread"
    first.kill()  # before meetbot heard back

    _start(core, tmp_path, workers)
    assert wait_for(lambda: core.queue.counts() == {"done": 2}, timeout=30), _log_tail(tmp_path)
    replies = [m for m in world.slack.messages(demo.channel_id) if m["ts"] != message["ts"]]
    assert len(replies) == 1, "the new worker found the reply by its marker"
    [reply] = replies
    assert reply["thread_ts"] == message["ts"] and reply["reply_broadcast"]
    assert mentioned_users(reply) == [staff]
    with Session(core.engine) as session:
        [recorded] = session.scalars(select(AdminMessageRow)).all()  # one-off posts and replies
    assert recorded.state == "posted" and recorded.message_id == reply["ts"]
