"""`make stress` (`python -m bench.class_stress`): many group classes, clients booking and cancelling
at once, slow platforms, worker processes killed in between; then every class is checked.

Each class must end with exactly one message per channel showing exactly its live seats, and one
Zoom meeting with exactly its live registrants (none once every seat is cancelled). Everything runs
on 127.0.0.1 against the simulators and stops by itself; the figures are printed.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import psycopg

from app.bootstrap import Core, build_core
from app.sandbox import (
    Demo,
    SandboxWorld,
    add_class_service,
    book_seat,
    message_as_text,
    seed_demo,
    simulators_running,
)
from app.settings import Settings
from app.web import build_web_app
from bench.procs import ROOT, settings_env
from bot.messages import format_time_range
from simulators.server import BackgroundServer
from storage.db import make_engine, migrate

CLASS_SERVICE = "3"
TIMEZONE = "Europe/Kyiv"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass
class Seat:
    client: str
    booking_id: str
    cancelled: bool = False


@dataclass
class GroupClass:
    demo: Demo
    start: datetime
    seats: list[Seat] = field(default_factory=list)

    @property
    def when(self) -> str:
        return format_time_range(self.start, self.start + timedelta(hours=1), TIMEZONE)

    def live(self) -> set[str]:
        return {seat.client for seat in self.seats if not seat.cancelled}


@dataclass
class Figures:
    classes: int = 0
    bookings: int = 0
    cancellations: int = 0
    crashes: int = 0
    missing_in_messages: int = 0
    extra_in_messages: int = 0
    duplicate_messages: int = 0
    missing_on_zoom: int = 0
    extra_on_zoom: int = 0
    duplicate_meetings: int = 0
    dead_jobs: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def wrong(self) -> int:
        return (
            self.missing_in_messages
            + self.extra_in_messages
            + self.duplicate_messages
            + self.missing_on_zoom
            + self.extra_on_zoom
            + self.duplicate_meetings
            + self.dead_jobs
        )


@contextlib.contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'stress.db'}"
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        yield url
        return
    name = f"meetbot_stress_{int(time.time())}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name}")
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class Workers:
    """`meetbot worker` processes; one can be killed (SIGKILL) and replaced at any moment."""

    def __init__(self, settings: Settings, count: int, folder: Path) -> None:
        self._env = settings_env(settings)
        self._env["PYTHONPATH"] = str(ROOT)
        self._folder = folder
        self._names = itertools.count(1)
        self.processes = [self._start() for _ in range(count)]

    def _start(self) -> subprocess.Popen[bytes]:
        log = (self._folder / f"worker-{next(self._names)}.log").open("ab")
        return subprocess.Popen(
            [sys.executable, "-m", "app", "worker"],
            cwd=self._folder,
            env=self._env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def crash_one(self, rng: random.Random) -> None:
        victim = rng.randrange(len(self.processes))
        self.processes[victim].send_signal(signal.SIGKILL)
        self.processes[victim].wait(10)
        self.processes[victim] = self._start()

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()


def set_up_companies(core: Core, world: SandboxWorld, companies: int) -> list[Demo]:
    demos = []
    for number in range(companies):
        demo = seed_demo(core, world, login=f"stress-studio-{number}", timezone=TIMEZONE)
        add_class_service(core, world, demo, service_id=CLASS_SERVICE)
        demos.append(demo)
    return demos


def plan_classes(demos: list[Demo], classes: int, clients: int) -> list[GroupClass]:
    first = (datetime.now(ZoneInfo(TIMEZONE)) + timedelta(days=2)).replace(
        hour=7, minute=0, second=0, microsecond=0
    )
    planned = []
    for number in range(classes):
        start = first + timedelta(days=number // 12, hours=number % 12)
        group = GroupClass(demos[number % len(demos)], start)
        group.seats = [Seat(f"K{number:03d}c{client}", "") for client in range(clients)]
        planned.append(group)
    return planned


def book(world: SandboxWorld, web: str, group: GroupClass, seat: Seat) -> None:
    booking = book_seat(world, group.demo, group.start, seat.client, service_id=CLASS_SERVICE)
    seat.booking_id = str(booking["id"])
    _deliver(world, web, group.demo, seat.booking_id, "create")


def cancel(world: SandboxWorld, web: str, group: GroupClass, seat: Seat) -> None:
    world.simplybook.update_booking(group.demo.login, seat.booking_id, status="cancelled")
    seat.cancelled = True
    _deliver(world, web, group.demo, seat.booking_id, "cancel")


def _deliver(world: SandboxWorld, web: str, demo: Demo, booking_id: str, kind: str) -> None:
    body = world.simplybook.callback(demo.login, booking_id, kind)
    for _ in range(20):  # the webhook may be busy for a moment; SimplyBook.me retries too
        answer = httpx.post(f"{web}/webhooks/simplybook/{demo.webhook_token}", json=body)
        if answer.status_code == 202:
            return
        time.sleep(0.5)
    raise RuntimeError(f"webhook refused: {answer.status_code} {answer.text[:200]}")


def drive(
    world: SandboxWorld, web: str, planned: list[GroupClass], cancel_share: float, seed: int
) -> int:
    """Every client books, in a shuffled order, from several threads; some cancel soon after."""
    rng = random.Random(seed)
    steps = [(group, seat) for group in planned for seat in group.seats]
    rng.shuffle(steps)
    cancelling = set(rng.sample(range(len(steps)), int(len(steps) * cancel_share)))
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda step: book(world, web, *step), steps))
        time.sleep(rng.uniform(0.5, 2.0))  # some cancellations meet their booking's job
        list(pool.map(lambda i: cancel(world, web, *steps[i]), sorted(cancelling)))
    return len(cancelling)


def busy(core: Core) -> bool:
    soon = core.clock.now() + timedelta(seconds=30)
    return any(
        job.state == "running" or (job.state == "pending" and job.run_at <= soon)
        for job in core.queue.jobs()
        if job.kind != "company_routine"
    )


def check(core: Core, world: SandboxWorld, planned: list[GroupClass], figures: Figures) -> None:
    for group in planned:
        live = group.live()
        posted = [
            message_as_text(m)
            for m in world.slack.messages(group.demo.channel_id)
            if group.when in message_as_text(m)
        ]
        shown = [t for t in posted if t.startswith("Group class")]
        if len(posted) > 1:
            figures.duplicate_messages += len(posted) - 1
            figures.problems.append(f"{group.when}: {len(posted)} messages")
        seen = set(re.findall(r"• (\w+) \(", shown[-1])) if shown else set()
        figures.missing_in_messages += len(live - seen)
        figures.extra_in_messages += len(seen - live)
        if live != seen:
            figures.problems.append(
                f"{group.when}: message shows {sorted(seen)}, live {sorted(live)}"
            )
        _check_zoom(world, group, live, figures)
    figures.dead_jobs = len(core.queue.jobs(state="dead"))


def _check_zoom(world: SandboxWorld, group: GroupClass, live: set[str], figures: Figures) -> None:
    meetings = [
        m
        for m in world.zoom.live_meetings(group.demo.zoom_user_id)
        if datetime.fromisoformat(m["start_time"].replace("Z", "+00:00")) == group.start
    ]
    figures.duplicate_meetings += max(0, len(meetings) - 1)
    registered: set[str] = set()
    for meeting in meetings:
        stored = world.zoom.meeting(meeting["id"]) or {"registrants": []}
        registered |= {
            r["email"].split("@")[0] for r in stored["registrants"] if r["status"] == "approved"
        }
    expected = {client.lower() for client in live}
    figures.missing_on_zoom += len(expected - registered)
    figures.extra_on_zoom += len(registered - expected)
    if expected != registered or len(meetings) > (1 if live else 0):
        figures.problems.append(
            f"{group.when}: {len(meetings)} meeting(s), registrants {sorted(registered)}"
        )


def run(args: argparse.Namespace) -> Figures:
    folder = Path(tempfile.mkdtemp(prefix="meetbot-stress-"))
    rng = random.Random(args.seed)
    figures = Figures(classes=args.classes, bookings=args.classes * args.clients)
    with simulators_running() as world, database(args.database, folder) as url:
        settings = world.settings(
            database_url=url,
            public_url="http://meetbot.test",
            job_lease_seconds=8.0,
            job_backoff_base_seconds=0.2,
            job_backoff_cap_seconds=5.0,
            worker_concurrency=4,
            company_routines=False,
        )
        core = build_core(settings)
        demos = set_up_companies(core, world, args.companies)
        planned = plan_classes(demos, args.classes, args.clients)
        low, high = args.delay
        world.zoom.faults.delay(path="/v2/", seconds=(low, high), seed=args.seed)
        world.slack.faults.delay(
            path=r"/api/chat\.", seconds=(low, high), after_effect=True, seed=args.seed
        )
        workers = Workers(settings, args.workers, folder)
        stop_crashing = threading.Event()

        def crash_now_and_then() -> None:
            while figures.crashes < args.crashes and not stop_crashing.wait(rng.uniform(3, 8)):
                workers.crash_one(rng)
                figures.crashes += 1

        crasher = threading.Thread(target=crash_now_and_then, daemon=True)
        try:
            with BackgroundServer(build_web_app(core), name="meetbot") as web:
                crasher.start()
                figures.cancellations = drive(world, web.url, planned, args.cancel_share, args.seed)
                deadline = time.monotonic() + args.timeout
                while (busy(core) or crasher.is_alive()) and time.monotonic() < deadline:
                    time.sleep(1.0)
                    if figures.crashes >= args.crashes:
                        stop_crashing.set()
                if busy(core):
                    figures.problems.append("jobs still running at the deadline")
            check(core, world, planned, figures)
        finally:
            stop_crashing.set()
            workers.stop()
            core.engine.dispose()
    return figures


def _delays(text: str) -> tuple[float, float]:
    low, _, high = text.partition(",")
    return float(low), float(high or low)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--companies", type=int, default=5)
    parser.add_argument("--classes", type=int, default=50)
    parser.add_argument("--clients", type=int, default=5)
    parser.add_argument("--cancel-share", type=float, default=0.3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--crashes", type=int, default=3)
    parser.add_argument("--delay", type=_delays, default=(0.05, 1.0), help="seconds: LOW,HIGH")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()
    began = time.monotonic()
    figures = run(args)
    print(
        f"class stress on {args.database}: {figures.classes} classes, {figures.bookings} bookings, "
        f"{figures.cancellations} cancelled, {args.workers} worker processes, "
        f"{figures.crashes} killed (SIGKILL), delays {args.delay[0]}–{args.delay[1]} s, "
        f"seed {args.seed}, {time.monotonic() - began:.0f} s"
    )
    print(
        f"  messages: {figures.missing_in_messages} seats missing, {figures.extra_in_messages} "
        f"extra, {figures.duplicate_messages} duplicate messages"
    )
    print(
        f"  zoom: {figures.missing_on_zoom} registrants missing, {figures.extra_on_zoom} extra, "
        f"{figures.duplicate_meetings} duplicate meetings; dead jobs: {figures.dead_jobs}"
    )
    for problem in figures.problems[:20]:
        print(f"  ! {problem}")
    sys.exit(1 if figures.wrong or figures.problems else 0)


if __name__ == "__main__":
    main()
