"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL is the real server on 127.0.0.1:5432. Where it is missing, its tests skip with a reason;
in CI (CI=true) a missing server fails the run instead, so a skip can never hide a failure there.

Safe under pytest-xdist: each worker process has its own template and test databases (named
after its pid), SQLite files live in each test's temporary folder, and servers listen on ports
the operating system picks. The verbs tests speak (deliver, say, run_jobs) are in harness.py.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from app.bootstrap import Core, build_core
from app.sandbox import Demo, SandboxWorld, seed_demo, simulators_running
from app.web import build_web_app
from bot.clock import Clock
from simulators.server import BackgroundServer
from simulators.tls import loopback_certificate
from storage.db import make_engine, migrate

from .harness import (
    SlackCompany,
    count_rows,
    free_port,
    make_admin,
    release_held_ports,
    run_jobs,
)
from .teams_platform import Meetbot, Servers, Tenant, _Slot, _tenant

# Older tests import these from here; the harness is their home.
__all__ = ["count_rows", "free_port", "run_jobs"]

PG_ADMIN_URL = os.environ.get(
    "MEETBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
_names = itertools.count()


def _pg_url(database: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{database}"


def _pg_admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as connection:
        connection.execute(sql)  # type: ignore[arg-type]


def postgres_available() -> str | None:
    """None when the server answers, else why not."""
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.OperationalError as error:
        return (
            f"no PostgreSQL at {PG_ADMIN_URL.split('@')[-1]} ({str(error).strip().splitlines()[0]})"
        )


@pytest.fixture(scope="session", autouse=True)
def _ports_released() -> Iterator[None]:
    yield
    release_held_ports()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


class PostgresDatabases:
    """Test databases copied from the template one step ahead, on one background thread.

    Copying takes a few tenths of a second on the server; made while the previous test runs,
    the next test finds its database ready. Dropping runs on the same thread after the test,
    and one thread means the template is never copied twice at once (PostgreSQL refuses that).
    """

    def __init__(self, template: str) -> None:
        self._template = template
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-databases")
        self._next = self._thread.submit(self._create)

    def _create(self) -> str:
        name = f"meetbot_test_{os.getpid()}_{next(_names)}"
        _pg_admin(f"CREATE DATABASE {name} TEMPLATE {self._template}")
        return name

    def take(self) -> str:
        name = self._next.result()
        self._next = self._thread.submit(self._create)
        return name

    def drop(self, name: str) -> None:
        self._thread.submit(_pg_admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def close(self) -> None:
        self.drop(self._next.result())
        self._thread.shutdown(wait=True)


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    problem = postgres_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {problem}")
        pytest.skip(problem)
    template = f"meetbot_template_{os.getpid()}"
    _pg_admin(f"DROP DATABASE IF EXISTS {template}")
    _pg_admin(f"CREATE DATABASE {template}")
    engine = make_engine(_pg_url(template))
    migrate(engine)
    engine.dispose()
    databases = PostgresDatabases(template)
    yield databases
    databases.close()
    _pg_admin(f"DROP DATABASE IF EXISTS {template} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        target = tmp_path / "meetbot.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
    name = databases.take()
    yield _pg_url(name)
    databases.drop(name)


@pytest.fixture
def world() -> Iterator[SandboxWorld]:
    with simulators_running() as running:
        yield running
        # All at once, before the sandbox stops (joins) them one by one.
        for server in running.servers.values():
            server.request_stop()


FAST_JOBS: dict[str, Any] = {
    "job_backoff_base_seconds": 0.02,
    "job_backoff_cap_seconds": 0.2,
    "job_max_attempts": 5,
    "job_lease_seconds": 5.0,
    "worker_idle_poll_seconds": 0.05,
    "company_routines": False,  # tests of the routine queue it themselves
}


class SteppingClock:
    """Real time, plus however far a test has moved it on (jobs, links and tokens all follow)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
def meetbot_timings() -> dict[str, Any]:
    """Timing settings a test module shortens for itself (e.g. how long meetbot waits on an answer
    the platform holds back); every meetbot a test makes gets them."""
    return {}


@pytest.fixture
def make_core(
    world: SandboxWorld, database_url: str, clock: SteppingClock, meetbot_timings: dict[str, Any]
) -> Iterator[Callable[..., Core]]:
    made: list[Core] = []

    def make(*, clock: Clock = clock, **overrides: Any) -> Core:
        values = {"public_url": "http://meetbot.test", **FAST_JOBS, **meetbot_timings, **overrides}
        settings = world.settings(database_url=database_url, **values)
        core = build_core(settings, clock=clock)
        made.append(core)
        return core

    yield make
    for core in made:
        core.engine.dispose()


@pytest.fixture
def core(make_core: Callable[..., Core]) -> Core:
    return make_core()


@pytest.fixture
def demo(core: Core, world: SandboxWorld) -> Demo:
    return seed_demo(core, world)


@pytest.fixture
def web(core: Core) -> Iterator[str]:
    """meetbot's web app over real HTTP, without its in-process worker (tests run jobs themselves)."""
    from app.web import build_web_app
    from simulators.server import BackgroundServer

    with BackgroundServer(build_web_app(core), name="meetbot") as server:
        yield server.url


ZOOM_WEBHOOK_SECRET = "zoom-webhook-secret-for-tests"


@pytest.fixture
def slack_app(make_core: Callable[..., Core], world: SandboxWorld) -> Iterator[tuple[Core, Any]]:
    """meetbot with its Slack front-end (multi-workspace install) over real HTTP."""
    from app.web import build_web_app
    from simulators.server import BackgroundServer

    from .slack_platform import SIGNING_SECRET, SlackPlatform

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    core = make_core(
        public_url=url,
        slack_signing_secret=SIGNING_SECRET,
        slack_client_id=world.slack.client_id,
        slack_client_secret=world.slack.client_secret,
        zoom_webhook_secret_token=ZOOM_WEBHOOK_SECRET,
    )
    with BackgroundServer(build_web_app(core), port=port, name="meetbot"):
        yield core, SlackPlatform(world, url)


@pytest.fixture
def slack_company(slack_app: tuple[Core, Any], world: SandboxWorld) -> SlackCompany:
    """The demo company on Slack with an admin, meetbot over real HTTP: say, deliver, run jobs."""
    core, slack = slack_app
    demo = seed_demo(core, world)
    slack.team_id = demo.team_id
    return SlackCompany(core, slack, demo, world, make_admin(core, world, demo))


# Microsoft Teams as a chat front-end (see teams_platform.py).


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    certificate = loopback_certificate(tmp_path_factory.mktemp("teams-tls"))
    http, login = _Slot(), _Slot()
    with (
        BackgroundServer(http, name="teams", lifespan="off") as plain,
        BackgroundServer(login, name="teams-login", lifespan="off", tls=certificate) as secure,
    ):
        yield Servers(http, plain.url, login, secure.url, certificate)


@pytest.fixture
def teams(servers: Servers, monkeypatch: pytest.MonkeyPatch) -> Tenant:
    # meetbot trusts the login's certificate through MEETBOT_TEAMS_CA_BUNDLE alone.
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    return _tenant(servers)


@pytest.fixture
def start_meetbot(make_core: Callable[..., Core]) -> Iterator[Callable[[Tenant], Meetbot]]:
    running: list[BackgroundServer] = []

    def start(tenant: Tenant, **overrides: Any) -> Meetbot:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        core = make_core(public_url=url, **{**tenant.settings(), **overrides})
        server = BackgroundServer(build_web_app(core), port=port, name="meetbot")
        server.start()
        running.append(server)
        return Meetbot(core, url)

    yield start
    for server in running:
        server.stop()


@pytest.fixture
def meetbot(start_meetbot: Callable[[Tenant], Meetbot], teams: Tenant) -> Meetbot:
    return start_meetbot(teams)
