"""Engines for SQLite (default, zero set-up) and PostgreSQL (several processes sharing the work)."""

from __future__ import annotations

import functools
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.exc import DBAPIError

from bot.errors import StorageUnavailable
from storage.availability import (
    begins_deferred,
    reads_only,
    single_statement,
    translate_outages,
    write_problem,
)
from storage.crypto import SecretBox

if TYPE_CHECKING:  # alembic is loaded only when there is something to migrate
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
POSTGRES_CONNECT_TIMEOUT_SECONDS = 10


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


class DatabaseConnectionError(RuntimeError):
    """The database cannot be opened or reached; the message says why in plain words (never the
    URL, which may hold a password)."""


# The forms PaaS providers and libpq hand out, mapped to the driver meetbot ships with.
_POSTGRES_SCHEMES = ("postgres://", "postgresql://")


def _in_memory(url: str) -> bool:
    database = make_url(url).database
    return not database or database == ":memory:"


def normalise_url(url: str) -> str:
    """`postgres://` and `postgresql://` mean PostgreSQL through psycopg (version 3)."""
    for scheme in _POSTGRES_SCHEMES:
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url.removeprefix(scheme)
    return url


def connection_problem(error: BaseException) -> str:
    """Why connecting failed, in plain words, from the driver's error (without its URL)."""
    text_ = str(getattr(error, "orig", None) or error).lower()
    if "password authentication failed" in text_ or "no password supplied" in text_:
        return "PostgreSQL refused the user name or password"
    if "does not exist" in text_ and 'role "' in text_:
        return "the PostgreSQL user named in the URL does not exist"
    if "does not exist" in text_ and 'database "' in text_:
        return "the PostgreSQL database named in the URL does not exist"
    if "unable to open database file" in text_ or "cannot be opened" in text_:
        return "the SQLite file cannot be opened"
    if isinstance(error, StorageUnavailable):
        return str(error)
    return "the database server cannot be reached"


def check_connection(engine: Engine) -> None:
    """Opens one connection, or raises `DatabaseConnectionError` saying why it could not."""
    try:
        with reads_only(engine).connect() as connection:
            connection.execute(text("SELECT 1"))
    except StorageUnavailable as outage:
        raise DatabaseConnectionError(connection_problem(outage.__cause__ or outage)) from outage
    except (DBAPIError, OSError) as error:
        raise DatabaseConnectionError(connection_problem(error)) from error


