"""The outbox's records: every chat message meetbot posts, intended before it is posted.

Two tables keep them: `notification` (a meeting's message in a channel, edited as the booking
changes) and `admin_message` (a one-off message under a key: an admin's direct message, a reply
in a booking's thread). Recording an intent is idempotent: two workers recording the same one
meet the unique constraint, and the loser reads the winner's row.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from sqlalchemy import Engine, Select, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from bot.clock import Clock
from bot.domain import ChatPlatform, ChatTarget, Meeting, NotificationState, PostedMessage
from bot.ports.outbox import OutboxEntry
from storage.sessions import (
    NOTHING_KEPT,
    keep_for_job,
    kept_for_job,
    read_row,
    read_session,
    write_connection,
)
from storage.tables import AdminMessageRow, ChatWorkspaceRow, NotificationRow, new_id

Row = TypeVar("Row", NotificationRow, AdminMessageRow)


class AdminTargets(Protocol):
    def admin_targets(
        self, *, company_id: str, platform: ChatPlatform, workspace_id: str
    ) -> list[ChatTarget]: ...


def _entry(row: NotificationRow | AdminMessageRow) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        target=ChatTarget(ChatPlatform(row.chat_platform), row.workspace_id, row.channel_id),
        marker=row.marker,
        state=NotificationState(row.state),
        message_id=row.message_id,
        # A booking message's row (an object or a Core row) has these; an admin message's not.
        digest=getattr(row, "digest", None),
        started_at=row.created_at,
        meeting_id=getattr(row, "meeting_id", None),
    )


def keep_meeting_without_messages(meeting_id: str) -> None:
    """A meeting the running job has just recorded has no message yet: its first message's
    intent is recorded without looking for one (the unique key still meets any that appeared)."""
    keep_for_job(_without_messages(meeting_id), True)


def _without_messages(meeting_id: str) -> tuple[str, str]:
    return ("meeting_without_messages", meeting_id)


class SqlOutbox:
    """Implements the core's Outbox port."""

    def __init__(self, engine: Engine, clock: Clock, staff: AdminTargets) -> None:
        self._engine = engine
        self._clock = clock
        self._staff = staff

    def admin_inboxes(self, *, company_id: str) -> list[ChatTarget]:
        with read_session(self._engine) as session:
            workspaces = session.execute(
                select(col(ChatWorkspaceRow.platform), col(ChatWorkspaceRow.external_id))
                .where(col(ChatWorkspaceRow.company_id) == company_id)
                .order_by(col(ChatWorkspaceRow.platform), col(ChatWorkspaceRow.external_id))
            ).all()
        return [
            target
            for platform, workspace_id in workspaces
            for target in self._staff.admin_targets(
                company_id=company_id, platform=ChatPlatform(platform), workspace_id=workspace_id
            )
        ]

    def meeting_messages(self, *, meeting: Meeting) -> list[OutboxEntry]:
        with read_session(self._engine) as session:
            rows = session.scalars(
                select(NotificationRow).where(
                    col(NotificationRow.company_id) == meeting.company_id,
                    col(NotificationRow.meeting_id) == meeting.id,
                )
            ).all()
            return [_entry(row) for row in rows]

    def ensure_meeting_message(
        self, *, meeting: Meeting, target: ChatTarget
    ) -> tuple[OutboxEntry, bool]:
        def find() -> NotificationRow | None:
            return self._first(
                _meeting_message(),
                {
                    "company_id": meeting.company_id,
                    "meeting_id": meeting.id,
                    "chat_platform": target.platform.value,
                    "channel_id": target.channel_id,
                },
            )

        def intend(row_id: str) -> NotificationRow:
            intent = self._intent(row_id, meeting.company_id, target, "meetbot-msg")
            return NotificationRow(**intent, meeting_id=meeting.id)

        # Taken once: after its first message, the meeting has one to look for.
        without = kept_for_job(_without_messages(meeting.id), once=True) is not NOTHING_KEPT
        return self._ensure(find, intend, look_first=not without)

    def ensure_message(
        self, *, company_id: str, key: str, target: ChatTarget
    ) -> tuple[OutboxEntry, bool]:
        def find() -> AdminMessageRow | None:
            return self._first(
                select(AdminMessageRow).where(
                    col(AdminMessageRow.company_id) == company_id,
                    col(AdminMessageRow.key) == key,
                    col(AdminMessageRow.chat_platform) == target.platform.value,
                    col(AdminMessageRow.workspace_id) == target.workspace_id,
                    col(AdminMessageRow.channel_id) == target.channel_id,
                )
            )

        def intend(row_id: str) -> AdminMessageRow:
            return AdminMessageRow(
                **self._intent(row_id, company_id, target, "meetbot-admin"), key=key
            )

        return self._ensure(find, intend)

    def _intent(
        self, row_id: str, company_id: str, target: ChatTarget, marker_prefix: str
    ) -> dict[str, Any]:
        """What both kinds of message record of an intent."""
        return {
            "id": row_id,
            "company_id": company_id,
            "chat_platform": target.platform.value,
            "workspace_id": target.workspace_id,
            "channel_id": target.channel_id,
            "marker": f"{marker_prefix}:{row_id}",
            "state": NotificationState.POSTING.value,
            "created_at": self._clock.now(),
        }

    def _first(self, query: Select[Row], parameters: dict[str, Any] | None = None) -> Row | None:
        """As a Core row, read by column name like the row object (each booking message asks)."""
        return read_row(self._engine, query, parameters)  # type: ignore[return-value]

    def _ensure(
        self, find: Callable[[], Row | None], intend: Callable[[str], Row], look_first: bool = True
    ) -> tuple[OutboxEntry, bool]:
        existing = find() if look_first else None
        if existing is not None:
            return _entry(existing), False
        row = intend(new_id())
        table = type(row).__table__  # type: ignore[attr-defined]
        try:
            with write_connection(self._engine) as connection:  # an INSERT, no unit of work
                connection.execute(
                    insert(table), {column.name: getattr(row, column.name) for column in table.c}
                )
        except IntegrityError:  # another worker recorded the same intent first
            existing = find()
            if existing is None:
                raise
            return _entry(existing), False
        return _entry(row), True

    def record_posted(self, *, entry: OutboxEntry, posted: PostedMessage, digest: str) -> None:
        values: dict[str, object] = {
            "state": NotificationState.POSTED.value,
            "message_id": posted.message_id,
        }
        if entry.meeting_id is None:
            self._update(AdminMessageRow, entry, values)
        else:
            self._update(NotificationRow, entry, {**values, "digest": digest})

    def record_edited(self, *, entry: OutboxEntry, digest: str) -> None:
        if entry.meeting_id is not None:  # one-off messages are never edited
            self._update(NotificationRow, entry, {"digest": digest})

    def _update(
        self,
        table: type[NotificationRow] | type[AdminMessageRow],
        entry: OutboxEntry,
        values: dict[str, object],
    ) -> None:
        statement = _row_update(table, tuple(sorted(values)))
        parameters = {f"new_{name}": value for name, value in values.items()}
        with write_connection(self._engine) as connection:
            connection.execute(statement, {**parameters, "row_id": entry.id})


@functools.cache
def _meeting_message() -> Select[NotificationRow]:
    """A meeting's message in one channel: every booking job looks, so the select is built once."""
    return select(NotificationRow).where(
        col(NotificationRow.company_id) == bindparam("company_id"),
        col(NotificationRow.meeting_id) == bindparam("meeting_id"),
        col(NotificationRow.chat_platform) == bindparam("chat_platform"),
        col(NotificationRow.channel_id) == bindparam("channel_id"),
    )


@functools.cache
def _row_update(
    table: type[NotificationRow] | type[AdminMessageRow], names: tuple[str, ...]
) -> Any:
    """An UPDATE of the named columns of one message row, built once per table and names."""
    columns = table.__table__.c  # type: ignore[union-attr]
    # Named apart from the columns: SQLAlchemy keeps a column's own name for itself here.
    values = {name: bindparam(f"new_{name}", type_=columns[name].type) for name in names}
    return update(table).where(col(table.id) == bindparam("row_id")).values(values)
