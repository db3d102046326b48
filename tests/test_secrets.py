"""Secrets are encrypted at rest, bound to their row, rotatable, and never logged (rule 4)."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import httpx
import pytest
from alembic import command
from pydantic import SecretStr
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from app.bootstrap import Core, build_core
from app.jobs import job_secrets
from app.sandbox import Demo, SandboxWorld, book, message_as_text, seed_demo, wait_for
from app.web import build_web_app
from simulators.server import BackgroundServer
from storage.crypto import DecryptionError, SecretBox, generate_key
from storage.db import alembic_config
from storage.rotation import RotationProgress, rotate_secrets
from storage.secret_columns import secret_tables
from storage.tables import CompanyRow, JobSecretRow

from .conftest import SteppingClock, count_rows, free_port, run_jobs
from .slack_platform import SlackPlatform
from .teams_platform import (
    Meetbot,
    Tenant,
    ask,
    bookings_channel_in_teams,
    chat_in_teams,
    new_posts,
    text_of,
)
from .test_teams_meetings import Office, _connected, office  # noqa: F401  (office: a fixture)

ROOT = Path(__file__).resolve().parent.parent
ADMIN = "UADMIN01"
CIPHERTEXT = re.compile(r"^v1\.[0-9a-f]{8}\.")


def _secrets(core: Core, demo: Demo) -> dict[str, str]:
    credentials = core.companies.simplybook_credentials(company_id=demo.company_id)
    account_id = core.zoom_accounts.zoom_account_id(company_id=demo.company_id)
    assert account_id is not None
    tokens = core.zoom_tokens.tokens(account_id=account_id)
    bot_token = core.workspaces.bot_token(platform="slack", external_id=demo.team_id)
    assert bot_token is not None
    return {
        "api key": credentials.api_key,
        "api secret": credentials.api_secret,
        "webhook token": demo.webhook_token,
        "zoom access token": tokens.access_token,
        "zoom refresh token": tokens.refresh_token,
        "slack bot token": bot_token,
    }


def _every_stored_text(core: Core) -> str:
    dump = []
    with core.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f"SELECT * FROM {table}")):
                dump.extend(str(value) for value in row)
    return "\n".join(dump)


def _deliver(world: SandboxWorld, demo: Demo, web: str) -> None:
    booking = book(world, demo)
    body = json.dumps(world.simplybook.callback(demo.login, booking["id"])).encode()
    request = (
        urllib.request.Request(  # urllib, not httpx: the test's own request must not log the URL
            f"{web}/webhooks/simplybook/{demo.webhook_token}",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
    )
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 202


def test_secrets_are_stored_encrypted(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    _deliver(world, demo, web)
    run_jobs(core)
    stored = _every_stored_text(core)
    for name, secret in _secrets(core, demo).items():
        assert secret not in stored, f"{name} is stored in plain text"
    with Session(core.engine) as session:
        row = session.scalars(select(CompanyRow)).one()
    assert row.api_key_enc.startswith(f"v1.{core.box.primary_key_id}.")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_file_holds_no_plaintext_secret(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    _deliver(world, demo, web)
    run_jobs(core)
    database = Path(str(core.engine.url.database))
    raw = b"".join(path.read_bytes() for path in database.parent.glob(database.name + "*"))
    for name, secret in _secrets(core, demo).items():
        assert secret.encode() not in raw, f"{name} found in the database file"


def test_ciphertext_does_not_decrypt_in_another_row_or_column(core: Core, demo: Demo) -> None:
    other, _ = core.companies.create_company(
        login="other-shop", api_key="other-key-123456", api_secret="other-secret-123456"
    )
    with Session(core.engine) as session, session.begin():
        mine = session.get(CompanyRow, demo.company_id)
        theirs = session.get(CompanyRow, other.id)
        theirs.api_key_enc = (
            mine.api_key_enc
        )  # a swapped column, as an attacker with SQL access might do
        mine.api_secret_enc = mine.api_key_enc
    with pytest.raises(DecryptionError):
        core.companies.simplybook_credentials(company_id=other.id)
    with pytest.raises(DecryptionError):
        core.companies.simplybook_credentials(company_id=demo.company_id)


def test_keys_rotate_without_losing_anything(core: Core, demo: Demo) -> None:
    before = _secrets(core, demo)
    old_key, new_key = core.settings.secret_key_list()[0], generate_key()

    count = rotate_secrets(core.engine, SecretBox([new_key, old_key]))

    assert count == 6  # api key, api secret, webhook token, two Zoom tokens, Slack bot token
    assert rotate_secrets(core.engine, SecretBox([new_key, old_key])) == 0
    rebuilt = build_core(core.settings.model_copy(update={"secret_keys": SecretStr(new_key)}))
    try:
        assert _secrets(rebuilt, demo) == before, "everything decrypts with the new key alone"
    finally:
        rebuilt.engine.dispose()
    with Session(core.engine) as session:
        row = session.get(CompanyRow, demo.company_id)
    with pytest.raises(DecryptionError):
        SecretBox([old_key]).decrypt(row.api_key_enc, context=f"company.api_key:{row.id}")


def test_no_secret_reaches_the_logs(
    core: Core, demo: Demo, world: SandboxWorld, web: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    world.zoom.expire_access_tokens()  # forces a token refresh inside the flow
    world.zoom.faults.fail(method="POST", path=r"/meetings$", status=500, times=1)  # and a retry
    _deliver(world, demo, web)
    run_jobs(core)
    assert len(world.slack.messages(demo.channel_id)) == 1
    logged = caplog.text + "\n".join(str(record.__dict__) for record in caplog.records)
    assert "retries in" in logged, "the flow did log"
    secrets = {
        **_secrets(core, demo),
        "zoom client secret": world.zoom.client_secret,
        "encryption key": core.settings.secret_key_list()[0],
    }
    for name, secret in secrets.items():
        assert secret not in logged, f"{name} appeared in the logs"


# Every encrypted column known by construction (storage.secret_columns).


def _registry() -> set[tuple[str, str]]:
    return {(secret.name, column.name) for secret in secret_tables() for column in secret.columns}


def test_every_encrypted_column_in_the_schema_is_in_the_registry(core: Core) -> None:
    with core.engine.connect() as connection:
        schema = inspect(connection)
        in_schema = {
            (table, column["name"])
            for table in schema.get_table_names()
            for column in schema.get_columns(table)
            if column["name"].endswith("_enc")
        }
    assert in_schema == _registry()
    assert {
        ("company", "api_key_enc"),
        ("zoom_account", "refresh_token_enc"),
        ("chat_workspace", "bot_token_enc"),
        ("ms_account", "token_cache_enc"),
        ("oauth_state", "payload_enc"),
        ("meeting", "host_token_enc"),
        ("seat", "client_token_enc"),
        ("job_secret", "value_enc"),
    } <= in_schema


def _ciphertexts_outside_the_registry(core: Core) -> list[str]:
    """Every stored value shaped like a ciphertext must sit in a registry column."""
    registry, stray = _registry(), []
    with core.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            result = connection.execute(text(f"SELECT * FROM {table}"))
            for row in result.mappings():
                stray.extend(
                    f"{table}.{column}"
                    for column, value in row.items()
                    if isinstance(value, str)
                    and CIPHERTEXT.match(value)
                    and (table, column) not in registry
                )
    return stray


# A full flow, Slack and Zoom or Slack and Teams, with a slow command answered on response_url.


def _slow_command(core: Core, slack: SlackPlatform, world: SandboxWorld) -> str:
    """`services` while SimplyBook.me is slow: a durable job; returns its response_url."""
    world.simplybook.faults.latency = 1.5  # two calls: past Slack's wait, so a job answers
    body = slack.command_body("services", user=ADMIN)
    answer = slack.post(body, slack.signed(body))
    assert answer.status_code == 200 and "Working on it" in answer.text
    world.simplybook.faults.latency = 0
    run_jobs(core)
    assert wait_for(lambda: world.slack.response_posts()), "answered on the response_url"
    return parse_qs(body)["response_url"][0]


def _link_tokens(world: SandboxWorld, channel_id: str) -> tuple[str, str]:
    """The client's and the provider's link tokens, from the posted message."""
    [message] = world.slack.messages(channel_id)
    return _link_tokens_in(message)


def _link_tokens_in(message: dict[str, Any]) -> tuple[str, str]:
    shown = message_as_text(message)
    client = re.search(r"/m/([A-Za-z0-9_-]{16,})", shown)
    host = re.search(r"/h/([A-Za-z0-9_-]{16,})", shown)
    assert client and host, shown
    return client.group(1), host.group(1)


@pytest.fixture
def slack_flow(
    slack_app: tuple[Core, SlackPlatform], world: SandboxWorld
) -> tuple[Core, SlackPlatform, Demo]:
    core, slack = slack_app
    demo = seed_demo(core, world)
    slack.team_id = demo.team_id
    world.slack.add_user(demo.team_id, id=ADMIN, name="owner", is_admin=True)
    return core, slack, demo


def _every_secret(core: Core, demo: Demo, world: SandboxWorld) -> dict[str, str]:
    signing_secret = core.settings.slack_signing_secret
    assert signing_secret is not None
    return {
        **_secrets(core, demo),
        "encryption key": core.settings.secret_key_list()[0],
        "slack signing secret": signing_secret.get_secret_value(),
        "slack client secret": world.slack.client_secret,
        "zoom client secret": world.zoom.client_secret,
        "microsoft client secret": world.microsoft.client_secret,
    }


def _assert_nothing_plain(core: Core, secrets: dict[str, str]) -> None:
    stored = _every_stored_text(core)
    for name, secret in secrets.items():
        assert len(secret) >= 16, f"{name} is long enough not to match by chance"
        assert secret not in stored, f"{name} is stored in plain text"
    if core.engine.url.get_backend_name() == "sqlite":
        database = Path(str(core.engine.url.database))
        raw = b"".join(path.read_bytes() for path in database.parent.glob(database.name + "*"))
        for name, secret in secrets.items():
            assert secret.encode() not in raw, f"{name} found in the database file"
    assert _ciphertexts_outside_the_registry(core) == []


def test_no_plain_secret_link_token_or_response_url_after_a_slack_and_zoom_flow(
    slack_flow: tuple[Core, SlackPlatform, Demo], world: SandboxWorld
) -> None:
    core, slack, demo = slack_flow
    _deliver(world, demo, slack.meetbot_url)
    run_jobs(core)
    client, host = _link_tokens(world, demo.channel_id)
    response_url = _slow_command(core, slack, world)

    _assert_nothing_plain(
        core,
        {
            **_every_secret(core, demo, world),
            "client link token": client,
            "host link token": host,
            "response_url": response_url,
            "response_url's path": response_url.split("://", 1)[1].split("/", 1)[1],
        },
    )
    assert httpx.get(f"{slack.meetbot_url}/m/{client}").status_code == 303, "the links work"
    assert httpx.get(f"{slack.meetbot_url}/h/{host}").status_code == 303


def test_no_plain_secret_link_token_or_response_url_after_a_slack_and_teams_flow(
    office: Office,  # noqa: F811
) -> None:
    core, world, demo = office.core, office.world, office.demo
    _connected(office)
    assert "hosts on Microsoft Teams" in office.say("provider olena teams")
    office.deliver(book(world, demo, client_name="Iryna", starts_in=timedelta(minutes=5)))
    run_jobs(core)
    assert len(world.microsoft.meetings_of(office.owner)) == 1
    client, host = _link_tokens(world, demo.channel_id)
    response_url = _slow_command(core, office.slack, world)
    microsoft = {f"microsoft token {n}": t for n, t in enumerate(world.microsoft.issued_tokens())}
    assert microsoft, "the flow signed in to Microsoft"

    _assert_nothing_plain(
        core,
        {
            **_every_secret(core, demo, world),
            **microsoft,
            "client link token": client,
            "host link token": host,
            "response_url": response_url,
        },
    )


# Rotation: every registry column, resumable, with progress; then the old key can go.


def test_rotation_stopped_midway_finishes_on_a_second_run(
    slack_flow: tuple[Core, SlackPlatform, Demo], world: SandboxWorld
) -> None:
    core, slack, demo = slack_flow
    _deliver(world, demo, slack.meetbot_url)
    run_jobs(core)
    client, host = _link_tokens(world, demo.channel_id)
    before = _secrets(core, demo)
    pending = core.states.issue(  # a sign-in under way keeps what its callback needs
        purpose="rotation-test",
        company_id=demo.company_id,
        actor=None,
        ttl_seconds=900,
        payload="pending-sign-in-payload",
    )
    old_key, new_key = core.settings.secret_key_list()[0], generate_key()
    box = SecretBox([new_key, old_key])
    seen: list[RotationProgress] = []

    def crash_after_three_batches(progress: RotationProgress) -> None:
        seen.append(progress)
        if len(seen) == 3:
            raise KeyboardInterrupt("the operator pressed Ctrl-C")

    with pytest.raises(KeyboardInterrupt):
        rotate_secrets(core.engine, box, batch_rows=1, on_progress=crash_after_three_batches)
    done_before = sum(1 for p in seen if p.values_rotated)
    reports: list[RotationProgress] = []
    rest = rotate_secrets(core.engine, box, batch_rows=1, on_progress=reports.append)

    assert done_before >= 1 and rest >= 1
    assert rotate_secrets(core.engine, box) == 0, "nothing is left on the old key"
    finished = {p.table: p for p in reports}
    assert {name for name, _ in _registry()} <= set(finished), "every table reports progress"
    assert all(p.rows_done == p.rows_total for p in finished.values())
    _assert_all_on(core, box.primary_key_id)
    rebuilt = build_core(core.settings.model_copy(update={"secret_keys": SecretStr(new_key)}))
    try:
        assert _secrets(rebuilt, demo) == before
        found = rebuilt.links.client_view(token=client)
        assert found is not None and found[0].host_token == host, "links render with the new key"
        taken = rebuilt.states.take(purpose="rotation-test", state=pending)
        assert taken is not None and taken.payload == "pending-sign-in-payload"
    finally:
        rebuilt.engine.dispose()


def _assert_all_on(core: Core, key_id: str) -> None:
    with core.engine.connect() as connection:
        for secret in secret_tables():
            for column in secret.columns:
                values = connection.scalars(select(column).where(column != "")).all()
                assert all(value.startswith(f"v1.{key_id}.") for value in values), column


def _meetbot_keys_rotate(core: Core, keys: str) -> str:
    environment = {**os.environ, **core.settings.as_environment(), "MEETBOT_SECRET_KEYS": keys}
    done = subprocess.run(
        [sys.executable, "-m", "app", "keys", "rotate"],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def restarted() -> Iterator[Callable[[Core, str], tuple[Core, str]]]:
    """meetbot started again on the same database with other keys: a new core and web app."""
    running: list[tuple[Core, BackgroundServer]] = []

    def restart(core: Core, keys: str) -> tuple[Core, str]:
        settings = core.settings.model_copy(update={"secret_keys": SecretStr(keys)})
        rebuilt = build_core(settings, clock=core.clock)
        server = BackgroundServer(build_web_app(rebuilt), name="meetbot-restarted")
        server.start()
        running.append((rebuilt, server))
        return rebuilt, server.url

    yield restart
    for rebuilt, server in running:
        server.stop()
        rebuilt.engine.dispose()


def test_teams_meetings_survive_rotation_and_dropping_the_old_key(
    office: Office,  # noqa: F811
    restarted: Callable[[Core, str], tuple[Core, str]],
) -> None:
    core, world, demo = office.core, office.world, office.demo
    _connected(office)
    assert "hosts on Microsoft Teams" in office.say("provider olena teams")
    old_key, new_key = core.settings.secret_key_list()[0], generate_key()

    printed = _meetbot_keys_rotate(core, f"{new_key},{old_key}")
    assert "ms_account: 1/1 rows, 1 value(s) re-encrypted" in printed, printed
    meetbot, url = restarted(core, new_key)  # the old key is gone

    booking = book(world, demo, client_name="Iryna", starts_in=timedelta(minutes=5))
    answer = httpx.post(
        f"{url}/webhooks/simplybook/{demo.webhook_token}",
        json=world.simplybook.callback(demo.login, booking["id"]),
    )
    assert answer.status_code == 202
    run_jobs(meetbot)

    [meeting] = world.microsoft.meetings_of(office.owner)
    client, _host = _link_tokens(world, demo.channel_id)
    joined = httpx.get(f"{url}/m/{client}")
    assert joined.status_code == 303 and joined.headers["location"] == meeting["joinWebUrl"]


def _downgrade_to(core: Core, revision: str) -> None:
    with core.engine.begin() as connection:
        config = alembic_config(core.engine)
        config.attributes["connection"] = connection
        config.attributes["secret_box"] = core.box
        command.downgrade(config, revision)


def test_links_posted_before_tokens_became_digests_still_work(
    slack_flow: tuple[Core, SlackPlatform, Demo], world: SandboxWorld
) -> None:
    core, slack, demo = slack_flow
    booking = book(world, demo, starts_in=timedelta(days=2))
    _callback(world, demo, slack.meetbot_url, booking["id"], "create")
    run_jobs(core)
    client, host = _link_tokens(world, demo.channel_id)
    _downgrade_to(core, "0009")
    with core.engine.connect() as connection:
        plain = connection.execute(text("SELECT host_token FROM meeting")).scalars().all()
        assert plain == [host], "before 0010 the token itself was stored"

    core.migrate()  # as `meetbot serve` does on start

    _assert_nothing_plain(core, {"client link token": client, "host link token": host})
    if core.engine.dialect.name == "postgresql":
        for table, content in _postgresql_table_files(core, ("meeting", "seat")).items():
            assert host.encode() not in content and client.encode() not in content, table
    assert httpx.get(f"{slack.meetbot_url}/m/{client}").status_code == 200  # "opens at ..."
    assert httpx.get(f"{slack.meetbot_url}/h/{host}").status_code == 303
    later = datetime.now(ZoneInfo("Europe/Kyiv")).replace(microsecond=0) + timedelta(days=3)
    world.simplybook.update_booking(
        demo.login,
        booking["id"],
        start=f"{later:%Y-%m-%d %H:%M:%S}",
        end=f"{later + timedelta(hours=1):%Y-%m-%d %H:%M:%S}",
    )
    _callback(world, demo, slack.meetbot_url, booking["id"], "change")
    run_jobs(core)
    edited = world.slack.messages(demo.channel_id)[0]
    assert edited["edits"], "the message was edited"
    assert _link_tokens_in(edited) == (client, host), "an edit writes the same links"


def _postgresql_table_files(core: Core, tables: tuple[str, ...]) -> dict[str, bytes]:
    """What PostgreSQL keeps on disk for each table (after a checkpoint), old row versions and
    dropped columns included."""
    with core.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("CHECKPOINT"))
        folder = Path(connection.execute(text("SHOW data_directory")).scalar_one())
        paths = {
            table: connection.execute(
                text("SELECT pg_relation_filepath(:table)"), {"table": table}
            ).scalar_one()
            for table in tables
        }
    return {table: (folder / path).read_bytes() for table, path in paths.items()}


def _callback(world: SandboxWorld, demo: Demo, web: str, booking_id: str, kind: str) -> None:
    answer = httpx.post(
        f"{web}/webhooks/simplybook/{demo.webhook_token}",
        json=world.simplybook.callback(demo.login, booking_id, kind),
    )
    assert answer.status_code == 202


def test_no_plain_secret_or_link_token_after_a_teams_chat_flow(
    make_core: Callable[..., Core], world: SandboxWorld, teams: Tenant
) -> None:
    """Teams as the chat: set up in a Teams channel, a booking's card with both links posted
    there, a slow command answered in the person's chat."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    core = make_core(public_url=url, **teams.settings())
    demo = seed_demo(core, world)
    chat_in_teams(core, demo)
    with BackgroundServer(build_web_app(core), port=port, name="meetbot"):
        meetbot = Meetbot(core, url)
        bookings_channel_in_teams(teams, meetbot)
        booking = book(world, demo, client_name="Iryna", starts_in=timedelta(minutes=5))
        _callback(world, demo, url, booking["id"], "create")
        [card] = new_posts(teams, teams.bookings, lambda: run_jobs(core))
        world.simplybook.faults.latency = 1.5  # a slow command becomes a job
        ask(teams, meetbot, teams.olena, "services")
        world.simplybook.faults.latency = 0
        run_jobs(core)

    shown = text_of(card)
    client = re.search(r"/m/([A-Za-z0-9_-]{16,})", shown)
    host = re.search(r"/h/([A-Za-z0-9_-]{16,})", shown)
    assert client and host, shown
    password = core.settings.teams_app_password
    _assert_nothing_plain(
        core,
        {
            **_secrets(core, demo),
            "encryption key": core.settings.secret_key_list()[0],
            "zoom client secret": world.zoom.client_secret,
            "client link token": client.group(1),
            "host link token": host.group(1),
            **({"teams app password": password.get_secret_value()} if password else {}),
        },
    )


def test_an_expired_response_url_is_not_kept_and_the_answer_goes_by_dm(
    slack_flow: tuple[Core, SlackPlatform, Demo], world: SandboxWorld, clock: SteppingClock
) -> None:
    core, slack, _demo = slack_flow
    world.simplybook.faults.latency = 1.5  # a job answers, later
    body = slack.command_body("services", user=ADMIN)
    assert "Working on it" in slack.post(body, slack.signed(body)).text
    world.simplybook.faults.latency = 0
    clock.offset += timedelta(minutes=31)  # past the half hour Slack takes answers for

    run_jobs(core)

    assert world.slack.response_posts() == []
    assert wait_for(lambda: world.slack.dm_messages(ADMIN)), "answered in the person's DM"
    job_secrets(core).seal("next", company_id=None, ttl=timedelta(minutes=1))
    assert count_rows(core, JobSecretRow) == 1, "the expired response_url is deleted"
