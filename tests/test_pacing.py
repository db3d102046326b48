"""Pacing to the chat platforms' per-conversation limits: short waits in place, longer ones
become a retry of the job (reliability rule 5). A wait is a reservation: sends that wait together
go one after another, in order; on PostgreSQL the reservations are shared by every process."""

from __future__ import annotations

import asyncio

import pytest

from adapters.slack.sender import CHANNEL_LIMITS, CHANNEL_SPACING_SECONDS, SlackSender
from app.sandbox import SandboxWorld
from bot.domain import ChatPlatform, ChatTarget, PostedMessage
from bot.errors import OutcomeUnknown, RetryLater
from bot.messages import ChatMessage
from bot.pacing import Pacer
from storage.db import make_engine
from storage.pacing import SqlPacer


class Sleeps:
    """Records each wait asked for, and lets the wait pass at once."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)


def test_slack_posts_into_one_channel_keep_over_a_second_apart() -> None:
    now = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer(
        limits=CHANNEL_LIMITS, reason="slow down", max_wait=1.5, clock=lambda: now[0], sleep=sleep
    )

    async def posts() -> None:
        await pacer.acquire("T1:C1")
        assert slept == [], "the first post goes at once"
        await pacer.acquire("T1:C1")
        assert slept == [pytest.approx(CHANNEL_SPACING_SECONDS)], "the next waits its turn"
        await pacer.acquire("T1:C2")
        assert len(slept) == 1, "another channel has its own pace"

    asyncio.run(posts())


def test_sends_waiting_together_reserve_their_moments_in_turn() -> None:
    now = [0.0]
    sleeps = Sleeps()  # the clock stands still: every lane asks while the others still wait
    pacer = Pacer(
        limits=((1.0, 1),), reason="slow down", max_wait=2.5, clock=lambda: now[0], sleep=sleeps
    )

    async def lanes() -> list[BaseException | None]:
        return await asyncio.gather(
            *(pacer.acquire("C1") for _ in range(4)), return_exceptions=True
        )

    outcomes = asyncio.run(lanes())
    assert outcomes[:3] == [None, None, None]
    assert sleeps.asked == [pytest.approx(1.0), pytest.approx(2.0)], "each its own moment"
    assert isinstance(outcomes[3], RetryLater), "a moment further off than allowed is a retry"
    assert outcomes[3].after_seconds == pytest.approx(3.0)
    now[0] = 3.0
    assert pacer.wait("C1") == 0, "a refused send reserved nothing"


def test_a_wait_longer_than_allowed_is_a_retry_that_says_when() -> None:
    now = [100.0]
    tight = Pacer(limits=((10.0, 1),), reason="slow down", max_wait=1.0, clock=lambda: now[0])
    asyncio.run(tight.acquire("k"))
    with pytest.raises(RetryLater) as later:
        asyncio.run(tight.acquire("k"))
    assert later.value.after_seconds == pytest.approx(10.0)
    assert str(later.value) == "slow down"


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_worker_processes_on_postgresql_share_each_channels_pace(database_url: str) -> None:
    """Two engines stand for two worker processes: a moment one took, the other never gets."""
    engines = [make_engine(database_url) for _ in range(2)]
    sleeps = [Sleeps(), Sleeps()]
    try:
        first, second = (
            SqlPacer(engine, spacing=60.0, reason="slow down", max_wait=90.0, sleep=sleep)
            for engine, sleep in zip(engines, sleeps, strict=True)
        )

        async def posts() -> None:
            await first.acquire("T1:C1")
            await second.acquire("T1:C1")
            await second.acquire("T1:C2")

        asyncio.run(posts())
        assert sleeps[0].asked == [], "the channel's first post goes at once"
        assert sleeps[1].asked == [pytest.approx(60.0, abs=5.0)], "the other process waits its turn"
        impatient = SqlPacer(engines[0], spacing=60.0, reason="slow down", max_wait=1.0)
        with pytest.raises(RetryLater, match="slow down") as later:
            asyncio.run(impatient.acquire("T1:C1"))
        assert later.value.after_seconds == pytest.approx(120.0, abs=5.0)
        with pytest.raises(RetryLater) as again:
            asyncio.run(impatient.acquire("T1:C1"))
        assert again.value.after_seconds == pytest.approx(120.0, abs=5.0), "a refusal took none"
    finally:
        for engine in engines:
            engine.dispose()


class NoPace:
    """Lets every post go at once, as two processes whose reserved moments arrived too close."""

    async def acquire(self, key: str) -> None:
        return None


def test_a_post_slack_refused_for_its_pace_waits_its_turn_and_goes_once_more(
    world: SandboxWorld,
) -> None:
    world.slack.add_workspace("T0PACE", bot_token="xoxb-pace")
    channel = world.slack.add_channel("T0PACE", name="bookings")
    world.slack.rate_limit_per_channel = True
    sender = SlackSender(
        api_url=f"{world.url('slack')}/api", token_for=lambda _: "xoxb-pace", pacer=NoPace()
    )
    target = ChatTarget(ChatPlatform.SLACK, "T0PACE", channel)

    async def two_posts() -> list[PostedMessage]:
        try:
            return [
                await sender.post(target=target, message=ChatMessage(title=title), marker=title)
                for title in ("first", "close behind")
            ]
        finally:
            await sender.aclose()

    first, second = asyncio.run(two_posts())

    posted = world.slack.messages(channel)
    assert [message["ts"] for message in posted] == [first.message_id, second.message_id]
    assert float(second.message_id) - float(first.message_id) >= 1.0, "after Slack's Retry-After"


def test_a_post_whose_connection_drops_is_not_sent_again_by_the_slack_client() -> None:
    """Slack may have stored a post whose answer never came: only the outbox, which looks for the
    post's marker first, may send it again."""
    received: list[bytes] = []

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.readuntil(b"\r\n\r\n"))
        writer.close()  # as if the answer were lost after Slack took the post

    async def post_once() -> None:
        server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        sender = SlackSender(
            api_url=f"http://127.0.0.1:{port}/api", token_for=lambda _: "xoxb-t", pacer=NoPace()
        )
        target = ChatTarget(ChatPlatform.SLACK, "T1", "C1")
        try:
            with pytest.raises(OutcomeUnknown):
                await sender.post(target=target, message=ChatMessage(title="a"), marker="m1")
        finally:
            await sender.aclose()
            server.close()
            await server.wait_closed()

    asyncio.run(post_once())

    assert len(received) == 1


def test_a_post_refused_for_a_token_replaced_meanwhile_goes_with_the_new_one(
    world: SandboxWorld,
) -> None:
    """A job reads its tokens at its start; a workspace that installed meetbot again since then
    refuses the old one, and nothing was posted."""
    world.slack.add_workspace("T0NEW", bot_token="xoxb-new")
    channel = world.slack.add_channel("T0NEW", name="bookings")
    tokens = iter(["xoxb-before-the-reinstall", "xoxb-new"])
    sender = SlackSender(
        api_url=f"{world.url('slack')}/api", token_for=lambda _: next(tokens), pacer=NoPace()
    )
    target = ChatTarget(ChatPlatform.SLACK, "T0NEW", channel)

    async def post() -> PostedMessage:
        try:
            return await sender.post(target=target, message=ChatMessage(title="a"), marker="m")
        finally:
            await sender.aclose()

    posted = asyncio.run(post())

    assert [message["ts"] for message in world.slack.messages(channel)] == [posted.message_id]