def make_engine(
    url: str,
    *,
    sqlite_synchronous: str = "FULL",
    sqlite_busy_timeout_seconds: float = 30.0,
    connections: int = 10,
) -> Engine:
    """`connections`: kept open in the pool (more are opened for a peak, and closed after). A
    running job holds one (storage.sessions.one_connection), so a worker wants one per lane and
    a few to spare for the web and lease renewals."""
    url = normalise_url(url)
    # hide_parameters: error texts (logged, kept on failed jobs) must not carry bound values,
    # which include link tokens and clients' contact details.
    if not is_sqlite(url):
        engine = create_engine(
            url,
            pool_pre_ping=True,
            pool_size=connections,
            max_overflow=10,
            hide_parameters=True,
            # A server that never answers (a firewall dropping packets) is an error, not a hang;
            # a connect_timeout in the URL wins.
            connect_args={}
            if "connect_timeout=" in url
            else {"connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS},
        )
        translate_outages(engine)
        return engine
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": sqlite_busy_timeout_seconds},
        hide_parameters=True,
        # A database in memory lives in one connection (SingletonThreadPool): no pool to size.
        **({} if _in_memory(url) else {"pool_size": connections, "max_overflow": 10}),
    )
    translate_outages(engine)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Autocommit at the driver level so that we, not pysqlite, decide how transactions begin.
        dbapi_connection.isolation_level = None
        for pragma in (
            "journal_mode=WAL",
            f"busy_timeout={int(sqlite_busy_timeout_seconds * 1000)}",
            f"synchronous={sqlite_synchronous}",  # FULL: an acknowledged webhook survives power loss
            "foreign_keys=ON",
        ):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        # Writers take the lock up front; a deferred transaction that upgrades later can fail
        # with SQLITE_BUSY without waiting for busy_timeout. Readers never need it (WAL).
        if single_statement(connection):
            return  # one SELECT: atomic on its own, and the driver is in autocommit
        connection.exec_driver_sql("BEGIN" if begins_deferred(connection) else "BEGIN IMMEDIATE")

    return engine


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def migrate(engine: Engine, *, box: SecretBox | None = None) -> None:
    """Brings the schema to the newest revision; safe to run on every start. `box` is for the
    migrations that move stored values into encrypted columns (an empty database needs none)."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # several processes may start at once
            connection.execute(text("SELECT pg_advisory_xact_lock(7270301)"))
        before = _revision(connection)
        if before == head_revision():
            return  # the usual start: alembic is not even imported
        from alembic import command

        config = alembic_config(engine)
        config.attributes["connection"] = connection
        config.attributes["secret_box"] = box
        command.upgrade(config, "head")
        after = _revision(connection)
        changed = before is not None and before != after
    if changed and engine.dialect.name == "sqlite":
        _scrub_sqlite_file(engine)
    if changed and engine.dialect.name == "postgresql" and _crossed(before, after, "0010"):
        _rewrite_postgresql_tables(engine, ("meeting", "seat", "job"))


def _crossed(before: str | None, after: str | None, revision: str) -> bool:
    return before is not None and after is not None and before < revision <= after


def _rewrite_postgresql_tables(engine: Engine, tables: tuple[str, ...]) -> None:
    """PostgreSQL keeps a dropped column's values, and the row versions an UPDATE replaced, in the
    table's files until the table is rewritten: after 0010 those are plaintext link tokens and
    response_urls. VACUUM FULL rewrites the tables (it needs autocommit)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"VACUUM FULL {', '.join(tables)}"))


def _revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _scrub_sqlite_file(engine: Engine) -> None:
    """An upgrade may have moved values out of the clear (0010: link tokens, response_urls);
    SQLite keeps the old bytes in free pages and in the write-ahead log until the file is rebuilt
    and the log emptied."""
    raw = engine.raw_connection()
    try:  # the driver connection is in autocommit, as VACUUM needs
        raw.driver_connection.execute("VACUUM")  # type: ignore[union-attr]
        raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
    finally:
        raw.close()


@functools.cache
def head_revision() -> str:
    """The newest schema revision this code knows, without loading alembic: migrations form one
    linear chain of files named after their revision (`NNNN_what.py`), so the head is the highest
    number (tests/test_health.py checks this against alembic's own answer)."""
    return max(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def database_state(engine: Engine) -> dict[str, object]:
    """For health checks: reachable, writable, which backend, schema revision (and whether it is
    the newest); when something is wrong, what, in plain words.

    Never the URL: it may hold a password."""
    try:
        with reads_only(engine).connect() as connection:
            connection.execute(text("SELECT 1"))
            has_version = inspect(connection).has_table("alembic_version")
            revision = (
                connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
                if has_version
                else None
            )
    except StorageUnavailable as outage:
        return {"ok": False, "backend": engine.dialect.name, "problem": str(outage)}
    except Exception as error:
        return {"ok": False, "backend": engine.dialect.name, "error": type(error).__name__}
    current = revision == head_revision()
    state: dict[str, object] = {
        "ok": current,
        "backend": engine.dialect.name,
        "schema_revision": revision,
        "schema_current": current,
    }
    problem = write_problem(engine)
    if problem is not None:
        state.update(ok=False, problem=problem)
    elif not current:
        state["problem"] = "the database schema is not the newest; run `meetbot migrate`"
    return state
