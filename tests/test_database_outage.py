"""A database that cannot be used right now is a 503 that says so, never a bare 500: the SimplyBook.me
webhook asks to be retried (`Retry-After`) and stores nothing, link pages show their own "try
again in a minute" page, `/healthz` says what is wrong; once the database is back, the same
callback is accepted. On SQLite a link click reads without waiting for a writer."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from app.bootstrap import Core
from app.sandbox import Demo, SandboxWorld, book, message_as_text, seed_demo
from app.web import build_web_app
from simulators.server import BackgroundServer
from storage.availability import unavailable_reason
from storage.tables import JobRow, ReceivedEventRow

from .conftest import _pg_admin, count_rows, run_jobs

BUSY_TIMEOUT_SECONDS = 0.5  # how long a SQLite writer waits for the lock here


@dataclass
class Site:
    core: Core
    demo: Demo
    world: SandboxWorld
    url: str
    client_link: str
    host_link: str

    def deliver(self, booking: dict[str, Any]) -> httpx.Response:
        return httpx.post(
            f"{self.url}/webhooks/simplybook/{self.demo.webhook_token}",
            json=self.world.simplybook.callback(self.demo.login, booking["id"], "create"),
            timeout=30,
        )

    def open(self, link: str) -> httpx.Response:
        return httpx.get(link, headers={"Accept-Language": "en"}, timeout=30)

    def stored(self) -> tuple[int, int]:
        return count_rows(self.core, ReceivedEventRow), count_rows(self.core, JobRow)


@pytest.fixture
def site(make_core: Any, world: SandboxWorld) -> Iterator[Site]:
    core = make_core(sqlite_busy_timeout_seconds=BUSY_TIMEOUT_SECONDS)
    demo = seed_demo(core, world)
    with BackgroundServer(build_web_app(core), name="meetbot") as server:
        first = book(world, demo, client_name="Iryna", starts_in=timedelta(days=2))
        site = Site(core, demo, world, server.url, "", "")
        assert site.deliver(first).status_code == 202
        run_jobs(core)
        text = message_as_text(world.slack.messages(demo.channel_id)[0])
        links = [word.replace("http://meetbot.test", server.url) for word in text.split()]
        site.client_link = next(link for link in links if "/m/" in link)
        site.host_link = next(link for link in links if "/h/" in link)
        yield site


@contextmanager
def writer_holding_the_lock(core: Core) -> Iterator[None]:
    """Another process in the middle of a long write transaction."""
    holder = sqlite3.connect(str(make_url(core.settings.database_url).database), timeout=5)
    holder.isolation_level = None
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE company SET name = name")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@contextmanager
def nobody_else_may_read(core: Core) -> Iterator[None]:
    """A process holding SQLite's exclusive lock: not even readers get in."""
    core.engine.dispose()  # meetbot's idle connections would keep the lock from being exclusive
    holder = sqlite3.connect(str(make_url(core.settings.database_url).database), timeout=5)
    holder.isolation_level = None
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("UPDATE company SET name = name")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.execute("PRAGMA locking_mode=NORMAL")
        holder.execute("SELECT 1 FROM company")  # releases the exclusive lock
        holder.close()


@contextmanager
def server_refusing_connections(core: Core) -> Iterator[None]:
    """PostgreSQL refuses this database and drops its sessions (the shared server keeps running)."""
    name = make_url(core.settings.database_url).database
    _pg_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    _pg_admin(
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' "
        "AND pid <> pg_backend_pid()"
    )
    try:
        yield
    finally:
        _pg_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


def outage(site: Site) -> Any:
    if site.core.engine.dialect.name == "sqlite":
        return nobody_else_may_read(site.core)
    return server_refusing_connections(site.core)


def _refused_for_now(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] == "30"
    assert "retry" in answer.json()["reason"]


