"""Notifications: the chat messages a meeting's booking posts, one per channel, each recorded as
an intent before it is posted so it is posted exactly once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from bot.clock import Clock
from bot.domain import (
    ChatPlatform,
    ChatTarget,
    Meeting,
    Notification,
    NotificationState,
    PostedMessage,
)
from bot.errors import NotFound
from storage.availability import reads_only
from storage.crypto import SecretBox
from storage.tables import NotificationRow, new_id


def _notification(row: NotificationRow) -> Notification:
    return Notification(
        id=row.id,
        meeting_id=row.meeting_id,
        target=ChatTarget(ChatPlatform(row.chat_platform), row.workspace_id, row.channel_id),
        marker=row.marker,
        state=NotificationState(row.state),
        message_id=row.message_id,
        digest=row.digest,
    )


class SqlNotifications:
    """Implements the core's Notifications port."""

    def __init__(self, engine: Engine, box: SecretBox, clock: Clock) -> None:
        self._engine = engine
        self._reader = reads_only(engine)
        self._box = box
        self._clock = clock

    def _session(self) -> Session:
        return Session(self._engine, expire_on_commit=False)

    def _read_session(self) -> Session:
        """For reads alone (a session that never begins a transaction never commits): on SQLite
        it does not wait for the write lock."""
        return Session(self._reader, expire_on_commit=False)

    def ensure_notification(
        self, *, meeting: Meeting, target: ChatTarget
    ) -> tuple[Notification, bool]:
        existing = self._notification(meeting, target)
        if existing is not None:
            return existing, False
        notification_id = new_id()
        try:
            with self._session() as session, session.begin():
                session.add(
                    NotificationRow(
                        id=notification_id,
                        company_id=meeting.company_id,
                        meeting_id=meeting.id,
                        chat_platform=target.platform.value,
                        workspace_id=target.workspace_id,
                        channel_id=target.channel_id,
                        marker=f"meetbot-msg:{notification_id}",
                        state=NotificationState.POSTING.value,
                        created_at=self._clock.now(),
                    )
                )
        except IntegrityError:
            existing = self._notification(meeting, target)
            if existing is None:
                raise
            return existing, False
        created = self._notification(meeting, target)
        assert created is not None
        return created, True

    def _notification(self, meeting: Meeting, target: ChatTarget) -> Notification | None:
        with self._read_session() as session:
            row = session.scalars(
                select(NotificationRow).where(
                    col(NotificationRow.company_id) == meeting.company_id,
                    col(NotificationRow.meeting_id) == meeting.id,
                    col(NotificationRow.chat_platform) == target.platform.value,
                    col(NotificationRow.channel_id) == target.channel_id,
                )
            ).first()
        return _notification(row) if row else None

    def record_notification_posted(
        self, *, notification_id: str, posted: PostedMessage, digest: str
    ) -> Notification:
        with self._session() as session, session.begin():
            row = session.get(NotificationRow, notification_id)
            if row is None:
                raise NotFound("notification not found")
            row.state, row.message_id, row.digest = (
                NotificationState.POSTED.value,
                posted.message_id,
                digest,
            )
            return _notification(row)

    def notifications_for_meeting(self, *, meeting: Meeting) -> list[Notification]:
        with self._read_session() as session:
            rows = session.scalars(
                select(NotificationRow).where(
                    col(NotificationRow.company_id) == meeting.company_id,
                    col(NotificationRow.meeting_id) == meeting.id,
                )
            ).all()
            return [_notification(row) for row in rows]

    def record_notification_edited(self, *, notification_id: str, digest: str) -> None:
        with self._session() as session, session.begin():
            row = session.get(NotificationRow, notification_id)
            if row is not None:
                row.digest = digest

    def notification_started_at(self, *, notification_id: str) -> datetime:
        with self._read_session() as session:
            row = session.get(NotificationRow, notification_id)
        if row is None:
            raise NotFound("notification not found")
        return row.created_at
