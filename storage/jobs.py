"""The durable job table: at-least-once on SQLite and PostgreSQL alike.

Claiming takes a lease (`lease_until`); a job whose worker died is claimable again once its lease
ran out. Jobs sharing a `dedupe_key` never run at the same time, and at most one of them is pending.

A running job may also hold a `serial_key` (`hold`): jobs of different subjects that write one
shared message (a group class's) take turns on it. A unique index over running holders makes the
turn exclusive across processes, on SQLite and PostgreSQL alike; finishing, rescheduling, or being
reclaimed after the lease ran out gives the key back.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    bindparam,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from bot.clock import Clock
from bot.domain import Job
from bot.jobs import JobType, encode
from storage.sessions import read_session, write_connection, write_session
from storage.tables import JobRow

PENDING, RUNNING, DONE, DEAD = "pending", "running", "done", "dead"


@functools.cache
def _pending_upsert(dialect: str) -> Any:
    """INSERT … ON CONFLICT for the pending-job unique index, built once per dialect."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(JobRow.__table__)  # type: ignore[attr-defined]
    earliest = (
        func.least if dialect == "postgresql" else func.min
    )  # SQLite's min() is scalar with 2 args
    table = JobRow.__table__  # type: ignore[attr-defined]
    return statement.on_conflict_do_update(
        index_elements=["dedupe_key"],
        index_where=text("state = 'pending'"),
        # A new callback is news: a job waiting out a backoff runs now, with fresh attempts.
        set_={
            "payload": statement.excluded.payload,
            "run_at": earliest(table.c.run_at, statement.excluded.run_at),
            "attempts": 0,
        },
    )


def _pending_row(
    *,
    kind: str,
    dedupe_key: str,
    payload: Mapping[str, str],
    company_id: str | None,
    run_at: datetime,
) -> dict[str, Any]:
    return {
        "kind": kind,
        "company_id": company_id,
        "dedupe_key": dedupe_key,
        "payload": json.dumps(dict(payload), sort_keys=True),
        "state": PENDING,
        "run_at": run_at,
        "attempts": 0,
        "created_at": run_at,
    }


# Worker processes on PostgreSQL listen here (storage/wakeups.py): told at commit that jobs are
# due, an idle one looks at once instead of at its next poll. The payload is how many; a job
# queued for later is left to the poll.
JOBS_CHANNEL = "meetbot_jobs"
_TELL_WORKERS = text(
    f"SELECT pg_notify('{JOBS_CHANNEL}', :count) "
    "WHERE CAST(:run_at AS timestamptz) <= clock_timestamp() + interval '1 second'"
)


def _tell_workers(connection: Connection, count: int, run_at: datetime) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(_TELL_WORKERS, {"count": str(count), "run_at": run_at})


def enqueue_unique(
    connection: Connection,
    *,
    kind: str,
    dedupe_key: str,
    payload: Mapping[str, str],
    company_id: str | None,
    run_at: datetime,
) -> None:
    """Insert a pending job, or refresh the payload of the one already pending for this key."""
    connection.execute(
        _pending_upsert(connection.dialect.name),
        _pending_row(
            kind=kind, dedupe_key=dedupe_key, payload=payload, company_id=company_id, run_at=run_at
        ),
    )
    _tell_workers(connection, 1, run_at)


def defer_in(
    connection: Connection, job: JobType, *, company_id: str | None, run_at: datetime
) -> None:
    """Queues a declared job inside the caller's transaction (the change that calls for it, and
    the job, are recorded together or not at all)."""
    enqueue_unique(
        connection,
        kind=job.kind,
        dedupe_key=job.dedupe_key(company_id),
        payload=encode(job),
        company_id=company_id,
        run_at=run_at,
    )


def defer_all_in(
    connection: Connection, jobs: Sequence[tuple[JobType, str | None]], *, run_at: datetime
) -> None:
    """`defer_in` for several (job, company id) pairs in one statement. Two jobs with one dedupe
    key become one, as two upserts in a row would (the later payload wins): one statement may
    not update the same row twice on PostgreSQL."""
    rows: dict[str, dict[str, Any]] = {}
    for job, company_id in jobs:
        key = job.dedupe_key(company_id)
        rows[key] = _pending_row(
            kind=job.kind, dedupe_key=key, payload=encode(job), company_id=company_id, run_at=run_at
        )
    if rows:  # in key order: two batches holding the same jobs lock them in the same order
        ordered = [rows[key] for key in sorted(rows)]
        connection.execute(_pending_upsert(connection.dialect.name), ordered)
        _tell_workers(connection, len(ordered), run_at)


