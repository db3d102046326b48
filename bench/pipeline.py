"""End to end: callback POSTed → job → SimplyBook read → Zoom meeting → Slack message.

The three simulators run in this process (SandboxWorld, real HTTP on 127.0.0.1); `meetbot serve`
(web app and its in-process worker) runs in a subprocess configured by MEETBOT_* variables.

The time a message reached the channel is the `ts` the Slack simulator gives it when it stores it
(wall clock, microseconds), so nothing has to poll fast to time it; each message is matched to
its booking by the booking code it shows.
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.bootstrap import build_core
from app.sandbox import Demo, SandboxWorld, book, message_as_text, seed_demo, simulators_running
from bench.load import percentile
from bench.procs import (
    UNLIMITED_CALLBACKS,
    BenchError,
    ServerProcess,
    cpu_seconds,
    free_port,
    own_cpu_seconds,
    settings_env,
)
from bench.rawhttp import HttpError, RawConnection

_MESSAGE_CODE = re.compile(r"^Booking: (\S+)$", re.MULTILINE)
_AGENDA_CODE = re.compile(r"^Booking (\S+) with ", re.MULTILINE)  # the marker line comes first


@dataclass(frozen=True)
class PipelinePlan:
    bookings: int = 300
    sequential: int = 20  # one at a time before the burst: latency of an idle pipeline
    simulator_latency: float = 0.0  # seconds added to every simulator answer
    worker_concurrency: int = 4
    post_concurrency: int = 32
    timeout: float = 60.0
    # Bookings go round-robin to this many companies, each with its own channel: Slack takes about
    # one post a second per channel, which meetbot keeps to, so one channel would measure pacing.
    companies: int = 50


@dataclass(frozen=True)
class PipelineRun:
    plan: PipelinePlan
    post_seconds: float  # all burst callbacks answered
    seconds: float  # first burst callback sent → last burst message stored
    latencies: list[float]  # burst: callback sent → its message stored
    idle_latencies: list[float]  # the same, one booking at a time
    ready_rss_mib: float
    peak_rss_mib: float
    server_cpu_seconds: float  # meetbot's process, over the burst
    bench_cpu_seconds: float  # this process (simulators and load), over the burst
    meetings: int
    messages: int
    jobs: dict[str, int]
    calls_per_booking: float  # requests the simulators answered, per booking

    @property
    def rate(self) -> float:
        return self.plan.bookings / self.seconds if self.seconds else 0.0

    def p(self, fraction: float, idle: bool = False) -> float:
        return percentile(self.idle_latencies if idle else self.latencies, fraction)


def _message_code(message: dict[str, Any]) -> str:
    found = _MESSAGE_CODE.search(message_as_text(message))
    if found is None:
        raise BenchError(f"a Slack message shows no booking code: {message_as_text(message)!r}")
    return found.group(1)


def _callback_body(world: SandboxWorld, demo: Demo, booking: dict[str, Any]) -> bytes:
    return json.dumps(world.simplybook.callback(demo.login, booking["id"], "create")).encode()


async def _post_burst(
    port: int, bodies: list[tuple[str, str, bytes]], concurrency: int
) -> tuple[dict[str, float], float]:
    """POSTs every (code, path, body) over `concurrency` connections; returns when each was sent."""
    sent: dict[str, float] = {}
    queue = list(reversed(bodies))
    failures: list[str] = []

    async def lane() -> None:
        connection = RawConnection("127.0.0.1", port)
        try:
            while queue:
                code, path, body = queue.pop()
                sent[code] = time.time()
                try:
                    async with asyncio.timeout(30.0):
                        status, answer = await connection.post(path, body)
                except (HttpError, TimeoutError) as error:
                    failures.append(f"{type(error).__name__}: {error}")
                    continue
                if status != 202:
                    failures.append(f"{status} {answer[:200]!r}")
        finally:
            await connection.aclose()

    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    if failures:
        raise BenchError(f"{len(failures)} callbacks failed, e.g. {failures[0]}")
    return sent, elapsed


def _stored_at(world: SandboxWorld, channels: list[str]) -> dict[str, list[float]]:
    stored: dict[str, list[float]] = {}
    for channel in channels:
        for message in world.slack.messages(channel):
            stored.setdefault(_message_code(message), []).append(float(message["ts"]))
    return stored


def _posted(world: SandboxWorld) -> int:
    """chat.postMessage calls the Slack simulator has answered: cheap to poll, unlike
    `messages()`, which copies every stored message under the simulator's lock."""
    return sum(
        1 for r in list(world.slack.requests) if r.status and r.path.endswith("chat.postMessage")
    )


