"""The one way a repository opens the database: a read session or a write session.

A read session never begins a transaction of its own, so it never commits and, on SQLite, runs
deferred: a link click or a lookup never waits for the write lock (see storage.availability).
A write session is one transaction: everything in the block commits together, or nothing does.
Objects stay readable after the block ends (no expiry on commit), so repositories can map rows
to domain values outside it. An outage surfaces as `StorageUnavailable` either way, because the
engine translates it (storage.availability.translate_outages).

Inside `one_connection(engine)` (a job), every read and write takes turns on one pooled
connection instead of checking one out each time: a booking job makes about a dozen, and a
checkout and return cost more than a simple read. Each read and each write is still a
transaction of its own, ended at once, so nothing is held open across a platform call.

A job may also keep what one of its statements read beside what it asked for (`keep_for_job`),
for a later step of the same job to take instead of asking again (`kept_for_job`): the job ends
with its block, so nothing kept outlives it or reaches another job.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from contextvars import ContextVar
from threading import get_ident
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Executable, Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.availability import READS_ONLY, SINGLE_STATEMENT, reads_only, single_reads

Result = TypeVar("Result")

# The connection, and the thread it belongs to: a context variable also follows work handed to
# another thread (asyncio.to_thread), which must not use a connection the job's loop may return.
_SHARED: ContextVar[tuple[Connection, int] | None] = ContextVar(
    "meetbot_shared_connection", default=None
)
# What the running job's statements read for a later step of the same job (see above).
_KEPT: ContextVar[dict[Hashable, Any] | None] = ContextVar("meetbot_job_kept", default=None)
_WRITES = {READS_ONLY: False, SINGLE_STATEMENT: False}
_READS = {READS_ONLY: True, SINGLE_STATEMENT: False}
_SINGLE_READS = {READS_ONLY: True, SINGLE_STATEMENT: True}


@contextmanager
def one_connection(engine: Engine) -> Iterator[None]:
    """The block's reads and writes on `engine` share one pooled connection (see above); the
    task's own, since a context variable holds it. Nested, the outer one is kept."""
    if _SHARED.get() is not None:
        yield
        return
    with engine.connect() as connection:
        token, kept = _SHARED.set((connection, get_ident())), _KEPT.set({})
        try:
            yield
        finally:
            _KEPT.reset(kept)
            _SHARED.reset(token)


NOTHING_KEPT = object()
"""What `kept_for_job` returns when nothing was kept under the key (None may be a kept value)."""


def keep_for_job(key: Hashable, value: Any) -> None:
    """Keeps `value` for a later step of the running job; outside a job, nothing is kept."""
    kept = _KEPT.get()
    if kept is not None:
        kept[key] = value


def kept_for_job(key: Hashable, *, once: bool = False) -> Any:
    """What the running job kept under `key` (taken away when `once`), else NOTHING_KEPT."""
    kept = _KEPT.get()
    if kept is None:
        return NOTHING_KEPT
    return kept.pop(key, NOTHING_KEPT) if once else kept.get(key, NOTHING_KEPT)


def _shared(engine: Engine) -> Connection | None:
    """The block's connection, when it serves `engine` and is free: a statement asked for while
    a write is open on it (a read in the middle of a transaction) takes a connection of its own,
    as it would outside a block, so that ending it cannot end the write."""
    shared = _SHARED.get()
    if shared is None or shared[1] != get_ident():
        return None
    connection = shared[0]
    if connection.engine is not engine or connection.in_transaction():
        return None
    return connection


@contextmanager
def _reading(connection: Connection, options: dict[str, bool]) -> Iterator[Connection]:
    connection.execution_options(**options)
    try:
        yield connection
    except BaseException:
        with suppress(Exception):  # the read's own error is the one to report
            connection.rollback()
        raise
    connection.rollback()  # ends the read's own transaction (PostgreSQL); SQLite: nothing


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    shared = _shared(engine)
    if shared is None:
        with Session(reads_only(engine), expire_on_commit=False) as session:
            yield session
        return
    with _reading(shared, _READS), Session(bind=shared, expire_on_commit=False) as session:
        yield session


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    shared = _shared(engine)
    if shared is not None:
        shared.execution_options(**_WRITES)
    with Session(shared or engine, expire_on_commit=False) as session, session.begin():
        yield session


@contextmanager
def write_connection(engine: Engine) -> Iterator[Connection]:
    """For core statements (job rows queued in the same transaction as a record)."""
    shared = _shared(engine)
    if shared is None:
        with engine.begin() as connection:
            yield connection
        return
    shared.execution_options(**_WRITES)
    with shared.begin():
        yield shared


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    with _read_connection(engine, reads_only(engine), _READS) as connection:
        yield connection


def read_row(
    engine: Engine, statement: Executable, parameters: dict[str, Any] | None = None
) -> Row[Any] | None:
    """The first row of one Core select, without loading ORM objects and (on SQLite) without a
    transaction around it: for the lookups every booking job makes. Row mappers read columns by
    name, so they take such a row too. Such lookups pass a statement built once with bind
    parameters and their values in `parameters`: building a select costs more than running it."""
    with _single_read(engine) as connection:
        return connection.execute(statement, parameters).first()


def read_rows(
    engine: Engine, statement: Executable, parameters: dict[str, Any] | None = None
) -> list[Row[Any]]:
    """Every row of one Core select, like `read_row` (no transaction around it on SQLite)."""
    with _single_read(engine) as connection:
        return list(connection.execute(statement, parameters))


def _single_read(engine: Engine) -> AbstractContextManager[Connection]:
    return _read_connection(engine, single_reads(engine), _SINGLE_READS)


@contextmanager
def _read_connection(
    engine: Engine, outside_a_job: Engine, options: dict[str, bool]
) -> Iterator[Connection]:
    """The job's connection set for reading with `options`, or one of `outside_a_job`'s."""
    shared = _shared(engine)
    if shared is None:
        with outside_a_job.connect() as connection:
            yield connection
        return
    with _reading(shared, options) as connection:
        yield connection


def changed_any(engine: Engine, statement: Executable) -> bool:
    """Runs one UPDATE or DELETE in a write session of its own: whether it changed a row (how a
    compare-and-swap, or a removal that may find nothing, tells whether it happened)."""
    with write_session(engine) as session:
        result = session.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]


def retry_on_conflict(write: Callable[[], Result], *, attempts: int = 2) -> Result:
    """Runs `write` again when a unique key refused it: two first contacts at once, and the
    loser's second try finds (and updates) the winner's row."""
    for attempt in range(1, attempts + 1):
        try:
            return write()
        except IntegrityError:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")
