"""Pacing to the chat platforms' per-conversation limits: short waits in place, longer ones
become a retry of the job (reliability rule 5)."""

from __future__ import annotations

import asyncio

import pytest

from adapters.slack.sender import CHANNEL_LIMITS
from bot.errors import RetryLater
from bot.pacing import Pacer


def test_a_burst_is_let_through_then_paced_then_rescheduled() -> None:
    now = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer(
        limits=CHANNEL_LIMITS, reason="slow down", max_wait=1.0, clock=lambda: now[0], sleep=sleep
    )

    async def burst() -> None:
        for _ in range(3):
            await pacer.acquire("T1:C1")
        assert slept == [], "a short burst goes at once"
        await pacer.acquire("T1:C1")
        assert slept == [pytest.approx(1.0)], "the fourth in a second waits for the window"
        await pacer.acquire("T1:C2")
        assert len(slept) == 1, "another channel has its own budget"

    asyncio.run(burst())
    tight = Pacer(limits=((10.0, 1),), reason="slow down", max_wait=1.0, clock=lambda: now[0])
    asyncio.run(tight.acquire("k"))
    with pytest.raises(RetryLater) as later:
        asyncio.run(tight.acquire("k"))
    assert later.value.after_seconds == pytest.approx(10.0)
    assert str(later.value) == "slow down"
