"""A database that cannot be used right now (locked, full, unreachable) surfaces as the core's
`StorageUnavailable`, with a reason in plain words, instead of a driver error: callers answer 503
with a "try again" and health checks say what is wrong. A query that is wrong stays a bug.

SQLite transactions that only read begin deferred, so a link click never queues behind writers;
everything else begins IMMEDIATE (see storage.db).
"""

from __future__ import annotations

import sqlite3
import weakref
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError

from bot.errors import StorageUnavailable

READS_ONLY = "meetbot_reads_only"
SINGLE_STATEMENT = "meetbot_single_statement"
PROBE_TIMEOUT_SECONDS = 1.0

# Python's sqlite3 names the primary result code first (extended ones add a suffix).
_SQLITE_REASONS = {
    "SQLITE_BUSY": "the database is locked by another writer",
    "SQLITE_LOCKED": "the database is locked by another writer",
    "SQLITE_FULL": "the database's disk is full",
    "SQLITE_IOERR": "the database's disk cannot be read or written",
    "SQLITE_CANTOPEN": "the database file cannot be opened",
    "SQLITE_PROTOCOL": "the database is locked by another writer",
}
# SQLSTATE classes meaning "not now" rather than "wrong query".
_POSTGRES_REASONS = {
    "08": "the database server cannot be reached",
    "53": "the database server is out of disk, memory or connections",
    "57": "the database server is shutting down or refuses connections",
}
_NOT_CONNECTED = "the database server cannot be reached"


def unavailable_reason(error: BaseException | None, *, connecting: bool = False) -> str | None:
    """Why the database cannot be used right now, or None when `error` is not about that."""
    if isinstance(error, sqlite3.OperationalError | sqlite3.DatabaseError):
        name = str(getattr(error, "sqlite_errorname", "") or "")
        return next((why for code, why in _SQLITE_REASONS.items() if name.startswith(code)), None)
    state = getattr(getattr(error, "diag", None), "sqlstate", None) or getattr(
        error, "sqlstate", None
    )
    if isinstance(state, str) and state[:2] in _POSTGRES_REASONS:
        return _POSTGRES_REASONS[state[:2]]
    return _NOT_CONNECTED if connecting else None


def translate_outages(engine: Engine) -> None:
    @event.listens_for(engine, "handle_error")
    def _unavailable(context: ExceptionContext) -> None:
        if context.is_pre_ping:  # the pool replaces a dead connection by itself
            return
        original = context.original_exception
        # No connection yet, or one that broke: the server is away, whatever the driver says.
        connecting = context.connection is None or context.is_disconnect
        if not isinstance(context.sqlalchemy_exception, DBAPIError | None):
            return
        reason = unavailable_reason(original, connecting=connecting)
        if reason is not None:
            raise StorageUnavailable(reason) from context.sqlalchemy_exception


_READERS: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def reads_only(engine: Engine) -> Engine:
    """The same engine and pool, for transactions that never write (SQLite: deferred). Made once
    per engine: every read of every job and request asks for it."""
    reader = _READERS.get(engine)
    if reader is None:
        reader = _READERS[engine] = engine.execution_options(**{READS_ONLY: True})
    return reader


_SINGLE_READERS: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def single_reads(engine: Engine) -> Engine:
    """For one SELECT on its own: SQLite runs a lone statement atomically, so it needs no
    transaction (no BEGIN, nothing to roll back). PostgreSQL is not affected."""
    reader = _SINGLE_READERS.get(engine)
    if reader is None:
        options = {READS_ONLY: True, SINGLE_STATEMENT: True}
        reader = _SINGLE_READERS[engine] = engine.execution_options(**options)
    return reader


def begins_deferred(connection: Any) -> bool:
    return bool(connection.get_execution_options().get(READS_ONLY))


def single_statement(connection: Any) -> bool:
    return bool(connection.get_execution_options().get(SINGLE_STATEMENT))


def write_problem(engine: Engine) -> str | None:
    """SQLite: whether a writer could take the lock now (waiting at most a second). Reads do
    not need it, so a health check that only read would miss a stuck writer."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        return None
    probe = sqlite3.connect(path, timeout=PROBE_TIMEOUT_SECONDS, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
    except sqlite3.Error as error:
        return unavailable_reason(error) or type(error).__name__
    finally:
        probe.close()
    return None
