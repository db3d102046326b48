"""Every bad booking webhook gets a 4xx with a short JSON reason; nothing is stored; never a 5xx."""

from __future__ import annotations

import json

import httpx
import pytest

from app.bootstrap import Core
from app.sandbox import Demo, SandboxWorld, book
from storage.tables import JobRow, ReceivedEventRow

from .conftest import count_rows

GOOD_HASH = "0123456789abcdef0123456789abcdef"


def _good(demo: Demo) -> dict[str, str]:
    return {
        "booking_id": "1001",
        "booking_hash": GOOD_HASH,
        "company": demo.login,
        "notification_type": "create",
    }


BAD_BODIES = [
    ("not json", b"{booking_id: 1", 400, "not valid JSON"),
    ("not an object", b'["create"]', 400, "JSON object"),
    ("empty", b"", 400, "not valid JSON"),
    ("not utf-8", b"\xff\xfe{}", 400, "not valid UTF-8"),
    (
        "missing fields",
        b'{"booking_id": "1"}',
        422,
        "missing field(s): booking_hash, company, notification_type",
    ),
    (
        "short hash",
        json.dumps(
            {
                "booking_id": "1",
                "booking_hash": "abc",
                "company": "x",
                "notification_type": "create",
            }
        ).encode(),
        422,
        "booking_hash",
    ),
    (
        "unknown type",
        json.dumps(
            {
                "booking_id": "1",
                "booking_hash": GOOD_HASH,
                "company": "x",
                "notification_type": "explode",
            }
        ).encode(),
        422,
        "notification_type",
    ),
    (
        "booking id object",
        json.dumps(
            {
                "booking_id": {"a": 1},
                "booking_hash": GOOD_HASH,
                "company": "x",
                "notification_type": "create",
            }
        ).encode(),
        422,
        "booking_id",
    ),
    (
        "booking id with slash",
        json.dumps(
            {
                "booking_id": "1/../2",
                "booking_hash": GOOD_HASH,
                "company": "x",
                "notification_type": "create",
            }
        ).encode(),
        422,
        "booking_id",
    ),
]


def _assert_nothing_stored(core: Core) -> None:
    assert count_rows(core, ReceivedEventRow) == 0
    assert count_rows(core, JobRow) == 0


@pytest.mark.parametrize(
    ("case", "body", "status", "reason"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES]
)
def test_malformed_bodies_are_refused(
    core: Core, demo: Demo, web: str, case: str, body: bytes, status: int, reason: str
) -> None:
    answer = httpx.post(
        f"{web}/webhooks/simplybook/{demo.webhook_token}",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == status, case
    assert reason in answer.json()["reason"]
    assert answer.json()["ok"] is False
    _assert_nothing_stored(core)


def test_unknown_token_is_404(core: Core, demo: Demo, web: str) -> None:
    answer = httpx.post(f"{web}/webhooks/simplybook/not-the-token", json=_good(demo))
    assert answer.status_code == 404
    assert answer.json() == {"ok": False, "reason": "unknown webhook address"}
    _assert_nothing_stored(core)


def test_wrong_company_is_403(core: Core, demo: Demo, web: str) -> None:
    body = {**_good(demo), "company": "someone-else"}
    answer = httpx.post(f"{web}/webhooks/simplybook/{demo.webhook_token}", json=body)
    assert answer.status_code == 403
    assert answer.json()["reason"] == "company does not match this webhook address"
    _assert_nothing_stored(core)


def test_oversized_body_is_413(core: Core, demo: Demo, web: str) -> None:
    body = {**_good(demo), "padding": "x" * (64 * 1024)}
    answer = httpx.post(f"{web}/webhooks/simplybook/{demo.webhook_token}", json=body)
    assert answer.status_code == 413
    assert "64 KiB" in answer.json()["reason"]
    _assert_nothing_stored(core)


def test_oversized_body_without_length_is_413(core: Core, demo: Demo, web: str) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"booking_id": "1", "padding": "'
        for _ in range(70):
            yield b"x" * 1024
        yield b'"}'

    answer = httpx.post(f"{web}/webhooks/simplybook/{demo.webhook_token}", content=chunks())
    assert answer.status_code == 413
    _assert_nothing_stored(core)


def test_wrong_method_is_405(core: Core, demo: Demo, web: str) -> None:
    answer = httpx.get(f"{web}/webhooks/simplybook/{demo.webhook_token}")
    assert answer.status_code == 405
    _assert_nothing_stored(core)


def test_good_callback_is_stored_with_its_job_before_the_answer(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    booking = book(world, demo)
    callback = world.simplybook.callback(demo.login, booking["id"], "create")
    answer = httpx.post(f"{web}/webhooks/simplybook/{demo.webhook_token}", json=callback)
    assert answer.status_code == 202
    assert answer.json() == {"ok": True, "reason": "queued"}
    assert count_rows(core, ReceivedEventRow) == 1
    [job] = core.queue.jobs(kind="sync_booking")
    assert job.state == "pending" and job.kind == "sync_booking"
    assert json.loads(job.payload) == {"booking_id": booking["id"], "booking_hash": booking["hash"]}


def test_numeric_booking_id_and_uppercase_hash_are_accepted(
    core: Core, demo: Demo, web: str
) -> None:
    body = {
        "booking_id": 1001,
        "booking_hash": GOOD_HASH.upper(),
        "company": demo.login.upper(),
        "notification_type": "CHANGE",
    }
    answer = httpx.post(f"{web}/webhooks/simplybook/{demo.webhook_token}", json=body)
    assert answer.status_code == 202
    [job] = core.queue.jobs(kind="sync_booking")
    assert json.loads(job.payload)["booking_id"] == "1001"
