"""A job's reads and writes share one pooled connection (storage.sessions.one_connection), and
sharing changes nothing else: each read and each write is still a transaction of its own, a read
in the middle of a write neither sees nor ends it, and nothing is left open between them.
Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, column, event, insert, select, table, text

from storage.db import make_engine
from storage.sessions import (
    one_connection,
    read_connection,
    read_row,
    read_rows,
    read_session,
    write_connection,
    write_session,
)

NOTE = table("shared_connection_note", column("id"), column("body"))
ALL_NOTES = select(NOTE.c.body).order_by(NOTE.c.id)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS shared_connection_note"))
        connection.execute(
            text("CREATE TABLE shared_connection_note (id INTEGER PRIMARY KEY, body TEXT)")
        )
    yield engine
    engine.dispose()


def _checkouts(engine: Engine) -> list[Any]:
    seen: list[Any] = []
    event.listen(engine, "checkout", lambda dbapi, *_: seen.append(dbapi))
    return seen


def _note(engine: Engine, note_id: int, body: str) -> None:
    with write_connection(engine) as connection:
        connection.execute(insert(NOTE).values(id=note_id, body=body))


def _bodies(engine: Engine) -> list[str]:
    return [row.body for row in read_rows(engine, ALL_NOTES)]


def test_every_kind_of_read_and_write_in_a_block_takes_one_checkout(engine: Engine) -> None:
    checkouts = _checkouts(engine)
    with one_connection(engine):
        _note(engine, 1, "first")
        with write_session(engine) as session:
            session.execute(insert(NOTE).values(id=2, body="second"))
        assert read_row(engine, ALL_NOTES) is not None
        with read_session(engine) as session:
            assert list(session.scalars(ALL_NOTES)) == ["first", "second"]
        with read_connection(engine) as connection:
            assert len(connection.execute(ALL_NOTES).all()) == 2
        assert _bodies(engine) == ["first", "second"]
    assert len(checkouts) == 1
    assert _bodies(engine) == ["first", "second"]  # outside the block: committed for everyone


def test_no_transaction_is_left_open_between_statements(engine: Engine) -> None:
    with one_connection(engine):
        _note(engine, 1, "first")
        _bodies(engine)
        with read_session(engine) as session:
            list(session.scalars(ALL_NOTES))
        # Another connection can write at once: nothing of the block holds a lock or a snapshot.
        with engine.begin() as other:
            other.execute(insert(NOTE).values(id=2, body="from elsewhere"))
        assert _bodies(engine) == ["first", "from elsewhere"]


def test_a_read_during_a_write_neither_sees_nor_ends_it(engine: Engine) -> None:
    with one_connection(engine):
        _note(engine, 1, "committed")
        with write_connection(engine) as connection:
            connection.execute(insert(NOTE).values(id=2, body="pending"))
            assert _bodies(engine) == ["committed"]  # on a connection of its own
            connection.execute(insert(NOTE).values(id=3, body="also pending"))
        assert _bodies(engine) == ["committed", "pending", "also pending"]


def test_a_failed_write_is_rolled_back_and_the_block_goes_on(engine: Engine) -> None:
    with one_connection(engine):
        _note(engine, 1, "kept")
        with pytest.raises(RuntimeError), write_session(engine) as session:
            session.execute(insert(NOTE).values(id=2, body="undone"))
            raise RuntimeError("the use case changed its mind")
        _note(engine, 3, "after")
        assert _bodies(engine) == ["kept", "after"]


def test_blocks_nest_and_other_engines_are_not_shared(engine: Engine, database_url: str) -> None:
    other = make_engine(database_url)
    checkouts, other_checkouts = _checkouts(engine), _checkouts(other)
    try:
        with one_connection(engine):
            with one_connection(engine):
                _note(engine, 1, "inner")
            assert _bodies(other) == ["inner"]
            assert _bodies(other) == ["inner"]
        assert (len(checkouts), len(other_checkouts)) == (1, 2)
    finally:
        other.dispose()


def test_work_handed_to_another_thread_takes_a_connection_of_its_own(engine: Engine) -> None:
    """A context variable follows work into `asyncio.to_thread`; the job's connection must not,
    or a cancelled job could hand it back to the pool while that thread still uses it."""
    checkouts = _checkouts(engine)

    async def job() -> list[str]:
        with one_connection(engine):
            _note(engine, 1, "on the loop")
            return await asyncio.to_thread(_bodies, engine)

    assert asyncio.run(job()) == ["on the loop"]
    assert len(checkouts) == 2