def _wait_messages(world: SandboxWorld, channels: list[str], count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _posted(world) < count or _stored(world, channels) < count:
        if time.monotonic() > deadline:
            have = _stored(world, channels)
            raise BenchError(f"only {have} of {count} messages reached Slack within {timeout} s")
        time.sleep(0.01)


def _stored(world: SandboxWorld, channels: list[str]) -> int:
    return sum(len(world.slack.messages(channel)) for channel in channels)


def _path(demo: Demo) -> str:
    return f"/webhooks/simplybook/{demo.webhook_token}"


def _sequential(
    world: SandboxWorld, demos: list[Demo], server: ServerProcess, count: int, timeout: float
) -> list[float]:
    channels = [demo.channel_id for demo in demos]
    latencies: list[float] = []

    async def deliver(path: str, body: bytes) -> tuple[float, int]:
        connection = RawConnection("127.0.0.1", server.port)  # SimplyBook connects anew each time
        try:
            sent = time.time()
            async with asyncio.timeout(30.0):
                return sent, (await connection.post(path, body))[0]
        finally:
            await connection.aclose()

    for number in range(count):
        demo = demos[number % len(demos)]
        booking = book(world, demo, client_name=f"Idle client {number}")
        sent, status = asyncio.run(deliver(_path(demo), _callback_body(world, demo, booking)))
        if status != 202:
            raise BenchError(f"a callback was answered {status}")
        _wait_messages(world, channels, number + 1, timeout)
        latencies.append(min(_stored_at(world, channels)[booking["code"]]) - sent)
    return latencies


def _verify(
    world: SandboxWorld, channels: list[str], codes: list[str], jobs: dict[str, int]
) -> tuple[int, int]:
    """Exactly one Zoom meeting and one Slack message per booking, every job done."""
    messages = Counter(code for code, stamps in _stored_at(world, channels).items() for _ in stamps)
    meetings = Counter(
        found.group(1)
        for meeting in world.zoom.live_meetings()
        if (found := _AGENDA_CODE.search(str(meeting.get("agenda", "")))) is not None
    )
    expected = Counter(codes)
    problems = []
    if messages != expected:
        problems.append(
            f"messages per booking differ: {dict((messages - expected) + (expected - messages))}"
        )
    if meetings != expected or world.zoom.created_count() != len(codes):
        problems.append(
            f"meetings per booking differ ({world.zoom.created_count()} created for {len(codes)})"
        )
    if jobs != {"done": len(codes)}:
        problems.append(f"jobs are {jobs}, not all {len(codes)} done")
    if problems:
        raise BenchError("; ".join(problems))
    return sum(meetings.values()), sum(messages.values())


def run_pipeline(plan: PipelinePlan) -> PipelineRun:
    with (
        tempfile.TemporaryDirectory(prefix="meetbot-bench-") as folder,
        simulators_running() as world,
    ):
        world.zoom.daily_meeting_limit = 10**9  # Zoom's real quota is 100 per host and day
        port = free_port()
        settings = world.settings(
            database_url=f"sqlite:///{folder}/meetbot.db",
            public_url=f"http://127.0.0.1:{port}",
            host="127.0.0.1",
            port=port,
            worker_concurrency=plan.worker_concurrency,
            simplybook_callback_rate=UNLIMITED_CALLBACKS,
            company_routines=False,  # the hourly checks and digest are not the booking pipeline
        )
        core = build_core(settings)
        try:
            core.migrate()
            demos = [
                seed_demo(core, world, login=f"bench-studio-{number}")
                for number in range(plan.companies)
            ]
            with ServerProcess(
                "meetbot-serve",
                ["-m", "app", "serve"],
                port=port,
                ready_path="/healthz",
                ready=lambda answer: answer.status_code == 200,
                workdir=Path(folder),
                env=settings_env(settings),
            ) as server:
                for simulator in (world.simplybook, world.zoom, world.slack):
                    simulator.faults.latency = plan.simulator_latency
                run = _measure(world, demos, server, plan)
                codes = [*run["idle_codes"], *run["codes"]]
                time.sleep(0.3)  # a late duplicate would show up now
                jobs = core.queue.counts()
                channels = [demo.channel_id for demo in demos]
                meetings, messages = _verify(world, channels, codes, jobs)
                calls = sum(
                    len(simulator.requests)
                    for simulator in (world.simplybook, world.zoom, world.slack)
                )
                return PipelineRun(
                    plan=plan,
                    post_seconds=run["post_seconds"],
                    seconds=run["seconds"],
                    latencies=run["latencies"],
                    idle_latencies=run["idle_latencies"],
                    ready_rss_mib=server.ready_rss_mib,
                    peak_rss_mib=server.peak_rss_mib(),
                    server_cpu_seconds=run["server_cpu"],
                    bench_cpu_seconds=run["bench_cpu"],
                    meetings=meetings,
                    messages=messages,
                    jobs=jobs,
                    calls_per_booking=calls / len(codes),
                )
        finally:
            core.engine.dispose()


def _measure(
    world: SandboxWorld, demos: list[Demo], server: ServerProcess, plan: PipelinePlan
) -> dict[str, Any]:
    channels = [demo.channel_id for demo in demos]
    idle_latencies = _sequential(world, demos, server, plan.sequential, plan.timeout)
    idle_codes = list(_stored_at(world, channels))
    bodies = []
    for number in range(plan.bookings):
        demo = demos[number % len(demos)]
        booking = book(world, demo, client_name=f"Client {number}")
        bodies.append((booking["code"], _path(demo), _callback_body(world, demo, booking)))
    server_before, bench_before = cpu_seconds(server.pid), own_cpu_seconds()
    sent, post_seconds = asyncio.run(_post_burst(server.port, bodies, plan.post_concurrency))
    _wait_messages(world, channels, plan.sequential + plan.bookings, plan.timeout)
    server_cpu = cpu_seconds(server.pid) - server_before
    bench_cpu = own_cpu_seconds() - bench_before
    stored = _stored_at(world, channels)
    codes = [code for code, _, _ in bodies]
    latencies = [min(stored[code]) - sent[code] for code in codes]
    last = max(min(stored[code]) for code in codes)
    return {
        "idle_latencies": idle_latencies,
        "idle_codes": idle_codes,
        "codes": codes,
        "latencies": latencies,
        "post_seconds": post_seconds,
        "seconds": last - min(sent.values()),
        "server_cpu": server_cpu,
        "bench_cpu": bench_cpu,
    }
