"""Secrets are encrypted at rest, bound to their row, rotatable, and never logged (rule 4)."""

from __future__ import annotations

import json
import logging
import urllib.request
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from bot.main import Core, build_core
from bot.sandbox import Demo, SandboxWorld, book
from storage.crypto import DecryptionError, SecretBox, generate_key
from storage.rotation import rotate_secrets
from storage.tables import CompanyRow

from .conftest import run_jobs


def _secrets(core: Core, demo: Demo) -> dict[str, str]:
    credentials = core.store.simplybook_credentials(company_id=demo.company_id)
    account_id = core.store.zoom_account_id(company_id=demo.company_id)
    assert account_id is not None
    tokens = core.zoom_accounts.tokens(account_id=account_id)
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
    other, _ = core.setup.create_company(
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
        core.store.simplybook_credentials(company_id=other.id)
    with pytest.raises(DecryptionError):
        core.store.simplybook_credentials(company_id=demo.company_id)


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
