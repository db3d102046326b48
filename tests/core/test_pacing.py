"""Pacing sends to a conversation: short waits are slept, longer ones become a retry."""

from __future__ import annotations

import asyncio

import pytest

from bot.errors import RetryLater
from bot.pacing import Pacer


class Ticks:
    """A monotonic clock and a sleep that only moves it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def pacer(ticks: Ticks, limits: tuple[tuple[float, int], ...], max_wait: float = 1.0) -> Pacer:
    return Pacer(
        limits=limits,
        reason="the channel's pace",
        max_wait=max_wait,
        clock=ticks.clock,
        sleep=ticks.sleep,
    )


def test_sends_within_the_limit_do_not_wait() -> None:
    ticks = Ticks()
    paced = pacer(ticks, ((1.0, 3),))
    for _ in range(3):
        asyncio.run(paced.acquire("C1"))
    assert ticks.slept == []


def test_one_send_too_many_waits_out_the_window() -> None:
    ticks = Ticks()
    paced = pacer(ticks, ((1.0, 2),))
    asyncio.run(paced.acquire("C1"))
    ticks.now = 0.25
    asyncio.run(paced.acquire("C1"))
    assert paced.wait("C1") == pytest.approx(0.75)
    asyncio.run(paced.acquire("C1"))
    assert ticks.slept == [pytest.approx(0.75)]


def test_conversations_are_paced_separately() -> None:
    ticks = Ticks()
    paced = pacer(ticks, ((1.0, 1),))
    asyncio.run(paced.acquire("C1"))
    assert paced.wait("C1") > 0
    assert paced.wait("C2") == 0


def test_a_wait_longer_than_allowed_becomes_a_retry_with_the_wait() -> None:
    ticks = Ticks()
    paced = pacer(ticks, ((60.0, 1),))
    asyncio.run(paced.acquire("C1"))
    ticks.now = 10.0
    with pytest.raises(RetryLater, match="the channel's pace") as raised:
        asyncio.run(paced.acquire("C1"))
    assert raised.value.after_seconds == 50.0
    assert ticks.slept == []


def test_the_strictest_of_several_limits_wins() -> None:
    ticks = Ticks()
    paced = pacer(ticks, ((1.0, 5), (10.0, 2)), max_wait=100)
    for moment in (0.0, 2.0):
        ticks.now = moment
        asyncio.run(paced.acquire("C1"))
    ticks.now = 3.0
    assert paced.wait("C1") == pytest.approx(7.0)


def test_old_sends_are_forgotten_after_the_longest_window() -> None:
    ticks = Ticks()
    paced = pacer(ticks, ((1.0, 1),))
    asyncio.run(paced.acquire("C1"))
    ticks.now = 5.0
    assert paced.wait("C1") == 0
