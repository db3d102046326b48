"""Web and workers as separate processes on PostgreSQL (issue 15, must-show 1): `meetbot serve
--no-worker` answers every webhook and claims no job; two `meetbot worker` processes share 200
bookings of 20 companies, each booking getting exactly one meeting and one message; a SIGTERM to a
worker in the middle of a job releases that job, and the other worker finishes it without a
second meeting."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.bootstrap import Core
from app.sandbox import Demo, SandboxWorld, book, seed_demo, wait_for
from app.settings import Settings
from storage.tables import JobRow, MeetingRow, NotificationRow

from .harness import deliver, free_port

COMPANIES, BOOKINGS_EACH = 20, 10
CREATE = r"^/v2/users/[^/]+/meetings$"
LEASE = 8.0  # also the grace period a stopping worker gives a running job


class Process:
    """`python -m app <args>` with `settings` as its environment; output to a log file."""

    def __init__(self, name: str, args: list[str], settings: Settings, folder: Path) -> None:
        self.name = name
        self.log_path = folder / f"{name}.log"
        env = {key: value for key, value in os.environ.items() if not key.startswith("MEETBOT_")}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app", *args],
                env={**env, **settings.as_environment()},
                cwd=folder,  # no .env file of the checkout leaks in
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def terminate(self, timeout: float) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    started: list[Process] = []
    yield started
    for process in started:
        process.stop()


def _claimed_by(core: Core) -> list[tuple[str, str | None]]:
    with Session(core.engine) as session:
        rows = session.scalars(select(JobRow).where(JobRow.state != "pending"))
        return [(row.state, row.locked_by) for row in rows]


def _settled(core: Core) -> int | None:
    """How many jobs are done, once none runs or is due (each booking also queues a later one)."""
    with Session(core.engine) as session:
        rows = list(session.scalars(select(JobRow)))
    now = core.clock.now()
    if any(
        r.state in ("running", "dead") or (r.state == "pending" and r.run_at <= now) for r in rows
    ):
        return None
    return sum(r.state == "done" for r in rows)


def _delivered(item: tuple[Demo, dict[str, str]]) -> tuple[Demo, str]:
    return item[0], item[1]["id"]


def _pid(worker_id: str | None) -> int | None:
    """Worker ids read role@host:pid:thread."""
    found = re.fullmatch(r"(\w+)@.*:(\d+):\d+", worker_id or "")
    return int(found.group(2)) if found else None


def test_the_process_options_are_checked() -> None:
    from typer.testing import CliRunner

    from app.cli import app

    runner = CliRunner()
    assert "--no-worker" in runner.invoke(app, ["serve", "--help"]).output
    assert runner.invoke(app, ["worker", "--concurrency", "0"]).exit_code == 2
    assert runner.invoke(app, ["worker", "--concurrency", "65"]).exit_code == 2


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_web_only_process_and_two_workers_share_the_work_and_a_sigterm_loses_nothing(
    core: Core, world: SandboxWorld, tmp_path: Path, processes: list[Process]
) -> None:
    demos: list[Demo] = [seed_demo(core, world, login=f"studio-{n:02d}") for n in range(COMPANIES)]
    port = free_port()
    web_url = f"http://127.0.0.1:{port}"
    settings = core.settings.model_copy(
        update={
            "public_url": web_url,
            "job_lease_seconds": LEASE,
            "log_level": "INFO",
            "http_timeout_seconds": 300.0,  # the held-back answer outlasts the stop
        }
    )

    web = Process("web", ["serve", "--no-worker", "--port", str(port)], settings, tmp_path)
    processes.append(web)
    first = Process("worker-1", ["worker", "--concurrency", "4"], settings, tmp_path)
    second = Process("worker-2", ["worker", "--concurrency", "4"], settings, tmp_path)
    processes.extend([first, second])
    workers = {first.pid: first, second.pid: second}

    def answers() -> bool:
        try:
            return httpx.get(f"{web_url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    assert wait_for(answers, timeout=30), web.log()[-3000:]

    # The first booking's meeting is held back by Zoom: its worker is busy with it when stopped.
    world.zoom.faults.hang_after_effect(method="POST", path=CREATE, seconds=240)
    bookings = [
        (demo, book(world, demo, client_name=f"Client {n}", starts_in=timedelta(days=1, hours=n)))
        for demo in demos
        for n in range(BOOKINGS_EACH)
    ]
    deliver(web_url, world, *_delivered(bookings[0]))
    assert world.zoom.faults.wait_for_hang(timeout=30), first.log()[-3000:]
    with Session(core.engine) as session:
        [held] = session.scalars(select(JobRow))
    held_by = held.locked_by
    busy = workers[_pid(held_by) or 0]
    other = second if busy is first else first

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda item: deliver(web_url, world, *_delivered(item)), bookings[1:]))
    # Both workers share the rest meanwhile (the busy one in its other lanes); it is stopped late,
    # so the other one is not left with most of the work.
    everything = COMPANIES * BOOKINGS_EACH

    def shared_out() -> bool:
        finished = [_pid(by) for state, by in _claimed_by(core) if state == "done"]
        return len(finished) >= everything * 3 // 4 and busy.pid in finished

    assert wait_for(shared_out, timeout=120), core.queue.counts()
    with Session(core.engine) as session:
        still = session.get(JobRow, held.id)
    assert still is not None and still.state == "running" and still.locked_by == held_by

    assert busy.terminate(timeout=LEASE + 15) == 0, busy.log()[-3000:]
    assert "released: the worker stopped" in busy.log(), busy.log()[-3000:]

    assert wait_for(lambda: _settled(core) == everything, timeout=90), (
        core.queue.counts(),
        other.log()[-3000:],
    )

    # Exactly one meeting and one message per booking.
    assert world.zoom.created_count() == everything
    with Session(core.engine) as session:
        meetings = list(session.scalars(select(MeetingRow)))
        notifications = list(session.scalars(select(NotificationRow)))
    assert len(meetings) == everything and {m.state for m in meetings} == {"scheduled"}
    assert len({m.external_id for m in meetings}) == everything
    assert len(notifications) == everything and {n.state for n in notifications} == {"posted"}
    for demo in demos:
        assert len(world.slack.messages(demo.channel_id)) == BOOKINGS_EACH, demo.login

    # Both workers did work; the web process claimed nothing.
    finishers = {_pid(by) for _, by in _claimed_by(core)}
    assert finishers == {first.pid, second.pid}, finishers
    assert web.pid not in finishers
    with Session(core.engine) as session:
        released = session.get(JobRow, held.id)
    assert released is not None and _pid(released.locked_by) == other.pid, "taken over at once"
    assert not any((by or "").startswith("serve@") for _, by in _claimed_by(core))

    assert other.terminate(timeout=LEASE + 15) == 0, other.log()[-3000:]
    # uvicorn ends a graceful shutdown by raising the signal again
    assert web.terminate(timeout=15) in (0, -signal.SIGTERM), web.log()[-3000:]
    assert "Application shutdown complete" in web.log()
    assert "(no worker: web only)" in web.log() and "worker (concurrency 4)" in first.log()
