"""Webhook ingest: meetbot's `POST /webhooks/simplybook/{token}` against a bare Starlette endpoint.

Every server runs in its own process (bench/serve.py: uvicorn, one worker, no access log); the load
generator runs in this process. meetbot's server is built without its worker, so the figure is the
durable ingest alone: each 202 is one callback row and one job committed to SQLite.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.bootstrap import build_core
from app.sandbox import seed_demo, simulators_running
from app.settings import Settings
from bench.load import ClientKind, LoadResult, measure
from bench.procs import (
    UNLIMITED_CALLBACKS,
    BenchError,
    ServerProcess,
    free_port,
    own_cpu_seconds,
    settings_env,
)


@dataclass(frozen=True)
class IngestRun:
    label: str
    client: ClientKind
    concurrency: int
    load: LoadResult
    server_cpu: float  # cores busy in the server process over warm-up + window (1.0 = one core)
    client_cpu: float  # the same for this process (the load generator)
    ready_rss_mib: float
    peak_rss_mib: float
    jobs_queued: int | None = None  # meetbot only: jobs in the queue afterwards


@dataclass(frozen=True)
class IngestPlan:
    concurrency: int = 32
    warmup: float = 1.5
    duration: float = 6.0
    client: ClientKind = "raw"


def _body(company: str, prefix: str) -> Callable[[int], bytes]:
    def make(number: int) -> bytes:
        return json.dumps(
            {
                "booking_id": f"{prefix}{number}",
                "booking_hash": f"{number:032x}",
                "company": company,
                "notification_type": "create",
            }
        ).encode()

    return make


def _drive(
    server: ServerProcess, url: str, body: Callable[[int], bytes], expected: int, plan: IngestPlan
) -> tuple[LoadResult, float, float]:
    server_before, client_before = server.cpu_seconds(), own_cpu_seconds()
    started = time.perf_counter()
    result = measure(
        url,
        body,
        client=plan.client,
        concurrency=plan.concurrency,
        warmup=plan.warmup,
        duration=plan.duration,
        expected=expected,
    )
    wall = time.perf_counter() - started
    server_cpu = (server.cpu_seconds() - server_before) / wall
    client_cpu = (own_cpu_seconds() - client_before) / wall
    return result, server_cpu, client_cpu


def run_bare(plans: list[IngestPlan]) -> list[IngestRun]:
    """One bare server, loaded once per plan (in order)."""
    runs = []
    with tempfile.TemporaryDirectory(prefix="meetbot-bench-") as folder:
        port = free_port()
        with ServerProcess(
            "bare",
            ["-m", "bench.serve", "bare", "--port", str(port)],
            port=port,
            ready_path="/bare",
            workdir=Path(folder),
        ) as server:
            for plan in plans:
                result, server_cpu, client_cpu = _drive(
                    server, f"{server.url}/bare", _body("bench", "b"), 200, plan
                )
                runs.append(
                    IngestRun(
                        label="bare Starlette JSON endpoint",
                        client=plan.client,
                        concurrency=plan.concurrency,
                        load=result,
                        server_cpu=server_cpu,
                        client_cpu=client_cpu,
                        ready_rss_mib=server.ready_rss_mib,
                        peak_rss_mib=server.peak_rss_mib(),
                    )
                )
    return runs


def run_meetbot(plan: IngestPlan, *, synchronous: str) -> IngestRun:
    with tempfile.TemporaryDirectory(prefix="meetbot-bench-") as folder:
        port = free_port()
        # The simulators are only needed to seed the company; the server has no worker.
        with simulators_running() as world:
            settings: Settings = world.settings(
                database_url=f"sqlite:///{folder}/meetbot.db",
                public_url=f"http://127.0.0.1:{port}",
                sqlite_synchronous=synchronous,
                simplybook_callback_rate=UNLIMITED_CALLBACKS,
                host="127.0.0.1",
                port=port,
            )
            core = build_core(settings)
            try:
                core.migrate()
                demo = seed_demo(core, world)
            finally:
                core.engine.dispose()
        url = f"http://127.0.0.1:{port}/webhooks/simplybook/{demo.webhook_token}"
        with ServerProcess(
            f"meetbot-ingest-{synchronous.lower()}",
            ["-m", "bench.serve", "ingest", "--port", str(port)],
            port=port,
            ready_path="/healthz",
            ready=lambda answer: answer.status_code == 200,
            workdir=Path(folder),
            env=settings_env(settings),
        ) as server:
            result, server_cpu, client_cpu = _drive(
                server, url, _body(demo.login, "ingest-"), 202, plan
            )
            ready_rss, peak = server.ready_rss_mib, server.peak_rss_mib()
        core = build_core(settings)
        try:
            counts = core.queue.counts()
        finally:
            core.engine.dispose()
        queued = sum(counts.values())
        accepted = result.requests + result.warmup_requests
        if queued != accepted:
            raise BenchError(f"{accepted} callbacks were accepted but {queued} jobs are queued")
        return IngestRun(
            label=f"meetbot webhook, synchronous={synchronous}",
            client=plan.client,
            concurrency=plan.concurrency,
            load=result,
            server_cpu=server_cpu,
            client_cpu=client_cpu,
            ready_rss_mib=ready_rss,
            peak_rss_mib=peak,
            jobs_queued=queued,
        )
