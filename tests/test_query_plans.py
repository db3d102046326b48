"""A booking's cost must not grow with the history: every statement its callback and its sync job
send finds its rows through an index, never by reading a whole table (not even one that grows
only with companies: a statement folding several reads into one must be served by an index in
each of them).

The statements are captured from a real booking (webhook over HTTP, then the worker's sync job)
on top of past bookings written in bulk, and each is put to SQLite's EXPLAIN QUERY PLAN, and to
PostgreSQL's EXPLAIN with sequential scans priced out (so a small table's plan still shows whether
an index could serve it). `make bench` measures the same on 1,000,000 past bookings."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from app.bootstrap import build_integrations
from app.web import build_web_app
from app.worker import build_worker
from bench.fleet import book_with
from bench.stage import Stage, postgres_available, stage
from simulators.server import BackgroundServer


@pytest.fixture(params=["sqlite", "postgresql"])
def with_history(request: pytest.FixtureRequest) -> Iterator[Stage]:
    if request.param == "postgresql" and not postgres_available():
        pytest.skip("PostgreSQL is not running")
    with stage(request.param, companies=3, peak_rate=5.0, history=2_000) as seeded:
        yield seeded


def _one_booking(seeded: Stage) -> list[tuple[str, Any]]:
    """The statements of one booking after a first one (caches warm), from callback to done.
    The two are for two companies: the second one's post does not wait for the first one's
    channel to take another (it would be rescheduled, and its statements left out)."""
    statements: list[tuple[str, Any]] = []
    with BackgroundServer(build_web_app(seeded.core), name="meetbot") as server:
        for number in range(2):
            tenant = seeded.fleet.tenants[number]
            if number == 1:
                event.listen(
                    seeded.core.engine,
                    "before_cursor_execute",
                    lambda _c, _k, sql, params, _x, _m: statements.append((sql, params)),
                )
            booking = book_with(seeded.world, tenant, tenant.providers[0], f"Client {number}")
            answer = httpx.post(
                f"{server.url}/webhooks/simplybook/{tenant.demo.webhook_token}",
                content=json.dumps(
                    seeded.world.simplybook.callback(tenant.demo.login, booking["id"])
                ),
                timeout=10,
            )
            assert answer.status_code == 202, answer.text
            assert asyncio.run(_drain(seeded)) >= 1
    return statements


async def _drain(seeded: Stage) -> int:
    integrations = build_integrations(seeded.core)
    try:
        return await build_worker(seeded.core, integrations, role="plans").drain()
    finally:
        await integrations.aclose()


def _sqlite_scans(seeded: Stage, queries: list[tuple[str, Any]]) -> dict[str, list[str]]:
    path = seeded.settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        return {sql: _sqlite_plan_scans(connection, sql, params) for sql, params in queries}


def _sqlite_plan_scans(connection: sqlite3.Connection, sql: str, params: Any) -> list[str]:
    plan = connection.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
    return [str(row[-1]) for row in plan if str(row[-1]).startswith("SCAN ")]


def _postgres_scans(seeded: Stage, queries: list[tuple[str, Any]]) -> dict[str, list[str]]:
    connection = seeded.core.engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("SET enable_seqscan = off")  # a plan still scanning has no index to use
        scans = {}
        for sql, params in queries:
            cursor.execute(f"EXPLAIN {sql}", params)
            scans[sql] = [str(row[0]) for row in cursor.fetchall() if "Seq Scan" in str(row[0])]
        return scans
    finally:
        connection.rollback()  # EXPLAIN of an UPDATE changes nothing; leave nothing open
        connection.close()


def test_no_statement_of_a_booking_reads_a_whole_table(with_history: Stage) -> None:
    statements = _one_booking(with_history)
    queries = [
        (sql, params)
        for sql, params in statements
        if sql.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE"))
    ]
    # The whole booking was captured: its callback's event and its job's finish.
    assert any("INSERT INTO received_event" in sql for sql, _ in statements), statements
    assert any(re.match(r"\s*UPDATE job .*finished_at", sql, re.S) for sql, _ in queries), (
        statements
    )
    if with_history.core.engine.dialect.name == "sqlite":
        scans = _sqlite_scans(with_history, queries)
    else:
        scans = _postgres_scans(with_history, queries)
    assert {sql: found for sql, found in scans.items() if found} == {}
