"""The worker's retry policy and its treatment of each kind of failure, against the real job table."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from app.bootstrap import Core
from bot.domain import Job
from bot.errors import PermanentFailure, RetryLater
from bot.worker import DIRECTED_WAIT_ROOM, Worker, WorkerPolicy, backoff_delay
from storage.jobs import SqlJobQueue


class FakeClock:
    def __init__(self) -> None:
        self.moment = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    policy = WorkerPolicy(backoff_base_seconds=2, backoff_cap_seconds=60)
    assert [backoff_delay(n, policy, rng=lambda: 1.0) for n in range(1, 7)] == [2, 4, 8, 16, 32, 60]
    assert [backoff_delay(n, policy, rng=lambda: 0.0) for n in range(1, 4)] == [1, 2, 4]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def queue(core: Core, clock: FakeClock) -> SqlJobQueue:
    return SqlJobQueue(core.engine, clock)


def _worker(queue: SqlJobQueue, clock: FakeClock, handler, **policy: float) -> Worker:  # type: ignore[no-untyped-def]
    return Worker(
        queue=queue,
        handlers={"test": handler},
        clock=clock,
        worker_id="w1",
        policy=WorkerPolicy(**policy),
    )  # type: ignore[arg-type]


def test_permanent_failure_is_buried_at_once(queue: SqlJobQueue, clock: FakeClock) -> None:
    async def refuse(job: Job) -> str:
        raise PermanentFailure("the channel is archived")

    queue.enqueue(kind="test", dedupe_key="a", payload={})
    assert asyncio.run(_worker(queue, clock, refuse).run_once())
    [row] = queue.jobs()
    assert (row.state, row.attempts, row.last_error) == ("dead", 1, "the channel is archived")


def test_retry_later_honours_the_platforms_delay(queue: SqlJobQueue, clock: FakeClock) -> None:
    async def limited(job: Job) -> str:
        raise RetryLater("rate limited", after_seconds=30)

    queue.enqueue(kind="test", dedupe_key="a", payload={})
    asyncio.run(_worker(queue, clock, limited).run_once())
    [row] = queue.jobs()
    assert row.state == "pending"
    assert timedelta(seconds=30) <= row.run_at - clock.now() <= timedelta(seconds=31)
    assert queue.claim(worker_id="w2", lease_seconds=10) is None, "nothing runs before Retry-After"


def test_waits_the_platform_asked_for_get_more_room_than_failures(
    queue: SqlJobQueue, clock: FakeClock
) -> None:
    async def paced(job: Job) -> str:
        raise RetryLater("paced", after_seconds=5)

    queue.enqueue(kind="test", dedupe_key="a", payload={})
    worker = _worker(queue, clock, paced, max_attempts=2)
    for _ in range(2 * DIRECTED_WAIT_ROOM - 1):
        assert asyncio.run(worker.run_once())
        clock.advance(10)
    [row] = queue.jobs()
    assert row.state == "pending", "two attempts' worth of failures, but these were only waits"
    assert asyncio.run(worker.run_once())
    [row] = queue.jobs()
    assert row.state == "dead" and row.attempts == 2 * DIRECTED_WAIT_ROOM
    assert row.last_error == f"gave up after {2 * DIRECTED_WAIT_ROOM} attempts: paced"


def test_a_bug_is_retried_then_buried(queue: SqlJobQueue, clock: FakeClock) -> None:
    async def broken(job: Job) -> str:
        raise KeyError("surprise")

    queue.enqueue(kind="test", dedupe_key="a", payload={})
    worker = _worker(queue, clock, broken, max_attempts=3, backoff_base_seconds=1)
    for _ in range(3):
        assert asyncio.run(worker.run_once())
        clock.advance(10)
    [row] = queue.jobs()
    assert row.state == "dead" and row.attempts == 3
    assert row.last_error == "gave up after 3 attempts: KeyError: 'surprise'"


def test_unknown_job_kind_is_buried_loudly(queue: SqlJobQueue, clock: FakeClock) -> None:
    queue.enqueue(kind="mystery", dedupe_key="m", payload={})
    assert asyncio.run(_worker(queue, clock, None).run_once())
    [row] = queue.jobs()
    assert row.state == "dead" and row.last_error == "no handler for job kind 'mystery'"


def test_lease_expiry_hands_the_job_to_another_worker(queue: SqlJobQueue, clock: FakeClock) -> None:
    queue.enqueue(kind="test", dedupe_key="a", payload={"n": "1"})
    first = queue.claim(worker_id="w1", lease_seconds=60)
    assert first is not None
    assert queue.claim(worker_id="w2", lease_seconds=60) is None
    clock.advance(61)
    second = queue.claim(worker_id="w2", lease_seconds=60)
    assert second is not None and second.id == first.id and second.attempts == 2
    queue.complete(
        job=first, note="late"
    )  # the first worker lost its lease: its word no longer counts
    assert queue.jobs()[0].state == "running"
    queue.complete(job=second, note="done")
    assert queue.jobs()[0].state == "done"


def test_a_retry_after_the_lease_ran_out_leaves_the_new_claim_alone(
    queue: SqlJobQueue, clock: FakeClock
) -> None:
    queue.enqueue(kind="test", dedupe_key="a", payload={"n": "1"})
    first = queue.claim(worker_id="w1", lease_seconds=60)
    assert first is not None
    clock.advance(61)
    second = queue.claim(worker_id="w2", lease_seconds=60)
    assert second is not None
    queue.retry(job=first, run_at=clock.now(), error="late: Slack rate limit")
    [row] = queue.jobs()
    assert (row.state, row.locked_by) == ("running", "w2")
    assert queue.claim(worker_id="w3", lease_seconds=60) is None, "w2's run is not doubled"


def test_jobs_for_one_booking_never_run_at_once(queue: SqlJobQueue, clock: FakeClock) -> None:
    queue.enqueue(kind="test", dedupe_key="booking-1", payload={})
    running = queue.claim(worker_id="w1", lease_seconds=60)
    queue.enqueue(kind="test", dedupe_key="booking-1", payload={})  # a callback while it runs
    queue.enqueue(kind="test", dedupe_key="booking-2", payload={})
    other = queue.claim(worker_id="w2", lease_seconds=60)
    assert other is not None and other.id != (running.id if running else None)
    assert queue.claim(worker_id="w3", lease_seconds=60) is None, "booking-1's twin waits"
    assert running is not None
    queue.complete(job=running)
    twin = queue.claim(worker_id="w3", lease_seconds=60)
    assert twin is not None


def test_retry_with_a_pending_twin_is_superseded(queue: SqlJobQueue, clock: FakeClock) -> None:
    queue.enqueue(kind="test", dedupe_key="booking-1", payload={})
    running = queue.claim(worker_id="w1", lease_seconds=60)
    assert running is not None
    queue.enqueue(kind="test", dedupe_key="booking-1", payload={})
    queue.retry(job=running, run_at=clock.now(), error="Zoom answered HTTP 500")
    states = sorted(row.state for row in queue.jobs())
    assert states == ["done", "pending"]
    assert queue.jobs()[0].note == "superseded by a newer pending job"


def test_a_pending_twin_waits_even_for_an_expired_running_job(
    queue: SqlJobQueue, clock: FakeClock
) -> None:
    queue.enqueue(kind="test", dedupe_key="booking-1", payload={"n": "first"})
    first = queue.claim(worker_id="w1", lease_seconds=60)
    queue.enqueue(kind="test", dedupe_key="booking-1", payload={"n": "second"})
    clock.advance(61)  # w1's lease ran out: its job is reclaimed before the twin may start
    reclaimed = queue.claim(worker_id="w2", lease_seconds=60)
    assert first is not None and reclaimed is not None and reclaimed.id == first.id
    assert queue.claim(worker_id="w3", lease_seconds=60) is None


def test_a_slow_job_keeps_its_lease(core: Core) -> None:
    from bot.clock import SystemClock

    queue = SqlJobQueue(core.engine, SystemClock())
    queue.enqueue(kind="test", dedupe_key="slow", payload={})
    stolen: list[object] = []

    async def slow(job: Job) -> str:
        # 3 s, three leases of 1 s. The lease is not shorter because the thief's claim blocks the
        # event loop that renews it: on a loaded machine a 0.3 s lease ran out between renewals.
        for _ in range(10):
            await asyncio.sleep(0.3)
            stolen.append(queue.claim(worker_id="thief", lease_seconds=1.0))
        return "finished"

    worker = Worker(
        queue=queue,
        handlers={"test": slow},
        clock=SystemClock(),
        worker_id="w1",
        policy=WorkerPolicy(lease_seconds=1.0),
    )
    assert asyncio.run(worker.run_once())
    assert stolen == [None] * 10, "the heartbeat kept the job from being claimed again"
    [row] = queue.jobs()
    assert (row.state, row.note, row.attempts) == ("done", "finished", 1)


def test_a_lost_lease_stops_the_handler(queue: SqlJobQueue, clock: FakeClock) -> None:
    queue.enqueue(kind="test", dedupe_key="k", payload={})
    finished: list[bool] = []

    async def slow(job: Job) -> str:
        clock.advance(120)  # the database was unreachable: the lease ran out ...
        assert queue.claim(worker_id="other", lease_seconds=60) is not None  # ... and was taken
        await asyncio.sleep(1)
        finished.append(True)
        return "too late"

    worker = _worker(queue, clock, slow, lease_seconds=0.15)
    assert asyncio.run(worker.run_once())
    assert finished == [], "the handler was stopped"
    [row] = queue.jobs()
    assert row.state == "running" and row.locked_by == "other"


def test_a_new_callback_wakes_a_job_waiting_out_its_backoff(
    queue: SqlJobQueue, clock: FakeClock
) -> None:
    queue.enqueue(kind="test", dedupe_key="booking-1", payload={"v": "1"})
    job = queue.claim(worker_id="w1", lease_seconds=60)
    assert job is not None
    queue.retry(job=job, run_at=clock.now() + timedelta(hours=3), error="Zoom daily limit")
    queue.enqueue(kind="test", dedupe_key="booking-1", payload={"v": "2"})
    again = queue.claim(worker_id="w1", lease_seconds=60)
    assert again is not None and again.payload == {"v": "2"} and again.attempts == 1


def test_a_lease_that_cannot_be_renewed_stops_the_handler(core: Core) -> None:
    from bot.clock import SystemClock

    class Unreachable(SqlJobQueue):
        def extend_lease(self, *, job: Job, lease_seconds: float) -> bool:
            raise RuntimeError("database is locked")

    queue = Unreachable(core.engine, SystemClock())
    queue.enqueue(kind="test", dedupe_key="k", payload={})
    finished: list[bool] = []

    async def slow(job: Job) -> str:
        await asyncio.sleep(2)
        finished.append(True)
        return "too late"

    worker = Worker(
        queue=queue,
        handlers={"test": slow},
        clock=SystemClock(),
        worker_id="w1",
        policy=WorkerPolicy(lease_seconds=0.3),
    )
    assert asyncio.run(worker.run_once())
    assert finished == [], "stopped before its lease could be taken over"
    [row] = queue.jobs()
    assert row.state == "running", "left for the lease to run out, not retried beside itself"
