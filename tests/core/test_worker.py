"""The job loop against an in-memory queue: completion, retries with backoff, waits the platform
asked for, turns on shared messages, dead jobs and lost leases."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import Job
from bot.errors import PermanentFailure, RetryLater, WaitingForTurn
from bot.worker import DIRECTED_WAIT_ROOM, Worker, WorkerPolicy, backoff_delay
from tests.core.fakes import FakeClock, FakeJobQueue

POLICY = WorkerPolicy(max_attempts=3, backoff_base_seconds=2, backoff_cap_seconds=60)


class Observer:
    def __init__(self, *, broken: bool = False) -> None:
        self.seen: list[tuple[str, int, str | None]] = []
        self.broken = broken

    def buried(self, job: Job, error: str) -> None:
        self.seen.append(("buried", job.id, error))
        if self.broken:
            raise RuntimeError("observer down")

    def completed(self, job: Job, note: str | None) -> None:
        self.seen.append(("completed", job.id, note))
        if self.broken:
            raise RuntimeError("observer down")


Handler = Callable[[Job], Awaitable[str | None]]


def worker(
    queue: FakeJobQueue,
    handler: Handler,
    *,
    policy: WorkerPolicy = POLICY,
    observer: Observer | None = None,
) -> Worker:
    return Worker(
        queue=queue,
        handlers={"test": handler},
        clock=queue.clock,
        worker_id="w1",
        policy=policy,
        observer=observer,
    )


def raising(error: BaseException) -> Handler:
    async def handler(job: Job) -> str:
        raise error

    return handler


async def done(job: Job) -> str:
    return f"did {job.payload['what']}"


@pytest.mark.parametrize(
    ("attempt", "rng", "delay"),
    [
        (1, 0.0, 1.0),  # half the base, fixed
        (1, 1.0, 2.0),  # up to the whole base
        (2, 0.0, 2.0),
        (3, 0.5, 6.0),  # 8 s ceiling: 4 fixed + 2 of jitter
        (0, 0.0, 1.0),  # a job never tried counts as its first attempt
        (20, 0.0, 30.0),  # capped: half the cap, fixed
        (20, 1.0, 60.0),
    ],
)
def test_backoff_doubles_with_equal_jitter_and_is_capped(
    attempt: int, rng: float, delay: float
) -> None:
    assert backoff_delay(attempt, POLICY, lambda: rng) == delay


def test_a_finished_job_is_completed_with_its_note(clock: FakeClock) -> None:
    queue, observer = FakeJobQueue(clock), Observer()
    job = queue.add("test", {"what": "it"})
    assert asyncio.run(worker(queue, done, observer=observer).run_once())
    assert [(finished.id, note) for finished, note in queue.completed] == [(job.id, "did it")]
    assert observer.seen == [("completed", job.id, "did it")]


def test_nothing_due_means_nothing_run(clock: FakeClock) -> None:
    assert not asyncio.run(worker(FakeJobQueue(clock), done).run_once())


def test_a_permanent_failure_is_buried_at_once(clock: FakeClock) -> None:
    queue, observer = FakeJobQueue(clock), Observer()
    queue.add("test")
    asyncio.run(
        worker(queue, raising(PermanentFailure("no such channel")), observer=observer).run_once()
    )
    assert [error for _, error in queue.buried] == ["no such channel"]
    assert queue.retried == [] and observer.seen[0][0] == "buried"


def test_an_unknown_kind_is_buried_loudly(clock: FakeClock) -> None:
    queue = FakeJobQueue(clock)
    queue.add("mystery")
    asyncio.run(worker(queue, done).run_once())
    assert [error for _, error in queue.buried] == ["no handler for job kind 'mystery'"]


def test_a_passing_failure_is_retried_after_a_backoff(clock: FakeClock) -> None:
    queue = FakeJobQueue(clock)
    queue.add("test")
    asyncio.run(worker(queue, raising(RetryLater("Zoom is down"))).run_once())
    [(_, run_at, error, counted)] = queue.retried
    assert (error, counted) == ("Zoom is down", True)
    # first attempt: between half the base and the base
    assert clock.now() + timedelta(seconds=1) <= run_at <= clock.now() + timedelta(seconds=2)


@pytest.mark.parametrize("after", [0.5, 30.0, 3600.0])
def test_the_wait_the_platform_asked_for_is_honoured_with_a_little_jitter(
    clock: FakeClock, after: float
) -> None:
    queue = FakeJobQueue(clock)
    queue.add("test")
    asyncio.run(worker(queue, raising(RetryLater("rate limited", after_seconds=after))).run_once())
    [(_, run_at, _, counted)] = queue.retried
    waited = (run_at - clock.now()).total_seconds()
    assert after <= waited <= after + min(1.0, after / 10)
    assert counted


def test_waiting_for_a_turn_does_not_use_up_an_attempt(clock: FakeClock) -> None:
    queue = FakeJobQueue(clock)
    queue.add("test", attempts=POLICY.max_attempts)
    turn = WaitingForTurn("another job writes the class message", after_seconds=2.0)
    asyncio.run(worker(queue, raising(turn)).run_once())
    [(_, run_at, error, counted)] = queue.retried
    assert not counted and error.startswith("waiting for its turn")
    assert 1.0 <= (run_at - clock.now()).total_seconds() <= 3.0
    assert queue.pending[0][1].attempts == POLICY.max_attempts  # given back
    assert queue.buried == []


def test_a_bug_is_retried_then_buried_with_what_it_raised(clock: FakeClock) -> None:
    queue = FakeJobQueue(clock)
    queue.add("test")
    run = worker(queue, raising(KeyError("surprise")))
    for _ in range(POLICY.max_attempts):
        assert asyncio.run(run.run_once())
        clock.advance(120)
    assert len(queue.retried) == POLICY.max_attempts - 1
    assert [error for _, error in queue.buried] == [
        "gave up after 3 attempts: KeyError: 'surprise'"
    ]


def test_waits_the_platform_asked_for_get_more_room_than_failures(clock: FakeClock) -> None:
    room = POLICY.max_attempts * DIRECTED_WAIT_ROOM
    queue = FakeJobQueue(clock)
    queue.add("test", attempts=POLICY.max_attempts)  # a failure would be buried now
    queue.add("test", attempts=room - 1)  # this claim uses up the last of the room
    paced = worker(queue, raising(RetryLater("paced", after_seconds=1)))
    asyncio.run(paced.drain())
    assert [job.attempts for job, _, _, _ in queue.retried] == [POLICY.max_attempts + 1]
    assert [error for _, error in queue.buried] == [f"gave up after {room} attempts: paced"]


def test_a_failing_observer_does_not_undo_the_outcome(clock: FakeClock) -> None:
    queue = FakeJobQueue(clock)
    queue.add("test", {"what": "x"})
    queue.add("test")
    run = worker(queue, done, observer=Observer(broken=True))
    assert asyncio.run(run.run_once())  # completes despite the observer
    run = worker(queue, raising(PermanentFailure("gone")), observer=Observer(broken=True))
    assert asyncio.run(run.run_once())
    assert len(queue.completed) == 1 and len(queue.buried) == 1


def test_a_lost_lease_stops_the_handler_and_leaves_the_job_to_its_new_owner(
    clock: FakeClock,
) -> None:
    queue = FakeJobQueue(clock)
    queue.add("test")
    queue.lease_kept = False
    stopped = []

    async def endless(job: Job) -> str:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            stopped.append(job.id)
            raise
        return "never"

    # A lease of a few milliseconds: the worker asks to renew it after a third of that.
    short = WorkerPolicy(lease_seconds=0.006)
    asyncio.run(worker(queue, endless, policy=short).run_once())
    assert stopped == [1]
    assert (queue.completed, queue.retried, queue.buried) == ([], [], [])


def test_drain_runs_every_due_job_and_leaves_later_ones(clock: FakeClock) -> None:
    queue = FakeJobQueue(clock)
    for what in ("a", "b"):
        queue.add("test", {"what": what})
    later = queue.add("test", {"what": "later"})
    queue.pending[-1] = (clock.now() + timedelta(minutes=5), later)
    assert asyncio.run(worker(queue, done).drain()) == 2
    assert [note for _, note in queue.completed] == ["did a", "did b"]
    clock.advance(300)
    assert asyncio.run(worker(queue, done).drain()) == 1


def test_a_retried_job_runs_again_only_once_due(clock: FakeClock) -> None:
    queue = FakeJobQueue(clock)
    queue.add("test", {"what": "x"})
    calls: list[int] = []

    async def flaky(job: Job) -> str:
        calls.append(job.attempts)
        if len(calls) == 1:
            raise RetryLater("blip", after_seconds=10)
        return "ok"

    run = worker(queue, flaky)
    assert asyncio.run(run.drain()) == 1
    clock.advance(12)
    assert asyncio.run(run.drain()) == 1
    assert calls == [1, 2] and queue.completed[0][1] == "ok"


@settings(settings.get_profile("core"))
@given(
    st.integers(min_value=0, max_value=60),
    st.floats(min_value=0, max_value=1),
    st.floats(min_value=0.01, max_value=100),
    st.floats(min_value=1, max_value=10_000),
)
def test_backoff_stays_between_half_its_ceiling_and_the_ceiling(
    attempt: int, rng: float, base: float, cap: float
) -> None:
    policy = WorkerPolicy(backoff_base_seconds=base, backoff_cap_seconds=cap)
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    assert ceiling / 2 <= backoff_delay(attempt, policy, lambda: rng) <= ceiling


OUTCOMES = {
    "done": None,
    "passing": RetryLater("outage"),
    "paced": RetryLater("paced", after_seconds=5),
    "turn": WaitingForTurn("busy", after_seconds=1),
    "permanent": PermanentFailure("refused"),
    "bug": ValueError("bug"),
}


@settings(settings.get_profile("core"))
@given(st.lists(st.sampled_from(sorted(OUTCOMES)), min_size=1, max_size=40))
def test_a_job_is_never_lost_whatever_its_handler_does(outcomes: list[str]) -> None:
    clock = FakeClock()
    queue = FakeJobQueue(clock)
    queue.add("test", {"what": "x"})
    script = iter(outcomes)

    async def scripted(job: Job) -> str:
        error = OUTCOMES[next(script, "done")]
        if error is not None:
            raise error
        return "done"

    run = worker(queue, scripted)
    for _ in outcomes:
        asyncio.run(run.drain())
        clock.advance(3600)
    # Exactly one place holds the job: still pending, completed or buried.
    places = len(queue.pending) + len(queue.completed) + len(queue.buried)
    assert places == 1 and not queue.running
