"""One end-to-end scenario on a stage: bookings made in the SimplyBook simulator for companies
picked by the fleet's skew, their callbacks POSTed (all at once, or at a steady rate), and every
booking followed to its Slack message.

The time a message reached its channel is the `ts` the Slack simulator gives it when it stores it
(wall clock, microseconds), so nothing has to poll fast to time it; each message is matched to its
booking by the booking code it shows. Afterwards every booking must have exactly one Zoom meeting
and one Slack message, and every job must be done.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from collections import Counter
from dataclasses import dataclass

from app.sandbox import SandboxWorld, message_as_text
from bench.fleet import book_with
from bench.load import percentile
from bench.procs import BenchError, cpu_seconds
from bench.rawhttp import HttpError, RawConnection
from bench.stage import Processes, Stage

_MESSAGE_CODE = re.compile(r"^Booking: (\S+)$", re.MULTILINE)
_AGENDA_CODE = re.compile(r"^Booking (\S+) with ", re.MULTILINE)  # the marker line comes first
CONNECTIONS = 32


@dataclass(frozen=True)
class ScenarioPlan:
    label: str
    bookings: int
    latency: float = 0.0  # seconds added to every simulator answer
    rate: float | None = None  # callbacks a second; None: all at once over 32 connections
    workers: int = 0  # 0: `meetbot serve` with its in-process worker; N: web + N workers
    concurrency: int = 4  # jobs at once per worker
    idle_poll: float | None = None  # seconds between an idle worker's looks for jobs
    timeout: float = 120.0
    seed: int = 1


@dataclass(frozen=True)
class ScenarioRun:
    plan: ScenarioPlan
    database: str
    companies: int
    history: int
    seconds: float  # first callback sent → last message stored
    latencies: list[float]  # callback sent → its message stored
    cpu_seconds: float  # meetbot's processes (web and workers), over the run
    sql_statements: float | None  # sent by meetbot over the run (None: not readable)
    platform_calls: int  # requests the simulators answered over the run
    ready_rss_mib: float
    peak_rss_mib: float

    @property
    def rate(self) -> float:
        return self.plan.bookings / self.seconds if self.seconds else 0.0

    def p(self, fraction: float) -> float:
        return percentile(self.latencies, fraction)

    @property
    def cpu_ms_per_booking(self) -> float:
        return 1000 * self.cpu_seconds / self.plan.bookings

    @property
    def sql_per_booking(self) -> float:
        return math.nan if self.sql_statements is None else self.sql_statements / self.plan.bookings

    @property
    def calls_per_booking(self) -> float:
        return self.platform_calls / self.plan.bookings


def run_scenario(stage: Stage, plan: ScenarioPlan) -> ScenarioRun:
    world = stage.world
    for simulator in (world.simplybook, world.zoom, world.slack):
        simulator.faults.latency = plan.latency
    try:
        with stage.running(
            workers=plan.workers, concurrency=plan.concurrency, idle_poll=plan.idle_poll
        ) as processes:
            return _measured(stage, plan, processes)
    finally:
        for simulator in (world.simplybook, world.zoom, world.slack):
            simulator.faults.latency = 0.0


def _measured(stage: Stage, plan: ScenarioPlan, processes: Processes) -> ScenarioRun:
    world = stage.world
    picks = stage.fleet.spread(plan.bookings, seed=plan.seed + stage.jobs_done)
    bookings = [
        book_with(world, tenant, provider, f"Client {stage.jobs_done + number}")
        for number, (tenant, provider) in enumerate(picks)
    ]
    codes = [booking["code"] for booking in bookings]
    bodies = [
        (
            booking["code"],
            f"/webhooks/simplybook/{tenant.demo.webhook_token}",
            json.dumps(world.simplybook.callback(tenant.demo.login, booking["id"])).encode(),
        )
        for booking, (tenant, _) in zip(bookings, picks, strict=True)
    ]
    calls_before, created_before = _calls(world), world.zoom.created_count()
    posts_before = len(world.slack.requests)
    sql_before = processes.sql_statements()
    cpu_before = sum(cpu_seconds(pid) for pid in processes.pids)
    sent = asyncio.run(_deliver(processes.web.port, bodies, plan.rate))
    try:
        _wait_posts(world, posts_before, plan.bookings, plan.timeout)
    except BenchError as error:
        raise BenchError(f"{error}; jobs: {stage.core.queue.counts()}") from error
    cpu = sum(cpu_seconds(pid) for pid in processes.pids) - cpu_before
    sql_after = processes.sql_statements()
    time.sleep(0.3)  # a late duplicate would show up now
    stored = _verify(stage, codes, created_before)
    latencies = [stored[code] - sent[code] for code in codes]
    return ScenarioRun(
        plan=plan,
        database=stage.database,
        companies=len(stage.fleet.tenants),
        history=stage.history,
        seconds=max(stored[code] for code in codes) - min(sent.values()),
        latencies=latencies,
        cpu_seconds=cpu,
        sql_statements=None if sql_before is None or sql_after is None else sql_after - sql_before,
        platform_calls=_calls(world) - calls_before,
        ready_rss_mib=processes.ready_rss_mib,
        peak_rss_mib=processes.peak_rss_mib(),
    )


def _calls(world: SandboxWorld) -> int:
    return sum(len(sim.requests) for sim in (world.simplybook, world.zoom, world.slack))


async def _deliver(
    port: int, bodies: list[tuple[str, str, bytes]], rate: float | None
) -> dict[str, float]:
    """POSTs every (code, path, body): all at once over 32 keep-alive connections, or one every
    1/rate s on a connection of its own, as SimplyBook.me calls (open loop: a slow answer does
    not delay the next callback). Returns when each was sent."""
    sent: dict[str, float] = {}
    failures: list[str] = []
    idle: list[RawConnection] = []
    limit = asyncio.Semaphore(CONNECTIONS if rate is None else 4 * CONNECTIONS)

    async def post(code: str, path: str, body: bytes) -> None:
        async with limit:
            connection = idle.pop() if idle else RawConnection("127.0.0.1", port)
            sent[code] = time.time()
            try:
                async with asyncio.timeout(30.0):
                    status, answer = await connection.post(path, body)
            except (HttpError, TimeoutError) as error:
                failures.append(f"{type(error).__name__}: {error}")
                await connection.aclose()
                return
            if rate is None:
                idle.append(connection)
            else:
                await connection.aclose()
            if status != 202:
                failures.append(f"{status} {answer[:200]!r}")

    started = time.perf_counter()
    tasks = []
    for number, (code, path, body) in enumerate(bodies):
        if rate is not None:
            await asyncio.sleep(max(0.0, started + number / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(post(code, path, body)))
    await asyncio.gather(*tasks)
    for connection in idle:
        await connection.aclose()
    if failures:
        raise BenchError(f"{len(failures)} callbacks failed, e.g. {failures[0]}")
    return sent


def _wait_posts(world: SandboxWorld, offset: int, count: int, timeout: float) -> None:
    """Until `count` chat.postMessage calls after `offset` have been answered 200. Only the new
    part of the simulator's request log is read, plus the requests still unanswered (a request is
    logged when it arrives; its status is filled in when answered)."""
    started = time.monotonic()
    seen, posted, unanswered = offset, 0, []
    while posted < count:
        waited = time.monotonic() - started
        if waited > timeout:
            raise BenchError(
                f"only {posted} of {count} messages reached Slack by {timeout:g} s after the "
                "last callback was sent"
            )
        requests = world.slack.requests
        end = len(requests)
        fresh = [r for r in requests[seen:end] if r.path.endswith("chat.postMessage")]
        seen = end
        waiting = [*unanswered, *fresh]
        unanswered = [r for r in waiting if not r.status]
        posted += sum(1 for r in waiting if r.status == 200)
        time.sleep(0.02)


def _settled_jobs(stage: Stage, done: int, timeout: float = 15.0) -> dict[str, int]:
    """Job counts once `done` jobs are done (a job records its end just after its post), or as
    they are after `timeout`."""
    deadline = time.monotonic() + timeout
    while (jobs := stage.core.queue.counts()) != {"done": done} and time.monotonic() < deadline:
        time.sleep(0.1)
    return jobs


def _verify(stage: Stage, codes: list[str], created_before: int) -> dict[str, float]:
    """Exactly one Zoom meeting and one Slack message per booking, every job done; returns when
    each booking's message was stored."""
    world, wanted = stage.world, set(codes)
    stored: dict[str, float] = {}
    messages: Counter[str] = Counter()
    for channel in stage.fleet.channels:
        for message in world.slack.messages(channel):
            found = _MESSAGE_CODE.search(message_as_text(message))
            if found is not None and found.group(1) in wanted:
                messages[found.group(1)] += 1
                stored[found.group(1)] = float(message["ts"])
    meetings = Counter(
        found.group(1)
        for meeting in world.zoom.live_meetings()
        if (found := _AGENDA_CODE.search(str(meeting.get("agenda", "")))) is not None
        and found.group(1) in wanted
    )
    expected = Counter(codes)
    problems = []
    if messages != expected:
        problems.append(
            f"messages per booking differ: {dict((messages - expected) + (expected - messages))}"
        )
    created = world.zoom.created_count() - created_before
    if meetings != expected or created != len(codes):
        problems.append(f"meetings per booking differ ({created} created for {len(codes)})")
    jobs = _settled_jobs(stage, stage.jobs_done + len(codes))
    if jobs != {"done": stage.jobs_done + len(codes)}:
        problems.append(f"jobs are {jobs}, not all {stage.jobs_done + len(codes)} done")
    if problems:
        raise BenchError("; ".join(problems))
    stage.jobs_done += len(codes)
    return stored
