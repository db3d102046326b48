"""Posting exactly once: every chat message meetbot sends goes through here.

Chat platforms cannot de-duplicate a post, and a job may stop at any point and run again. So each
message is recorded as intended, with a marker of its own, before it is posted (intent -> post ->
record). The crash rules:

- An intent that was already recorded (not new) may have been posted by the attempt that stopped:
  look for its marker before posting, and adopt what is found instead of posting again.
- A recorded post is brought up to date only when its content changed (a digest of what it shows
  is kept); a post found by its marker shows something unknown, so it is recorded with an empty
  digest and edited.
- Before editing a message whose post is unrecorded, look for it: if it was never posted there is
  nothing to edit.
- A post a person deleted is posted again (a booking is never lost), unless only edits were asked.

Booking messages, replies in their threads and admins' direct messages all use these functions;
the use cases decide only which message goes to whom.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from bot.domain import ChatPlatform, ChatTarget, Meeting, NotificationState, PostedMessage
from bot.errors import ChatMessageGone
from bot.messages import ChatMessage, Mentioned
from bot.ports import ChatSender, Outbox, OutboxEntry


class Delivered(StrEnum):
    """What `bring_up_to_date` had to do."""

    UNCHANGED = "unchanged"
    EDITED = "edited"
    POSTED = "posted"
    POSTED_AGAIN = "posted again"  # a person had deleted it


@dataclass(frozen=True, slots=True)
class ChatOutbox:
    records: Outbox
    chats: Mapping[ChatPlatform, ChatSender]

    def admin_inboxes(self, *, company_id: str) -> list[ChatTarget]:
        return self.records.admin_inboxes(company_id=company_id)

    async def post_once(
        self, *, company_id: str, key: str, target: ChatTarget, message: ChatMessage
    ) -> None:
        """Posts the one-off message `key` to `target` once, even when the job is retried."""
        entry, is_new = self.records.ensure_message(company_id=company_id, key=key, target=target)
        if entry.posted:
            return
        chat = self.chats[target.platform]
        found = None
        if not is_new:  # an earlier attempt may have posted it before failing
            found = await chat.find_posted(
                target=target, marker=entry.marker, since=entry.started_at
            )
        posted = found or await chat.post(target=target, message=message, marker=entry.marker)
        self.records.record_posted(entry=entry, posted=posted, digest="")

    async def reply_once(
        self, *, company_id: str, key: str, under: OutboxEntry, message: ChatMessage
    ) -> None:
        """Replies once in the thread of the posted message `under`, even when retried."""
        assert under.message_id is not None
        target = under.target
        entry, is_new = self.records.ensure_message(company_id=company_id, key=key, target=target)
        if entry.posted:
            return
        chat, thread = self.chats[target.platform], under.message_id
        found = None
        if not is_new:
            found = await chat.find_reply(target=target, thread_id=thread, marker=entry.marker)
        posted = found or await chat.reply(
            target=target, thread_id=thread, message=message, marker=entry.marker
        )
        self.records.record_posted(entry=entry, posted=posted, digest="")

    async def reply_under_each(
        self,
        *,
        meeting: Meeting,
        key: str,
        message: ChatMessage,
        mentions: Callable[[ChatTarget], tuple[Mentioned, ...]] | None = None,
    ) -> int:
        """Replies once under each posted message of the meeting, mentioning in each the people
        `mentions` names for its chat; returns how many."""
        replied = 0
        for entry in self.records.meeting_messages(meeting=meeting):
            if entry.posted:
                said = replace(message, mentions=mentions(entry.target)) if mentions else message
                await self.reply_once(
                    company_id=meeting.company_id,
                    key=f"{key}:{entry.id}",
                    under=entry,
                    message=said,
                )
                replied += 1
        return replied

    async def bring_up_to_date(
        self, *, meeting: Meeting, target: ChatTarget, message: ChatMessage
    ) -> Delivered:
        """The meeting's message in `target` shows `message`: posted once, edited when changed,
        posted again when a person deleted it."""
        entry, is_new = self.records.ensure_meeting_message(meeting=meeting, target=target)
        chat = self.chats[target.platform]
        deleted = None
        if entry.posted:
            assert entry.message_id is not None
            if entry.digest == message.digest():
                return Delivered.UNCHANGED
            try:
                await chat.update(target=target, message_id=entry.message_id, message=message)
            except ChatMessageGone:  # a person deleted it: posted again, not lost
                deleted = entry.message_id
            else:
                self.records.record_edited(entry=entry, digest=message.digest())
                return Delivered.EDITED
        found = None
        if not is_new:  # an earlier attempt (or re-post) may have posted it before failing
            found = await self._find(entry)
            found = None if found is not None and found.message_id == deleted else found
        if found is not None:  # what it shows is unknown (a class's seats may have changed)
            self.records.record_posted(entry=entry, posted=found, digest="")
            return await self.bring_up_to_date(meeting=meeting, target=target, message=message)
        posted = await chat.post(target=target, message=message, marker=entry.marker)
        self.records.record_posted(entry=entry, posted=posted, digest=message.digest())
        return Delivered.POSTED if deleted is None else Delivered.POSTED_AGAIN

    async def edit_everywhere(self, *, meeting: Meeting, message: ChatMessage) -> int:
        """Brings every posted message of the meeting to `message` (finding unrecorded posts
        first), never posting a new one; returns how many were edited."""
        edited = 0
        for entry in self.records.meeting_messages(meeting=meeting):
            message_id = entry.message_id
            if entry.state is NotificationState.POSTING:  # posted or not: look before editing
                found = await self._find(entry)
                if found is None:
                    continue
                self.records.record_posted(entry=entry, posted=found, digest="")
                message_id = found.message_id
            if message_id is None or message.digest() == entry.digest:
                continue
            try:
                await self.chats[entry.target.platform].update(
                    target=entry.target, message_id=message_id, message=message
                )
            except ChatMessageGone:  # deleted by a person: nothing left to bring up to date
                continue
            self.records.record_edited(entry=entry, digest=message.digest())
            edited += 1
        return edited

    async def _find(self, entry: OutboxEntry) -> PostedMessage | None:
        return await self.chats[entry.target.platform].find_posted(
            target=entry.target, marker=entry.marker, since=entry.started_at
        )
