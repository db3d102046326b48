"""The job runner: claims durable jobs, runs their handlers, retries with backoff, buries the dead.

At-least-once: a job is claimed with a lease; a worker that dies leaves the lease to run out and
another worker picks the job up. Handlers are therefore idempotent (see usecases/sync_booking.py
and outbox.py). Which handler runs each kind of job is the shell's job table.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from bot.clock import Clock
from bot.domain import Job
from bot.errors import PermanentFailure, RetryLater, WaitingForTurn
from bot.ports import JobQueue

log = logging.getLogger("meetbot.worker")

JobHandler = Callable[[Job], Awaitable[str | None]]
DIRECTED_WAIT_ROOM = 4


class JobObserver(Protocol):
    """Told how jobs end, e.g. to alert a person about a dead one. An observer may also have a
    `started(job)` method: it is then told, in the context the job runs in, that a job was claimed
    (the shell puts the job's id on its log lines that way)."""

    def buried(self, job: Job, error: str) -> None: ...

    def completed(self, job: Job, note: str | None) -> None: ...


class LeaseLost(Exception):
    pass


class Released(Exception):
    """The worker is stopping and its grace period ran out: the job goes back to the queue."""


@dataclass(frozen=True, slots=True)
class WorkerPolicy:
    lease_seconds: float = 120.0
    max_attempts: int = 8
    backoff_base_seconds: float = 2.0
    backoff_cap_seconds: float = 900.0
    idle_poll_seconds: float = 0.5
    concurrency: int = 4
    # On stop, how long running jobs may still take before they are released (None: the lease).
    stop_grace_seconds: float | None = None

    @property
    def grace_seconds(self) -> float:
        return self.lease_seconds if self.stop_grace_seconds is None else self.stop_grace_seconds


def backoff_delay(
    attempt: int, policy: WorkerPolicy, rng: Callable[[], float] = random.random
) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random, so retries spread out."""
    ceiling = min(
        policy.backoff_cap_seconds, policy.backoff_base_seconds * 2 ** max(0, attempt - 1)
    )
    return ceiling / 2 + rng() * ceiling / 2


class Worker:
    def __init__(
        self,
        *,
        queue: JobQueue,
        handlers: Mapping[str, JobHandler],
        clock: Clock,
        worker_id: str,
        policy: WorkerPolicy = WorkerPolicy(),
        observer: JobObserver | None = None,
    ) -> None:
        self._observer = observer
        self._queue = queue
        self._handlers = handlers
        self._clock = clock
        self._policy = policy
        self.worker_id = worker_id
        # Idle lanes, each waiting to be told of work; `_nudged`: told while none was idle.
        self._idle_lanes: deque[asyncio.Future[bool]] = deque()
        self._nudged = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._release: asyncio.Event | None = None  # set when a stop's grace period ran out

    async def run_once(self) -> bool:
        """Runs one due job if there is one; returns whether it did."""
        job = self._claim()
        if job is not None:
            await self._run(job)
        return job is not None

    def _claim(self) -> Job | None:
        return self._queue.claim(worker_id=self.worker_id, lease_seconds=self._policy.lease_seconds)

    async def _run(self, job: Job) -> None:
        self._tell_started(job)
        handler = self._handlers.get(job.kind)
        if handler is None:
            self._bury(job, f"no handler for job kind {job.kind!r}")
            return
        try:
            note = await self._run_holding_lease(job, handler)
        except LeaseLost:
            log.warning(
                "job %s (%s) lost its lease to another worker; left to it", job.id, job.kind
            )
        except Released:
            log.warning(
                "job %s (%s) released: the worker stopped before it ended", job.id, job.kind
            )
            self._queue.retry(
                job=job,
                run_at=self._clock.now(),
                error="released: its worker stopped",
                counted=False,
            )
        except PermanentFailure as failure:
            log.warning("job %s (%s) failed for good: %s", job.id, job.kind, failure)
            self._bury(job, str(failure))
        except WaitingForTurn as waiting:
            self._wait_for_turn(job, waiting)
        except RetryLater as passing:
            self._retry(job, str(passing), passing.after_seconds)
        except Exception as error:  # a bug or an unmapped failure: retried, then buried, never lost
            log.exception("job %s (%s) raised", job.id, job.kind)
            self._retry(job, f"{type(error).__name__}: {error}", None)
        else:
            self._queue.complete(job=job, note=note)
            self._tell("completed", job, note)

    def _bury(self, job: Job, error: str) -> None:
        self._queue.bury(job=job, error=error)
        self._tell("buried", job, error)

    def _tell_started(self, job: Job) -> None:
        started = getattr(self._observer, "started", None)
        if started is None:
            return
        try:
            started(job)
        except Exception:  # telling must never stop the job from running
            log.exception("job %s (%s): could not report it started", job.id, job.kind)

    def _tell(self, outcome: str, job: Job, text: str | None) -> None:
        if self._observer is None:
            return
        try:
            getattr(self._observer, outcome)(job, text)
        except Exception:  # the job's outcome is recorded; a failing observer must not undo that
            log.exception("job %s (%s): could not report it %s", job.id, job.kind, outcome)

    async def _run_holding_lease(self, job: Job, handler: JobHandler) -> str | None:
        """Renews the lease while the handler runs, so a slow job is never taken over; if the
        lease is lost anyway (the database was unreachable too long), the handler is stopped."""
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(handler(job))
        lease = self._policy.lease_seconds
        held_until = loop.time() + lease
        released = asyncio.ensure_future(self._release.wait()) if self._release else None
        try:
            while True:
                waits = {task} if released is None else {task, released}
                done, _ = await asyncio.wait(
                    waits, timeout=lease / 3, return_when=asyncio.FIRST_COMPLETED
                )
                if task in done:
                    return task.result()
                if released is not None and released in done:
                    raise Released
                try:
                    kept = self._queue.extend_lease(job=job, lease_seconds=lease)
                except (
                    Exception
                ) as error:  # the database hiccuped: still ours until the lease runs out
                    log.warning(
                        "job %s: could not renew its lease (%s)", job.id, type(error).__name__
                    )
                    kept = loop.time() < held_until - lease / 6
                else:
                    held_until = loop.time() + lease if kept else held_until
                if not kept:
                    raise LeaseLost
        finally:  # whatever ends this wait, the handler never runs on unsupervised
            if released is not None:
                released.cancel()
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    def _wait_for_turn(self, job: Job, waiting: WaitingForTurn) -> None:
        # The holder's lease bounds the wait: a dead holder loses its turn when its lease runs out.
        pause = (waiting.after_seconds or 1.0) * (0.5 + random.random())
        log.info("job %s (%s) waits %.1fs for its turn: %s", job.id, job.kind, pause, waiting)
        self._queue.retry(
            job=job,
            run_at=self._clock.now() + timedelta(seconds=pause),
            error=f"waiting for its turn: {waiting}",
            counted=False,
        )

    def _retry(self, job: Job, error: str, after_seconds: float | None) -> None:
        # A wait the platform asked for (pacing, Retry-After, a daily limit) is not a failure: such
        # retries get more room before the job is given up.
        limit = self._policy.max_attempts * (DIRECTED_WAIT_ROOM if after_seconds is not None else 1)
        if job.attempts >= limit:
            self._bury(job, f"gave up after {job.attempts} attempts: {error}")
            return
        delay = backoff_delay(job.attempts, self._policy)
        if after_seconds is not None:  # the platform said when; a little jitter avoids a stampede
            delay = after_seconds + random.random() * min(1.0, after_seconds / 10)
        log.info("job %s (%s) retries in %.1fs: %s", job.id, job.kind, delay, error)
        self._queue.retry(job=job, run_at=self._clock.now() + timedelta(seconds=delay), error=error)

    async def run(self, stop: asyncio.Event) -> None:
        """Runs jobs until `stop` is set; then claims no more, lets running jobs end within the
        grace period, and releases those still running (another worker takes them at once)."""
        self._loop = asyncio.get_running_loop()
        self._release = asyncio.Event()
        lanes = asyncio.gather(
            self._poll(stop), *(self._lane(stop) for _ in range(max(1, self._policy.concurrency)))
        )
        stopping = asyncio.ensure_future(stop.wait())
        try:
            either: set[asyncio.Future[Any]] = {lanes, stopping}
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            if not lanes.done():
                grace = self._policy.grace_seconds
                log.info("worker %s stopping: running jobs get %.0fs", self.worker_id, grace)
                await asyncio.wait({lanes}, timeout=grace)
                self.release_running()
            await lanes
        finally:
            stopping.cancel()

    def release_running(self) -> None:
        """Stop waiting for running jobs: cancel their handlers and give them back to the queue
        (thread-safe; a second SIGTERM or SIGINT to `meetbot worker` calls it)."""
        if self._loop is not None and self._release is not None:
            self._loop.call_soon_threadsafe(self._release.set)

    async def drain(self) -> int:
        """Runs due jobs until none is left; for tests and one-shot use."""
        done = 0
        while await self.run_once():
            done += 1
        return done

    def wake(self, jobs: int = 1) -> None:
        """Thread-safe nudge: `jobs` new jobs were queued; as many idle lanes look now instead of
        waiting for the poll."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._nudge, jobs)

    def _nudge(self, jobs: int, *, poll: bool = False) -> None:
        for _ in range(jobs):
            while self._idle_lanes and self._idle_lanes[0].done():
                self._idle_lanes.popleft()
            if not self._idle_lanes:
                # Every lane is busy. A new job: the next lane to find nothing looks once more
                # (it may have looked just before the job was queued). A poll: busy lanes look
                # anyway when their job ends.
                self._nudged = self._nudged or not poll
                return
            self._idle_lanes.popleft().set_result(poll)

    async def _lane(self, stop: asyncio.Event) -> None:
        polled = False  # this lane was nudged by the worker's poll, not by news of a job
        while not stop.is_set():
            # Cleared before looking, not when going idle: a job queued (and its nudge sent) after
            # the look found nothing must still end the idle pause at once.
            self._nudged = False
            try:
                job = self._claim()
            except Exception:  # the database hiccuped; keep the worker alive
                log.exception("worker %s could not claim a job", self.worker_id)
                job = None
            if job is not None:
                if polled:  # the poll found work: more may have come due, so one more lane looks
                    self._nudge(1, poll=True)
                await self._run(job)
            polled = job is None and not self._nudged and await self._idle(stop)

    async def _idle(self, stop: asyncio.Event) -> bool:
        """Waits to be nudged; returns whether the worker's poll did it."""
        assert self._loop is not None
        nudged: asyncio.Future[bool] = self._loop.create_future()
        self._idle_lanes.append(nudged)
        stopping = asyncio.ensure_future(stop.wait())
        either: set[asyncio.Future[Any]] = {nudged, stopping}
        try:
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            nudged.cancel()
        return nudged.done() and not nudged.cancelled() and nudged.result()

    async def _poll(self, stop: asyncio.Event) -> None:
        """One look per idle poll interval for the whole worker, not one per lane: for jobs that
        come due later (retries, reminders) and those queued without a nudge."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._policy.idle_poll_seconds)
            self._nudge(1, poll=True)
