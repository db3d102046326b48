"""The one way a repository opens the database: a read session or a write session.

A read session never begins a transaction of its own, so it never commits and, on SQLite, runs
deferred: a link click or a lookup never waits for the write lock (see storage.availability).
A write session is one transaction: everything in the block commits together, or nothing does.
Objects stay readable after the block ends (no expiry on commit), so repositories can map rows
to domain values outside it. An outage surfaces as `StorageUnavailable` either way, because the
engine translates it (storage.availability.translate_outages).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Executable, Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.availability import reads_only, single_reads

Result = TypeVar("Result")


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    with Session(reads_only(engine), expire_on_commit=False) as session:
        yield session


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


@contextmanager
def write_connection(engine: Engine) -> Iterator[Connection]:
    """For core statements (job rows queued in the same transaction as a record)."""
    with engine.begin() as connection:
        yield connection


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    with reads_only(engine).connect() as connection:
        yield connection


def read_row(
    engine: Engine, statement: Executable, parameters: dict[str, Any] | None = None
) -> Row[Any] | None:
    """The first row of one Core select, without loading ORM objects and (on SQLite) without a
    transaction around it: for the lookups every booking job makes. Row mappers read columns by
    name, so they take such a row too. Such lookups pass a statement built once with bind
    parameters and their values in `parameters`: building a select costs more than running it."""
    with single_reads(engine).connect() as connection:
        return connection.execute(statement, parameters).first()


def read_rows(
    engine: Engine, statement: Executable, parameters: dict[str, Any] | None = None
) -> list[Row[Any]]:
    """Every row of one Core select, like `read_row` (no transaction around it on SQLite)."""
    with single_reads(engine).connect() as connection:
        return list(connection.execute(statement, parameters))


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
