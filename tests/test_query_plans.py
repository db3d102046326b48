"""A booking's cost must not grow with the history: every statement its callback and its sync job
send finds its rows through an index, never by reading a table that grows with past bookings.

The statements are captured from a real booking (webhook over HTTP, then the worker's sync job)
on top of past bookings written in bulk, and each is put to SQLite's EXPLAIN QUERY PLAN. `make
bench` measures the same on 1,000,000 past bookings, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
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
from bench.history import TABLES
from bench.stage import Stage, stage
from simulators.server import BackgroundServer

GROWING = {table.name for table in TABLES}  # the tables every past booking adds rows to


@pytest.fixture
def with_history() -> Iterator[Stage]:
    with stage("sqlite", companies=3, peak_rate=5.0, history=2_000) as seeded:
        yield seeded


def _one_booking(seeded: Stage) -> list[tuple[str, Any]]:
    """The statements of one booking after a first one (caches warm), from callback to done."""
    statements: list[tuple[str, Any]] = []
    tenant = seeded.fleet.tenants[0]
    with BackgroundServer(build_web_app(seeded.core), name="meetbot") as server:
        for number in range(2):
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


def _full_scans(connection: sqlite3.Connection, sql: str, params: Any) -> list[str]:
    plan = connection.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
    return [
        str(row[-1])
        for row in plan
        if str(row[-1]).startswith("SCAN ") and str(row[-1]).split()[1] in GROWING
    ]


def test_no_statement_of_a_booking_reads_a_table_that_grows_with_history(
    with_history: Stage,
) -> None:
    statements = _one_booking(with_history)
    queries = [
        (sql, params)
        for sql, params in statements
        if sql.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE"))
    ]
    assert len(queries) >= 10, statements  # the whole booking was captured
    path = with_history.settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        scans = {sql: _full_scans(connection, sql, params) for sql, params in queries}
    assert {sql: found for sql, found in scans.items() if found} == {}
