"""Group commit: callbacks arriving together share one transaction, each caller hears its own
outcome, and only after the commit that holds its rows."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from app.group_commit import GroupCommit
from bot.errors import StorageUnavailable


class Recorder:
    """A commit that records each batch; the first one waits until released, so that the
    callers arriving meanwhile gather into the next batch."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.release = threading.Event()

    def commit(self, items: Sequence[int]) -> list[int | Exception]:
        if not self.batches:
            self.release.wait(5)
        self.batches.append(list(items))
        return [ValueError(f"odd {item}") if item % 2 else item * 10 for item in items]


def test_callers_arriving_during_a_commit_share_the_next_one() -> None:
    recorder = Recorder()

    async def main() -> list[int | BaseException]:
        batches = GroupCommit(recorder.commit)
        first = asyncio.ensure_future(batches.submit(0))
        await asyncio.sleep(0.05)  # the first batch is committing now
        rest = [asyncio.ensure_future(batches.submit(n)) for n in range(1, 7)]
        await asyncio.sleep(0.05)
        recorder.release.set()
        return await asyncio.gather(first, *rest, return_exceptions=True)

    outcomes = asyncio.run(main())
    assert recorder.batches == [[0], [1, 2, 3, 4, 5, 6]]
    assert [o if isinstance(o, int) else str(o) for o in outcomes] == [
        0,
        "odd 1",
        20,
        "odd 3",
        40,
        "odd 5",
        60,
    ]


def test_a_failed_commit_fails_every_caller_of_its_batch_and_the_next_batch_runs() -> None:
    calls: list[list[str]] = []

    def commit(items: Sequence[str]) -> list[str | Exception]:
        calls.append(list(items))
        if "boom" in items:
            raise RuntimeError("database away")
        return [item.upper() for item in items]

    async def main() -> None:
        batches = GroupCommit(commit)
        with pytest.raises(RuntimeError, match="database away"):
            await batches.submit("boom")
        assert await batches.submit("fine") == "FINE"

    asyncio.run(main())
    assert calls == [["boom"], ["fine"]]


def test_batches_are_capped() -> None:
    sizes: list[int] = []

    def commit(items: Sequence[int]) -> list[int | Exception]:
        sizes.append(len(items))
        return list(items)

    async def main() -> list[int]:
        batches = GroupCommit(commit, max_batch=4)
        return await asyncio.gather(*(batches.submit(n) for n in range(10)))

    assert asyncio.run(main()) == list(range(10))
    assert sum(sizes) == 10 and max(sizes) <= 4


def test_beyond_the_waiting_limit_a_delivery_is_refused_at_once() -> None:
    recorder = Recorder()

    async def main() -> list[int | BaseException]:
        batches = GroupCommit(recorder.commit, max_waiting=3)
        first = asyncio.ensure_future(batches.submit(0))
        await asyncio.sleep(0.05)  # the first batch is committing; the next ones wait
        waiting = [asyncio.ensure_future(batches.submit(n)) for n in (2, 4, 6, 8)]
        await asyncio.sleep(0.05)
        recorder.release.set()
        return await asyncio.gather(first, *waiting, return_exceptions=True)

    outcomes = asyncio.run(main())
    assert outcomes[:4] == [0, 20, 40, 60]
    assert isinstance(outcomes[4], StorageUnavailable), "the fourth waiting one is refused"
    assert recorder.batches == [[0], [2, 4, 6]]


def test_an_outage_refuses_every_waiting_delivery_with_the_failed_batch() -> None:
    calls: list[list[int]] = []
    started, release = threading.Event(), threading.Event()

    def commit(items: Sequence[int]) -> list[int | Exception]:
        calls.append(list(items))
        started.set()
        release.wait(5)  # until the others wait behind this batch
        raise StorageUnavailable("the database is not answering")

    async def main() -> list[int | BaseException]:
        batches = GroupCommit(commit, max_batch=2)
        first = asyncio.ensure_future(batches.submit(0))
        await asyncio.to_thread(started.wait, 5)
        rest = [asyncio.ensure_future(batches.submit(n)) for n in range(1, 6)]
        await asyncio.sleep(0.05)  # each of them is waiting now
        release.set()
        return await asyncio.gather(first, *rest, return_exceptions=True)

    outcomes = asyncio.run(main())
    assert all(isinstance(outcome, StorageUnavailable) for outcome in outcomes)
    assert calls == [[0]], "the waiting ones were not tried against the same outage"
