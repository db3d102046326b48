"""A leaked webhook token cannot flood a company: callbacks for bookings SimplyBook.me does not
know raise one alert for the company, not one each, and end as finished jobs rather than dead
ones; past the per-token rate the webhook answers 429 with Retry-After and stores nothing."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

import httpx

from app.bootstrap import Core
from app.sandbox import Demo, SandboxWorld, book, message_as_text, seed_demo
from app.web import build_web_app
from bot.domain import Actor, AlertKind, ChatPlatform
from simulators.server import BackgroundServer
from storage.tables import ReceivedEventRow

from .conftest import count_rows, run_jobs

FORGED = 100
ADMIN = "UADMIN01"


def _forged(demo: Demo) -> dict[str, str]:
    return {
        "booking_id": f"forged-{secrets.token_hex(6)}",
        "booking_hash": secrets.token_hex(16),
        "company": demo.login,
        "notification_type": "create",
    }


def test_unknown_bookings_raise_one_alert_for_the_company(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    world.slack.add_user(demo.team_id, id=ADMIN, name="owner", is_admin=True)
    admin = Actor(ChatPlatform.SLACK, demo.team_id, ADMIN)
    core.staff.set_role(company_id=demo.company_id, actor=admin, user_id=ADMIN, role="admin")
    url = f"{web}/webhooks/simplybook/{demo.webhook_token}"
    with httpx.Client(timeout=30) as client:
        for _ in range(FORGED):
            assert client.post(url, json=_forged(demo)).status_code == 202
    run_jobs(core, timeout=120)

    jobs = core.queue.jobs(kind="sync_booking")
    assert len(jobs) == FORGED and {job.state for job in jobs} == {"done"}, "no dead jobs"
    [alert] = core.alerts.open_alerts(company_id=demo.company_id)
    assert alert.spec.kind is AlertKind.UNKNOWN_BOOKINGS
    told = [
        message_as_text(m)
        for m in world.slack.dm_messages(ADMIN)
        if "bookings SimplyBook.me does not know" in message_as_text(m)
    ]
    assert len(told) == 1, told

    real = book(world, demo, client_name="Iryna", starts_in=timedelta(days=2))
    with httpx.Client(timeout=30) as client:
        answer = client.post(url, json=world.simplybook.callback(demo.login, real["id"]))
    assert answer.status_code == 202
    run_jobs(core)
    assert len(world.slack.messages(demo.channel_id)) == 1, "real bookings still go through"


def test_callbacks_past_the_rate_get_429_and_are_not_stored(
    make_core: Callable[..., Core], world: SandboxWorld
) -> None:
    # An hour, not a minute: a sliding window forgets the last window as the next one goes by, so
    # a slow run crossing a minute could let the sixth through.
    core = make_core(simplybook_callback_rate="5/hour")
    demo = seed_demo(core, world)
    booking = book(world, demo, client_name="Iryna", starts_in=timedelta(days=2))
    body = world.simplybook.callback(demo.login, booking["id"])
    with BackgroundServer(build_web_app(core), name="meetbot") as server:
        url = f"{server.url}/webhooks/simplybook/{demo.webhook_token}"
        answers = [httpx.post(url, json=body, timeout=30) for _ in range(6)]
    assert [a.status_code for a in answers] == [202] * 5 + [429]
    refused = answers[-1]
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert "too many callbacks" in refused.json()["reason"]
    assert count_rows(core, ReceivedEventRow) == 5
