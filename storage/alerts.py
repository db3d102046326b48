"""Alerts for admins (the direct messages that carry them are in the outbox).

Raising an alert and queueing the job that tells the admins happen in one transaction, so a
problem is never recorded without being told, nor told without being recorded.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Select, bindparam, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from bot.clock import Clock
from bot.domain import (
    Alert,
    AlertKind,
    AlertSpec,
)
from bot.jobs import NotifyAdmins
from storage.home import refresh_home_in
from storage.jobs import defer_in
from storage.sessions import read_row, read_session, retry_on_conflict, write_session
from storage.tables import AlertRow, new_id

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
    """Implements the core's AlertStore port."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    # -- alerts -------------------------------------------------------------------------------

    def raise_alert(self, *, company_id: str, spec: AlertSpec, booking: str = "") -> bool:
        """Records the problem (adding `booking` to those it affects); True when admins will be told."""
        # Two workers may raise the same new problem at once: the loser finds the winner's row.
        return retry_on_conflict(lambda: self._raise(company_id, spec, booking), attempts=3)

    def _raise(self, company_id: str, spec: AlertSpec, booking: str) -> bool:
        now = self._clock.now()
        with write_session(self._engine) as session:
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
                refresh_home_in(session.connection(), company_id, now)
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
        # Usually there is nothing to resolve (every finished booking job asks): look without
        # taking the write lock, or building the statements, first.
        probe = {"company_id": company_id, "kind": kind.value}
        if subject is not None:
            probe["subject"] = subject
        if read_row(self._engine, _open_alert(subject is not None), probe) is None:
            return 0
        now = self._clock.now()
        scope = [
            col(AlertRow.company_id) == company_id,
            col(AlertRow.kind) == kind.value,
            col(AlertRow.resolved_at).is_(None),
        ]
        if subject is not None:
            scope.append(col(AlertRow.subject) == subject)
        with write_session(self._engine) as session:
            rows = list(session.scalars(select(AlertRow).where(*scope).with_for_update()))
            if rows:
                refresh_home_in(session.connection(), company_id, now)
            for row in rows:
                row.resolved_at, row.resolution = now, resolution
                if row.notified_at is not None:
                    self._queue_notice(session, company_id, f"alert:{row.id}:resolved", now)
            return len(rows)

    def _queue_notice(self, session: Session, company_id: str, key: str, now: datetime) -> None:
        defer_in(session.connection(), NotifyAdmins(key=key), company_id=company_id, run_at=now)

    def alert(self, *, company_id: str, alert_id: str) -> Alert | None:
        with read_session(self._engine) as session:
            row = session.get(AlertRow, alert_id)
        return _alert(row) if row is not None and row.company_id == company_id else None

    def open_count(self) -> int:
        """Alerts still open, over every company (a number for the metrics endpoint)."""
        with read_session(self._engine) as session:
            found = session.scalar(
                select(func.count())
                .select_from(AlertRow)
                .where(col(AlertRow.resolved_at).is_(None))
            )
        return int(found or 0)

    def open_alerts(self, *, company_id: str) -> list[Alert]:
        with read_session(self._engine) as session:
            rows = session.scalars(
                select(AlertRow)
                .where(col(AlertRow.company_id) == company_id, col(AlertRow.resolved_at).is_(None))
                .order_by(col(AlertRow.opened_at))
            )
            return [_alert(row) for row in rows]


@functools.cache
def _open_alert(of_subject: bool) -> Select[Any]:
    """Whether an open alert of a kind (and subject) exists: every finished booking job asks,
    so the select is built once per shape."""
    scope = [
        col(AlertRow.company_id) == bindparam("company_id"),
        col(AlertRow.kind) == bindparam("kind"),
        col(AlertRow.resolved_at).is_(None),
    ]
    if of_subject:
        scope.append(col(AlertRow.subject) == bindparam("subject"))
    return select(col(AlertRow.id)).where(*scope).limit(1)