_JOB = JobRow.__table__  # type: ignore[attr-defined]


@functools.cache
def _claim() -> Any:
    """Takes the next due job (as of the bound `now`) in one statement, built once: claiming is on
    every job's path.

    A pending job waits while any twin runs, even one whose lease ran out: that one is reclaimed
    first (second branch), so one booking's jobs never overlap."""
    job, twin = _JOB.c, _JOB.alias("twin").c
    now = bindparam("now", type_=_JOB.c.run_at.type)
    twin_running = (
        select(twin.id)
        .where(twin.dedupe_key == job.dedupe_key, twin.id != job.id, twin.state == RUNNING)
        .exists()
    )
    due = or_(
        and_(job.state == PENDING, job.run_at <= now, ~twin_running),
        and_(job.state == RUNNING, job.lease_until <= now),
    )
    next_due = (
        select(job.id)
        .where(due)
        .order_by(job.run_at)
        .limit(1)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite serialises via BEGIN IMMEDIATE
        .scalar_subquery()
    )
    return (
        update(_JOB)
        .where(job.id == next_due)
        .values(
            state=RUNNING,
            locked_by=bindparam("worker_id"),
            serial_key=None,  # a reclaimed job asks for its turn again
            lease_until=bindparam("lease_until", type_=_JOB.c.lease_until.type),
            attempts=job.attempts + 1,
        )
        .returning(job.id, job.kind, job.company_id, job.payload, job.attempts)
    )


@functools.cache
def _finished(with_error: bool) -> Any:
    """Built once: every job ends with it. Bound: the claim (`_claim_of`) and the new values."""
    job = _JOB.c
    values: dict[str, Any] = {
        "state": bindparam("new_state"),
        "note": bindparam("new_note"),
        "finished_at": bindparam("new_finished_at", type_=job.finished_at.type),
        "lease_until": None,
        "serial_key": None,
    }
    if with_error:
        values["last_error"] = bindparam("new_last_error")
    return (
        update(_JOB)
        .where(
            job.id == bindparam("claimed_id"),
            job.locked_by == bindparam("claimed_by"),
            job.state == RUNNING,
        )
        .values(**values)
    )


def _claim_of(job: Job) -> dict[str, Any]:
    return {"claimed_id": job.id, "claimed_by": job.worker_id}


def _twin_pending(connection: Connection, dedupe_key: str) -> bool:
    twin = select(_JOB.c.id).where(_JOB.c.dedupe_key == dedupe_key, _JOB.c.state == PENDING)
    return connection.execute(twin.limit(1)).first() is not None


def _claimed_by(job: Job) -> tuple[ColumnElement[bool], ...]:
    """The job's row while this claim of it lasts (not once another worker took it over)."""
    return (
        col(JobRow.id) == job.id,
        col(JobRow.locked_by) == job.worker_id,
        col(JobRow.state) == RUNNING,
    )


