"""The outbox's crash rules, in memory: each message is posted once however a job stops and
runs again, edited only when it changed, and posted again when a person deleted it."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.domain import (
    ChatPlatform,
    ChatTarget,
    Meeting,
    MeetingHostRef,
    MeetingPlatform,
    MeetingState,
    NotificationState,
    PostedMessage,
)
from bot.errors import ChatMessageGone
from bot.messages import ChatMessage
from bot.outbox import ChatOutbox, Delivered
from bot.ports import OutboxEntry

NOON = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
CHANNEL = ChatTarget(ChatPlatform.SLACK, "T1", "C1")
ADMIN = ChatTarget(ChatPlatform.SLACK, "T1", "U1")
MEETING = Meeting(
    id="m1",
    company_id="c1",
    booking_id="b1",
    host=MeetingHostRef(MeetingPlatform.ZOOM, "a1", "host@example.com"),
    marker="meetbot-ref:m1",
    state=MeetingState.SCHEDULED,
    start=NOON,
    end=NOON,
    external_id="z1",
    join_url=None,
    client_token="client",
    host_token="host",
)
BOOKED = ChatMessage(title="Booked")
MOVED = ChatMessage(title="Moved")


class MemoryOutbox:
    """Implements the Outbox port in a dict, the way the repository does in tables."""

    def __init__(self, admins: list[ChatTarget] | None = None) -> None:
        self.entries: dict[tuple[str, ...], OutboxEntry] = {}
        self._admins = admins or []
        self._ids = itertools.count(1)

    def admin_inboxes(self, *, company_id: str) -> list[ChatTarget]:
        return list(self._admins)

    def meeting_messages(self, *, meeting: Meeting) -> list[OutboxEntry]:
        return [e for e in self.entries.values() if e.meeting_id == meeting.id]

    def ensure_meeting_message(
        self, *, meeting: Meeting, target: ChatTarget
    ) -> tuple[OutboxEntry, bool]:
        return self._ensure(("meeting", meeting.id, target.channel_id), target, meeting.id)

    def ensure_message(
        self, *, company_id: str, key: str, target: ChatTarget
    ) -> tuple[OutboxEntry, bool]:
        return self._ensure(("once", company_id, key, target.channel_id), target, None)

    def _ensure(
        self, key: tuple[str, ...], target: ChatTarget, meeting_id: str | None
    ) -> tuple[OutboxEntry, bool]:
        if key in self.entries:
            return self.entries[key], False
        entry = OutboxEntry(
            id=f"e{next(self._ids)}",
            target=target,
            marker=f"marker-{'-'.join(key)}",
            state=NotificationState.POSTING,
            message_id=None,
            digest=None,
            started_at=NOON,
            meeting_id=meeting_id,
        )
        self.entries[key] = entry
        return entry, True

    def record_posted(self, *, entry: OutboxEntry, posted: PostedMessage, digest: str) -> None:
        self._replace(
            entry, state=NotificationState.POSTED, message_id=posted.message_id, digest=digest
        )

    def record_edited(self, *, entry: OutboxEntry, digest: str) -> None:
        self._replace(entry, digest=digest)

    def _replace(self, entry: OutboxEntry, **changes: object) -> None:
        [key] = [k for k, e in self.entries.items() if e.id == entry.id]
        self.entries[key] = replace(self.entries[key], **changes)  # type: ignore[arg-type]


class Crash(Exception):
    """The job stopped right after the chat platform did what it was asked."""


class MemoryChat:
    """A chat platform that keeps every message with its marker; it can lose a message (a person
    deletes it) or stop the job right after a post."""

    def __init__(self) -> None:
        self.messages: dict[
            str, tuple[str, ChatMessage, str | None]
        ] = {}  # id: marker, shown, thread
        self.crash_after_post = False
        self.edits = 0
        self._ids = itertools.count(1)

    def _keep(self, marker: str, message: ChatMessage, thread: str | None) -> PostedMessage:
        message_id = f"ts{next(self._ids)}"
        self.messages[message_id] = (marker, message, thread)
        if self.crash_after_post:
            self.crash_after_post = False
            raise Crash
        return PostedMessage(CHANNEL.channel_id, message_id)

    async def post(self, *, target: ChatTarget, message: ChatMessage, marker: str) -> PostedMessage:
        return self._keep(marker, message, None)

    async def reply(
        self, *, target: ChatTarget, thread_id: str, message: ChatMessage, marker: str
    ) -> PostedMessage:
        return self._keep(marker, message, thread_id)

    async def find_posted(
        self, *, target: ChatTarget, marker: str, since: datetime
    ) -> PostedMessage | None:
        return self._find(marker, None)

    async def find_reply(
        self, *, target: ChatTarget, thread_id: str, marker: str
    ) -> PostedMessage | None:
        return self._find(marker, thread_id)

    def _find(self, marker: str, thread: str | None) -> PostedMessage | None:
        for message_id, (kept, _, in_thread) in self.messages.items():
            if (kept, in_thread) == (marker, thread):
                return PostedMessage(CHANNEL.channel_id, message_id)
        return None

    async def update(self, *, target: ChatTarget, message_id: str, message: ChatMessage) -> None:
        if message_id not in self.messages:
            raise ChatMessageGone("deleted")
        marker, _, thread = self.messages[message_id]
        self.messages[message_id] = (marker, message, thread)
        self.edits += 1

    def shown(self) -> list[str]:
        return [message.title for _, message, _ in self.messages.values()]


def _outbox(records: MemoryOutbox | None = None) -> tuple[ChatOutbox, MemoryOutbox, MemoryChat]:
    records = records or MemoryOutbox()
    chat = MemoryChat()
    return ChatOutbox(records=records, chats={ChatPlatform.SLACK: chat}), records, chat  # type: ignore[dict-item]


def _bring(outbox: ChatOutbox, message: ChatMessage) -> Delivered:
    return asyncio.run(outbox.bring_up_to_date(meeting=MEETING, target=CHANNEL, message=message))


def test_a_message_is_posted_once_and_left_alone_while_it_is_unchanged() -> None:
    outbox, _, chat = _outbox()
    assert _bring(outbox, BOOKED) is Delivered.POSTED
    assert _bring(outbox, BOOKED) is Delivered.UNCHANGED
    assert chat.shown() == ["Booked"] and chat.edits == 0


def test_a_changed_message_is_edited_in_place() -> None:
    outbox, _, chat = _outbox()
    _bring(outbox, BOOKED)
    assert _bring(outbox, MOVED) is Delivered.EDITED
    assert chat.shown() == ["Moved"]


def test_a_post_whose_record_was_lost_is_found_by_its_marker_not_posted_again() -> None:
    outbox, _, chat = _outbox()
    chat.crash_after_post = True
    with pytest.raises(Crash):
        _bring(outbox, BOOKED)
    assert _bring(outbox, BOOKED) is Delivered.EDITED, "what the found post shows is unknown"
    assert chat.shown() == ["Booked"]


def test_a_message_a_person_deleted_is_posted_again() -> None:
    outbox, _, chat = _outbox()
    _bring(outbox, BOOKED)
    chat.messages.clear()
    assert _bring(outbox, MOVED) is Delivered.POSTED_AGAIN
    assert chat.shown() == ["Moved"]


def test_editing_everywhere_looks_first_and_never_posts() -> None:
    outbox, records, chat = _outbox()
    records.ensure_meeting_message(meeting=MEETING, target=CHANNEL)  # intended, never posted
    assert asyncio.run(outbox.edit_everywhere(meeting=MEETING, message=MOVED)) == 0
    assert chat.shown() == []


def test_editing_everywhere_adopts_an_unrecorded_post_and_edits_it() -> None:
    outbox, _, chat = _outbox()
    chat.crash_after_post = True
    with pytest.raises(Crash):
        _bring(outbox, BOOKED)
    assert asyncio.run(outbox.edit_everywhere(meeting=MEETING, message=MOVED)) == 1
    assert chat.shown() == ["Moved"]


def test_a_one_off_message_is_sent_once_even_after_a_crash() -> None:
    outbox, _, chat = _outbox()
    chat.crash_after_post = True

    async def tell() -> None:
        await outbox.post_once(company_id="c1", key="alert:1:opened", target=ADMIN, message=BOOKED)

    with pytest.raises(Crash):
        asyncio.run(tell())
    asyncio.run(tell())
    asyncio.run(tell())
    assert chat.shown() == ["Booked"]


def test_a_thread_reply_goes_once_under_each_posted_message() -> None:
    outbox, _, chat = _outbox()
    _bring(outbox, BOOKED)
    chat.crash_after_post = True

    async def reply() -> int:
        return await outbox.reply_under_each(meeting=MEETING, key="starting", message=MOVED)

    with pytest.raises(Crash):
        asyncio.run(reply())
    assert asyncio.run(reply()) == 1
    assert sorted(chat.shown()) == ["Booked", "Moved"]
