"""A stage for the end-to-end scenarios: a database (SQLite file or a PostgreSQL database of its
own), the simulators, a fleet of companies set up in both, optionally a history of past bookings,
and meetbot's processes started on it in one of two shapes:

- `workers=0`: one `meetbot serve` (web app and its in-process worker);
- `workers=N`: `meetbot serve --no-worker` and N `meetbot worker` processes (PostgreSQL).

One stage serves several scenarios in a row (companies and history are seeded once); meetbot's
processes are started afresh for each, so each scenario's memory and CPU are its own.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx
import psycopg

from app.bootstrap import Core, build_core
from app.sandbox import SandboxWorld, simulators_running
from app.settings import Settings
from bench.fleet import Fleet, seed_fleet
from bench.history import seed_history
from bench.procs import (
    UNLIMITED_CALLBACKS,
    BenchError,
    ServerProcess,
    WorkerProcess,
    free_port,
    settings_env,
)

Database = Literal["sqlite", "postgresql"]
POSTGRES_ADMIN_URL = os.environ.get(
    "MEETBOT_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@dataclass
class Stage:
    database: Database
    folder: Path
    world: SandboxWorld
    core: Core
    settings: Settings
    fleet: Fleet
    history: int = 0
    jobs_done: int = 0  # jobs every scenario so far left done (each checks the total)
    _pg_name: str | None = field(default=None, repr=False)

    def add_history(self, bookings: int) -> None:
        seed_history(self.core.engine, self.fleet, bookings)
        self.history += bookings
        self.jobs_done += bookings  # each past booking left its sync job done

    @contextlib.contextmanager
    def running(
        self, *, workers: int, concurrency: int, idle_poll: float | None = None
    ) -> Iterator[Processes]:
        """meetbot's processes on this stage, stopped on the way out. `idle_poll` overrides how
        often an idle worker looks for jobs (`meetbot serve`'s own worker is also woken by each
        webhook, so it needs no polling to be prompt)."""
        port = free_port()  # a port of its own each time: the last one may still linger
        update = {
            "worker_concurrency": concurrency,
            "port": port,
            "public_url": f"http://127.0.0.1:{port}",
            **({} if idle_poll is None else {"worker_idle_poll_seconds": idle_poll}),
        }
        env = settings_env(self.settings.model_copy(update=update))
        serve = ["-m", "app", "serve", *(["--no-worker"] if workers else [])]
        with contextlib.ExitStack() as stack:
            web = stack.enter_context(
                ServerProcess(
                    "meetbot-web",
                    serve,
                    port=port,
                    ready_path="/healthz",
                    ready=lambda answer: answer.status_code == 200,
                    workdir=self.folder,
                    env=env,
                )
            )
            started = [
                stack.enter_context(
                    WorkerProcess(
                        f"meetbot-worker-{number}",
                        concurrency=concurrency,
                        workdir=self.folder,
                        env=env,
                    )
                )
                for number in range(1, workers + 1)
            ]
            yield Processes(web, started)


@dataclass(frozen=True)
class Processes:
    web: ServerProcess
    workers: list[WorkerProcess]

    @property
    def pids(self) -> list[int]:
        return [self.web.pid, *(worker.pid for worker in self.workers)]

    @property
    def ready_rss_mib(self) -> float:
        return self.web.ready_rss_mib

    def peak_rss_mib(self) -> float:
        return max([self.web.peak_rss_mib(), *(w.peak_rss_mib() for w in self.workers)])

    def sql_statements(self) -> float | None:
        """SQL statements the web process sent so far (its `/metrics`); None when workers run
        apart, since a worker process serves no metrics."""
        if self.workers:
            return None
        answer = httpx.get(f"{self.web.url}/metrics", timeout=10.0, trust_env=False)
        for line in answer.text.splitlines():
            if line.startswith("meetbot_sql_statements_total "):
                return float(line.split()[1])
        raise BenchError("/metrics shows no meetbot_sql_statements_total")


@contextlib.contextmanager
def stage(
    database: Database, *, companies: int, peak_rate: float, history: int = 0
) -> Iterator[Stage]:
    """A seeded stage; its database and simulators are removed on the way out."""
    with (
        tempfile.TemporaryDirectory(prefix="meetbot-bench-") as folder,
        simulators_running() as world,
        _database(database, Path(folder)) as (url, pg_name),
    ):
        world.zoom.daily_meeting_limit = 10**9  # Zoom's real quota is 100 per host and day
        world.slack.rate_limit_per_channel = True  # as Slack: about one post a second per channel
        port = free_port()
        settings = world.settings(
            database_url=url,
            public_url=f"http://127.0.0.1:{port}",
            host="127.0.0.1",
            port=port,
            metrics=True,
            worker_idle_poll_seconds=0.5,  # the product's default (the sandbox polls faster)
            simplybook_callback_rate=UNLIMITED_CALLBACKS,
            company_routines=False,  # the hourly checks and digest are not the booking pipeline
            # Only Slack and Zoom, as a deployment serving these companies would configure.
            ms_client_id=None,
            ms_client_secret=None,
            ms_simulated_authority=False,
            ms_ca_bundle=None,
        )
        core = build_core(settings)
        try:
            core.migrate()
            fleet = seed_fleet(core, world, companies=companies, peak_rate=peak_rate)
            built = Stage(database, Path(folder), world, core, settings, fleet, _pg_name=pg_name)
            if history:
                built.add_history(history)
            yield built
        finally:
            core.engine.dispose()


@contextlib.contextmanager
def _database(database: Database, folder: Path) -> Iterator[tuple[str, str | None]]:
    if database == "sqlite":
        yield f"sqlite:///{folder}/meetbot.db", None
        return
    name = f"meetbot_bench_{os.getpid()}_{folder.name[-8:].lower()}"
    name = "".join(char if char.isalnum() else "_" for char in name)
    _admin(f'CREATE DATABASE "{name}"')
    try:
        base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
        yield f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}", name
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin(sql: str) -> None:
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as connection:
            connection.execute(sql.encode())
    except psycopg.OperationalError as error:
        raise BenchError(f"PostgreSQL is not usable ({str(error).strip()[:200]})") from error


def postgres_available() -> bool:
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False