class SqlJobQueue:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    def defer(
        self, job: JobType, *, company_id: str | None = None, run_at: datetime | None = None
    ) -> None:
        with write_connection(self._engine) as connection:
            defer_in(connection, job, company_id=company_id, run_at=run_at or self._clock.now())

    def enqueue(
        self,
        *,
        kind: str,
        dedupe_key: str,
        payload: Mapping[str, str],
        company_id: str | None = None,
        run_at: datetime | None = None,
    ) -> None:
        """A job of any kind, spelled out: for exercising the queue itself. Product code defers
        declared jobs (`defer`)."""
        with write_connection(self._engine) as connection:
            enqueue_unique(
                connection,
                kind=kind,
                dedupe_key=dedupe_key,
                payload=payload,
                company_id=company_id,
                run_at=run_at or self._clock.now(),
            )

    def claim(self, *, worker_id: str, lease_seconds: float) -> Job | None:
        now = self._clock.now()
        until = now + timedelta(seconds=lease_seconds)
        with write_connection(self._engine) as connection:
            row = connection.execute(
                _claim(), {"now": now, "worker_id": worker_id, "lease_until": until}
            ).first()
        if row is None:
            return None
        return Job(
            id=row.id,
            kind=row.kind,
            company_id=row.company_id,
            payload=json.loads(row.payload),
            attempts=row.attempts,
            worker_id=worker_id,
        )

    def extend_lease(self, *, job: Job, lease_seconds: float) -> bool:
        """Keeps a running job's claim; False if another worker has taken it over."""
        with write_connection(self._engine) as connection:
            result = connection.execute(
                update(JobRow)
                .where(*_claimed_by(job))
                .values(lease_until=self._clock.now() + timedelta(seconds=lease_seconds))
            )
            return bool(result.rowcount)

    def hold(self, *, job: Job, key: str) -> bool:
        """Takes the turn on `key` for this running job; False while another running job has it.

        A holder whose worker died keeps the key until its job is reclaimed (`claim`), which also
        fences that worker off: its lease can no longer be renewed, so its handler is stopped. Taking
        the key here instead could leave a holder that is merely slow writing beside the next one.
        """
        try:
            with write_connection(self._engine) as connection:
                taken = connection.execute(
                    update(JobRow).where(*_claimed_by(job)).values(serial_key=key)
                )
                return bool(taken.rowcount)
        except IntegrityError:  # another running job holds the key
            return False

    def complete(self, *, job: Job, note: str | None = None) -> None:
        self._finish(job, DONE, note=note, error=None)

    def bury(self, *, job: Job, error: str) -> None:
        self._finish(job, DEAD, note=None, error=error)

    def _finish(self, job: Job, state: str, *, note: str | None, error: str | None) -> None:
        # Only while this claim lasts: after the lease ran out another worker owns the job.
        values: dict[str, Any] = {
            "new_state": state,
            "new_note": note,
            "new_finished_at": self._clock.now(),
        }
        if error is not None:
            values["new_last_error"] = error[:2000]
        with write_connection(self._engine) as connection:
            connection.execute(_finished(error is not None), {**_claim_of(job), **values})

    def retry(self, *, job: Job, run_at: datetime, error: str, counted: bool = True) -> None:
        try:
            self._reschedule(job, run_at, error, counted)
        except IntegrityError:  # a newer callback queued a twin meanwhile; it will do the work
            self._finish(job, DONE, note="superseded by a newer pending job", error=error)

    def _reschedule(self, job: Job, run_at: datetime, error: str, counted: bool) -> None:
        with write_connection(self._engine) as connection:
            owned = connection.execute(
                select(_JOB.c.dedupe_key, _JOB.c.attempts).where(*_claimed_by(job))
            ).first()
            if owned is None:
                return
            values: dict[str, Any] = {
                "last_error": error[:2000],
                "lease_until": None,
                "locked_by": None,
                "serial_key": None,
            }
            if owned.dedupe_key is not None and _twin_pending(connection, owned.dedupe_key):
                note = "superseded by a newer pending job"
                values |= {"state": DONE, "note": note, "finished_at": self._clock.now()}
            else:
                values |= {"state": PENDING, "run_at": run_at}
                if not counted:  # waiting for a turn is not a failed attempt
                    values["attempts"] = max(0, owned.attempts - 1)
            # Still only while this claim lasts: another worker may have reclaimed it meanwhile.
            connection.execute(update(_JOB).where(*_claimed_by(job)).values(**values))

    def requeue(self, *, job_id: int, company_id: str | None = None) -> bool:
        """A person asked to try a dead job again (only their own company's, when given)."""
        scope = [col(JobRow.company_id) == company_id] if company_id is not None else []
        try:
            with write_session(self._engine) as session:
                result = session.execute(
                    update(JobRow)
                    .where(col(JobRow.id) == job_id, col(JobRow.state) == DEAD, *scope)
                    .values(state=PENDING, attempts=0, run_at=self._clock.now(), finished_at=None)
                )
                return bool(result.rowcount)  # type: ignore[attr-defined]
        except IntegrityError:  # a newer job for the same booking is already waiting to run
            return False

    def counts(self) -> dict[str, int]:
        with read_session(self._engine) as session:
            rows = session.execute(
                select(col(JobRow.state), func.count()).group_by(JobRow.state)
            ).all()
        return {state: count for state, count in rows}

    def counts_by_kind(self) -> dict[tuple[str, str], int]:
        """How many jobs of each (kind, state): what the metrics endpoint reports."""
        with read_session(self._engine) as session:
            rows = session.execute(
                select(col(JobRow.kind), col(JobRow.state), func.count()).group_by(
                    col(JobRow.kind), col(JobRow.state)
                )
            ).all()
        return {(kind, state): count for kind, state, count in rows}

    def jobs(self, *, state: str | None = None, kind: str | None = None) -> list[JobRow]:
        with read_session(self._engine) as session:
            query = select(JobRow).order_by(col(JobRow.id))
            if state is not None:
                query = query.where(col(JobRow.state) == state)
            if kind is not None:
                query = query.where(col(JobRow.kind) == kind)
            return list(session.scalars(query))
