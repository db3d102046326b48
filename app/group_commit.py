"""Group commit: requests that arrive while a transaction commits share the next one.

Each request waits for its own result, which exists only after the transaction that holds its
rows has committed, so answering a webhook after `submit` returns keeps the rule "acknowledge
only what is durable". One batch runs at a time, in a thread off the event loop: while it
commits, the next requests gather, so under load a commit (and its fsync) is shared by many
requests and when idle a request commits alone, at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from bot.errors import StorageUnavailable

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(Generic[Item, Result]):
    """`commit(items)` returns one outcome per item, in order (a result, or the exception that
    item's caller gets), or raises for all of them."""

    def __init__(
        self,
        commit: Callable[[Sequence[Item]], Sequence[Result | Exception]],
        *,
        max_batch: int = 128,
        max_waiting: int = 512,
    ) -> None:
        self._commit = commit
        self._max_batch = max_batch
        # Beyond this many waiting, a request would wait for several slow commits before its
        # own: it is refused at once instead, and the sender retries later.
        self._max_waiting = max_waiting
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._draining: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        """Raises StorageUnavailable at once when too many requests already wait."""
        if len(self._waiting) >= self._max_waiting:
            raise StorageUnavailable("too many deliveries are waiting to be stored")
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._draining is None:
            self._draining = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                await self._run(batch)
        finally:
            self._draining = None

    async def _run(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            results = await asyncio.to_thread(self._commit, [item for item, _ in batch])
        except Exception as error:  # nothing of this batch was stored: each caller hears why
            if isinstance(error, StorageUnavailable):  # the next batches would only wait it out
                batch, self._waiting = batch + self._waiting, []
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for (_, future), outcome in zip(batch, results, strict=True):
            if future.done():  # a caller that went away no longer waits
                continue
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
