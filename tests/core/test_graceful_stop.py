"""A worker told to stop claims nothing more, lets a running job end within the grace period, and
otherwise gives the job back to the queue (uncounted, due at once) instead of losing it."""

from __future__ import annotations

import asyncio

from bot.domain import Job
from bot.worker import Worker, WorkerPolicy
from tests.core.fakes import FakeClock, FakeJobQueue


def _worker(queue: FakeJobQueue, handler: object, *, grace: float) -> Worker:
    policy = WorkerPolicy(idle_poll_seconds=0.01, concurrency=2, stop_grace_seconds=grace)
    return Worker(
        queue=queue,
        handlers={"test": handler},  # type: ignore[dict-item]
        clock=queue.clock,
        worker_id="w1",
        policy=policy,
    )


async def _stop_while_running(worker: Worker, started: asyncio.Event) -> float:
    stop = asyncio.Event()
    running = asyncio.ensure_future(worker.run(stop))
    await asyncio.wait_for(started.wait(), 5)
    began = asyncio.get_running_loop().time()
    stop.set()
    await asyncio.wait_for(running, 5)
    return asyncio.get_running_loop().time() - began


def test_a_running_job_finishes_within_the_grace_period() -> None:
    queue = FakeJobQueue(FakeClock())
    queue.add("test")
    started = asyncio.Event()

    async def handler(job: Job) -> str:
        started.set()
        await asyncio.sleep(0.2)
        return "done"

    asyncio.run(_stop_while_running(_worker(queue, handler, grace=5), started))
    assert [note for _, note in queue.completed] == ["done"]
    assert queue.running == {} and queue.pending == []


def test_a_job_still_running_after_the_grace_period_is_released_not_lost() -> None:
    queue = FakeJobQueue(FakeClock())
    queue.add("test")
    queue.add("test", {"n": "2"})  # claimed by the second lane, or left pending: never lost
    started = asyncio.Event()
    cancelled: list[int] = []

    async def handler(job: Job) -> str:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(job.id)
            raise
        return "never"

    took = asyncio.run(_stop_while_running(_worker(queue, handler, grace=0.1), started))
    assert took < 2
    assert queue.completed == [] and queue.running == {}
    assert sorted(cancelled) == sorted(job.id for job, *_ in queue.retried)
    for _job, run_at, error, counted in queue.retried:
        assert not counted and run_at <= queue.clock.now() and "worker stopped" in error
    assert sorted(job.id for _, job in queue.pending) == [1, 2]
    assert all(job.attempts == 0 for _, job in queue.pending), "a release is not an attempt"


def test_a_second_signal_releases_at_once() -> None:
    queue = FakeJobQueue(FakeClock())
    queue.add("test")
    started = asyncio.Event()

    async def handler(job: Job) -> str:
        started.set()
        await asyncio.sleep(30)
        return "never"

    worker = _worker(queue, handler, grace=60)

    async def scenario() -> float:
        stop = asyncio.Event()
        running = asyncio.ensure_future(worker.run(stop))
        await asyncio.wait_for(started.wait(), 5)
        began = asyncio.get_running_loop().time()
        stop.set()
        await asyncio.sleep(0.05)
        worker.release_running()
        await asyncio.wait_for(running, 5)
        return asyncio.get_running_loop().time() - began

    assert asyncio.run(scenario()) < 2
    assert [job.id for job, *_ in queue.retried] == [1]
    assert [job.id for _, job in queue.pending] == [1]


def test_no_job_is_claimed_after_stop() -> None:
    queue = FakeJobQueue(FakeClock())
    worker = _worker(queue, None, grace=1)

    async def scenario() -> None:
        stop = asyncio.Event()
        running = asyncio.ensure_future(worker.run(stop))
        await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(running, 5)
        queue.add("test")

    asyncio.run(scenario())
    assert len(queue.pending) == 1 and queue.completed == []
