"""The booking event's JSON Schema is the contract: it validates the README's examples, the
sandbox's events and `meetbot webhook example`'s request, and that request works as printed
(issue 17, must show 5)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from adapters.booking_webhooks.events import SCHEMA_PATH, schema_problems
from app.bootstrap import Core
from app.sandbox import Demo, SandboxWorld
from app.sandbox_webhook import generic_source_event
from storage.tables import BookingEventRow

from .conftest import count_rows
from .harness import SQLITE_ONLY

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = "### A booking webhook for any booking system"


def _readme_examples() -> list[dict[str, object]]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index(SECTION) :].split("\n### ", 1)[0]
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", section, re.S)]


def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_the_schema_validates_the_readme_examples() -> None:
    examples = _readme_examples()
    assert {example["type"] for example in examples} == {
        "booking.created",
        "booking.updated",
        "booking.cancelled",
    }
    for example in examples:
        assert list(_validator().iter_errors(example)) == []
        assert schema_problems(example) == []


def test_the_schema_refuses_an_example_without_its_required_fields() -> None:
    example = _readme_examples()[0]
    data = example["data"]
    assert isinstance(data, dict)
    del data["booking_id"]
    assert not _validator().is_valid(example)
    assert schema_problems(example) == ["missing field(s): data.booking_id"]


@SQLITE_ONLY
def test_the_schema_validates_the_sandboxs_event(core: Core, demo: Demo) -> None:
    event = generic_source_event(core, service_id=demo.service_id, provider_id=demo.provider_id)
    assert list(_validator().iter_errors(event)) == []


@SQLITE_ONLY
@pytest.mark.skipif(not Path("/usr/bin/curl").exists(), reason="needs curl")
def test_webhook_example_prints_a_request_that_is_accepted_as_printed(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    core.booking_webhooks.connect(company_id=demo.company_id)
    base = {k: v for k, v in os.environ.items() if not k.startswith("MEETBOT_")}
    env = {
        **base,
        "MEETBOT_DATABASE_URL": core.settings.database_url,
        "MEETBOT_SECRET_KEYS": world.secret_key,
        "MEETBOT_PUBLIC_URL": web,
    }
    printed = subprocess.run(
        [sys.executable, "-m", "app", "webhook", "example", "--booking-id", "cli-1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=90,
        check=False,
    )
    assert printed.returncode == 0, printed.stderr
    command = printed.stdout
    body = shlex.split(command.replace("\\\n", " "))[-1]
    assert list(_validator().iter_errors(json.loads(body))) == []

    sent = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, timeout=30, check=False
    )

    assert json.loads(sent.stdout) == {"ok": True, "reason": "queued"}
    assert count_rows(core, BookingEventRow) == 1
