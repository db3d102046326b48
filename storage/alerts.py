"""Alerts for admins and the direct messages that carry them (and the daily digest).

Raising an alert and queueing the job that tells the admins happen in one transaction, so a
problem is never recorded without being told, nor told without being recorded.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from bot.clock import Clock
from bot.domain import (
    Alert,
    AlertKind,
    AlertSpec,
    ChatPlatform,
    ChatTarget,
    NotificationState,
    PostedMessage,
)
from storage.jobs import enqueue_unique
from storage.staff import SqlStaff
from storage.tables import AdminMessageRow, AlertRow, ChatWorkspaceRow, new_id

NOTIFY_ADMINS = "notify_admins"
REMIND_AFTER = timedelta(days=1)  # an unresolved problem is told again after a day, not sooner
MAX_LISTED_BOOKINGS = 20


def _alert(row: AlertRow) -> Alert:
    spec = AlertSpec(
        kind=AlertKind(row.kind),
        subject=row.subject,
        title=row.title,
        detail=row.detail,
        fix=row.fix,
        action_label=row.action_label,
        action_id=row.action_id,
        action_value=row.action_value,
    )
    return Alert(
        id=row.id,
        company_id=row.company_id,
        spec=spec,
        bookings=tuple(json.loads(row.bookings)),
        opened_at=row.opened_at,
        resolved_at=row.resolved_at,
        resolution=row.resolution,
    )


class SqlAlerts:
    """Implements the core's AlertStore and AdminInbox ports."""

    def __init__(self, engine: Engine, clock: Clock, staff: SqlStaff) -> None:
        self._engine = engine
        self._clock = clock
        self._staff = staff

    def _session(self) -> Session:
        return Session(self._engine, expire_on_commit=False)

    # -- alerts -------------------------------------------------------------------------------

    def raise_alert(self, *, company_id: str, spec: AlertSpec, booking: str = "") -> bool:
        """Records the problem (adding `booking` to those it affects); True when admins will be told."""
        for _attempt in range(3):  # two workers may raise the same new problem at once
            try:
                return self._raise(company_id, spec, booking)
            except IntegrityError:
                continue
        raise RuntimeError("could not record the alert")  # pragma: no cover

    def _raise(self, company_id: str, spec: AlertSpec, booking: str) -> bool:
        now = self._clock.now()
        with self._session() as session, session.begin():
            row = session.scalars(
                select(AlertRow)
                .where(
                    col(AlertRow.company_id) == company_id,
                    col(AlertRow.kind) == spec.kind.value,
                    col(AlertRow.subject) == spec.subject,
                    col(AlertRow.resolved_at).is_(None),
                )
                .with_for_update()
            ).first()
            if row is None:
                row = AlertRow(
                    id=new_id(),
                    company_id=company_id,
                    kind=spec.kind.value,
                    subject=spec.subject,
                    title=spec.title,
                    detail=spec.detail,
                    opened_at=now,
                )
                session.add(row)
            bookings = json.loads(row.bookings)
            if booking and booking not in bookings:
                bookings = [*bookings, booking][-MAX_LISTED_BOOKINGS:]
            row.bookings = json.dumps(bookings)
            # The latest wording wins: it names the latest state of the problem.
            row.title, row.detail, row.fix = spec.title, spec.detail, spec.fix
            row.action_label, row.action_id = spec.action_label, spec.action_id
            row.action_value = spec.action_value
            due = row.notified_at is None or now - row.notified_at >= REMIND_AFTER
            if not due:
                return False
            phase = "opened" if row.notified_at is None else f"reminder-{now:%Y%m%d}"
            row.notified_at = now
            session.flush()
            self._queue_notice(session, company_id, f"alert:{row.id}:{phase}", now)
            return True

    def resolve(
        self, *, company_id: str, kind: AlertKind, subject: str | None = None, resolution: str
    ) -> int:
        """Closes the open alerts of that kind (and subject); admins told are told it is fixed."""
        now = self._clock.now()
        with self._session() as session, session.begin():
            query = select(AlertRow).where(
                col(AlertRow.company_id) == company_id,
                col(AlertRow.kind) == kind.value,
                col(AlertRow.resolved_at).is_(None),
            )
            if subject is not None:
                query = query.where(col(AlertRow.subject) == subject)
            rows = list(session.scalars(query.with_for_update()))
            for row in rows:
                row.resolved_at, row.resolution = now, resolution
                if row.notified_at is not None:
                    self._queue_notice(session, company_id, f"alert:{row.id}:resolved", now)
            return len(rows)

    def _queue_notice(self, session: Session, company_id: str, key: str, now: datetime) -> None:
        enqueue_unique(
            session.connection(),
            kind=NOTIFY_ADMINS,
            dedupe_key=f"{NOTIFY_ADMINS}:{key}",
            payload={"key": key},
            company_id=company_id,
            run_at=now,
        )

    def alert(self, *, company_id: str, alert_id: str) -> Alert | None:
        with self._session() as session:
            row = session.get(AlertRow, alert_id)
        return _alert(row) if row is not None and row.company_id == company_id else None

    def open_alerts(self, *, company_id: str) -> list[Alert]:
        with self._session() as session:
            rows = session.scalars(
                select(AlertRow)
                .where(col(AlertRow.company_id) == company_id, col(AlertRow.resolved_at).is_(None))
                .order_by(col(AlertRow.opened_at))
            )
            return [_alert(row) for row in rows]

    # -- direct messages to admins ------------------------------------------------------------

    def admin_inboxes(self, *, company_id: str) -> list[ChatTarget]:
        """Every admin of the company, in every chat workspace bound to it."""
        with self._session() as session:
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

    def ensure_admin_message(
        self, *, company_id: str, key: str, target: ChatTarget
    ) -> tuple[str, str, str | None, bool]:
        """(row id, marker, message id once posted, whether this call recorded the intent)."""
        existing = self._admin_message(company_id, key, target)
        if existing is not None:
            return existing.id, existing.marker, existing.message_id, False
        row_id = new_id()
        try:
            with self._session() as session, session.begin():
                session.add(
                    AdminMessageRow(
                        id=row_id,
                        company_id=company_id,
                        key=key,
                        chat_platform=target.platform.value,
                        workspace_id=target.workspace_id,
                        channel_id=target.channel_id,
                        marker=f"meetbot-admin:{row_id}",
                        state=NotificationState.POSTING.value,
                        created_at=self._clock.now(),
                    )
                )
        except IntegrityError:
            existing = self._admin_message(company_id, key, target)
            if existing is None:
                raise
            return existing.id, existing.marker, existing.message_id, False
        return row_id, f"meetbot-admin:{row_id}", None, True

    def _admin_message(
        self, company_id: str, key: str, target: ChatTarget
    ) -> AdminMessageRow | None:
        with self._session() as session:
            return session.scalars(
                select(AdminMessageRow).where(
                    col(AdminMessageRow.company_id) == company_id,
                    col(AdminMessageRow.key) == key,
                    col(AdminMessageRow.chat_platform) == target.platform.value,
                    col(AdminMessageRow.workspace_id) == target.workspace_id,
                    col(AdminMessageRow.channel_id) == target.channel_id,
                )
            ).first()

    def admin_message_started_at(self, *, row_id: str) -> datetime:
        with self._session() as session:
            row = session.get(AdminMessageRow, row_id)
        assert row is not None
        return row.created_at

    def record_admin_message_posted(self, *, row_id: str, posted: PostedMessage) -> None:
        with self._session() as session, session.begin():
            session.execute(
                update(AdminMessageRow)
                .where(col(AdminMessageRow.id) == row_id)
                .values(state=NotificationState.POSTED.value, message_id=posted.message_id)
            )