def _try_again_page(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text
    assert "This link cannot be opened right now" in answer.text
    assert "try again in a minute" in answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert int(answer.headers["Retry-After"]) > 0


def test_database_down_refuses_for_now_and_takes_the_retry(site: Site) -> None:
    second = book(site.world, site.demo, client_name="Taras", starts_in=timedelta(days=3))
    before = site.stored()
    with outage(site):
        _refused_for_now(site.deliver(second))
        _try_again_page(site.open(site.client_link))
        _try_again_page(site.open(site.host_link))
        health = httpx.get(f"{site.url}/healthz", timeout=30)
        assert health.status_code == 503
        problem = health.json()["database"]["problem"]
        assert problem in (
            "the database is locked by another writer",
            "the database server cannot be reached",
        )
    assert site.stored() == before, "nothing of the refused callback was stored"

    assert site.deliver(second).status_code == 202, "the same callback, once the database is back"
    assert site.stored() == (before[0] + 1, before[1] + 1)
    run_jobs(site.core)
    assert len(site.world.slack.messages(site.demo.channel_id)) == 2
    assert httpx.get(f"{site.url}/healthz").json()["database"]["ok"] is True


def test_sqlite_reads_do_not_wait_for_a_writer(site: Site) -> None:
    if site.core.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's single writer lock")
    second = book(site.world, site.demo, client_name="Taras", starts_in=timedelta(days=3))
    before = site.stored()
    with writer_holding_the_lock(site.core):
        # Callbacks arriving together are refused in turn, none left queueing behind the others.
        with ThreadPoolExecutor(max_workers=4) as pool:
            for answer in pool.map(lambda _: site.deliver(second), range(4)):
                _refused_for_now(answer)
        opened = httpx.get(site.client_link, timeout=30)
        assert opened.status_code == 200, "the waiting page: the meeting opens in two days"
        assert "has not started yet" in opened.text
        health = httpx.get(f"{site.url}/healthz", timeout=30)
        assert health.status_code == 503
        assert health.json()["database"]["problem"] == "the database is locked by another writer"
    assert site.stored() == before
    assert site.deliver(second).status_code == 202


def test_a_dropped_connection_is_replaced_without_a_503(site: Site) -> None:
    if site.core.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's server-side sessions")
    name = make_url(site.core.settings.database_url).database
    _pg_admin(
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' "
        "AND pid <> pg_backend_pid()"
    )
    assert site.open(site.client_link).status_code == 200, "the pool reconnects by itself"
    second = book(site.world, site.demo, client_name="Taras", starts_in=timedelta(days=3))
    assert site.deliver(second).status_code == 202


def test_a_full_database_is_named_as_such(tmp_path: Path) -> None:
    """A database that cannot grow (here SQLite capped at a few pages; PostgreSQL's own error
    class for a full disk) is an outage, not a bug."""
    full = sqlite3.connect(tmp_path / "full.db", isolation_level=None)
    full.execute("CREATE TABLE filler (text TEXT)")
    full.execute("PRAGMA max_page_count = 8")
    with pytest.raises(sqlite3.OperationalError) as raised:
        for _ in range(100):
            full.execute("INSERT INTO filler VALUES (?)", ("x" * 4000,))
    full.close()
    assert unavailable_reason(raised.value) == "the database's disk is full"
    assert unavailable_reason(sqlite3.OperationalError("no such table: nope")) is None
    disk_full = psycopg.errors.DiskFull("could not extend file")
    assert (
        unavailable_reason(disk_full) == "the database server is out of disk, memory or connections"
    )
    assert unavailable_reason(psycopg.errors.UndefinedTable("no such table")) is None


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_sign_in_link_while_a_writer_holds_the_lock_is_a_page_and_holds_nothing_up(
    site: Site,
) -> None:
    """Opening a start link only reads; continuing needs a write, which gets the "try again"
    page (503) when the lock cannot be had, not a 500; link pages answer meanwhile."""
    with writer_holding_the_lock(site.core):
        shown = httpx.get(f"{site.url}/oauth/zoom/start", params={"id": "not-a-link"}, timeout=30)
        assert shown.status_code == 400 and "expired" in shown.text
        with httpx.Client(timeout=30) as stranger:
            opened = stranger.get(f"{site.url}/oauth/zoom/start", params={"id": "guess"})
            assert opened.status_code == 400
            stranger.cookies.set("meetbot_consent", "own-value", path="/oauth/zoom")
            posted = stranger.post(
                f"{site.url}/oauth/zoom/start", data={"id": "guess", "consent": "own-value"}
            )
        assert posted.status_code == 503 and "Try again in a minute" in posted.text
        assert posted.headers["retry-after"] == "60"
        assert site.open(site.client_link).status_code in (200, 303)
