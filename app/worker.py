"""The worker runner: `meetbot worker` and the in-process worker thread of `meetbot serve`."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading

from app.bootstrap import Core, Integrations, build_integrations
from app.jobs import job_handlers, schedule_routine
from app.metrics import JobEvents, timed_handlers
from app.settings import Settings
from bot.usecases.alerts import DeadJobAlerts
from bot.worker import Worker, WorkerPolicy

log = logging.getLogger("meetbot")


def build_worker(core: Core, integrations: Integrations, *, role: str = "worker") -> Worker:
    return Worker(
        queue=core.queue,
        handlers=timed_handlers(core.metrics, job_handlers(core, integrations)),
        clock=core.clock,
        worker_id=worker_id(role),
        policy=worker_policy(core.settings),
        # Each job's id on its log lines, its end counted, a dead booking job told to the admins.
        observer=JobEvents(core.metrics, then=DeadJobAlerts(core.alerts)),
    )


def worker_policy(settings: Settings) -> WorkerPolicy:
    return WorkerPolicy(
        lease_seconds=settings.job_lease_seconds,
        max_attempts=settings.job_max_attempts,
        backoff_base_seconds=settings.job_backoff_base_seconds,
        backoff_cap_seconds=settings.job_backoff_cap_seconds,
        idle_poll_seconds=settings.worker_idle_poll_seconds,
        concurrency=settings.worker_concurrency,
    )


def worker_id(role: str) -> str:
    return f"{role}@{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"


async def run_worker(
    core: Core,
    stop: asyncio.Event,
    *,
    role: str = "worker",
    ready: threading.Event | None = None,
    on_worker: list[Worker] | None = None,
) -> None:
    integrations = build_integrations(core)
    worker = build_worker(core, integrations, role=role)
    if core.settings.company_routines:  # each company's routine, if none is queued
        for company_id in core.records.company_ids():
            schedule_routine(core, company_id)
    if on_worker is not None:
        on_worker.append(worker)
    told = _told_of_new_jobs(core, worker)
    try:
        if ready is not None:
            ready.set()
        log.info("worker %s started", worker.worker_id)
        await worker.run(stop)
    finally:
        if told is not None:
            told.cancel()
        await integrations.aclose()


def _told_of_new_jobs(core: Core, worker: Worker) -> asyncio.Task[None] | None:
    """On PostgreSQL, jobs queued by other processes (the web process, above all) wake this
    worker's lanes at once; SQLite's single process wakes its worker directly."""
    if core.engine.dialect.name != "postgresql":
        return None
    from storage.wakeups import listen_for_jobs  # psycopg: only a PostgreSQL deployment loads it

    return asyncio.create_task(listen_for_jobs(core.engine, worker.wake))


class WorkerThread:
    """The in-process worker of `meetbot serve`: its own thread, loop and HTTP clients."""

    def __init__(self, core: Core) -> None:
        self._core = core
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._workers: list[Worker] = []
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="meetbot-worker", daemon=True)

    def _main(self) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        await run_worker(
            self._core, self._stop, role="serve", ready=self._ready, on_worker=self._workers
        )

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(10)

    def wake(self) -> None:
        for worker in self._workers:
            worker.wake()

    def stop(self) -> None:
        """Claims no more; running jobs end within the grace period or are released."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=worker_policy(self._core.settings).grace_seconds + 10)
