"""Platform failures: retried with backoff, or buried as dead and recorded; nothing lost."""

from __future__ import annotations

import httpx

from app.bootstrap import Core
from app.sandbox import Demo, SandboxWorld, book
from bot.domain import AlertKind
from storage.tables import BookingRow, MeetingRow, ReceivedEventRow

from .conftest import count_rows, run_jobs

CREATE = r"^/v2/users/[^/]+/meetings$"


def _book_and_deliver(world: SandboxWorld, demo: Demo, web: str) -> dict[str, str]:
    booking = book(world, demo)
    answer = httpx.post(
        f"{web}/webhooks/simplybook/{demo.webhook_token}",
        json=world.simplybook.callback(demo.login, booking["id"]),
    )
    assert answer.status_code == 202
    return booking


def test_zoom_500_three_times_then_success(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    world.zoom.faults.fail(
        method="POST",
        path=CREATE,
        status=500,
        times=3,
        body={"code": 500, "message": "Internal error"},
    )
    _book_and_deliver(world, demo, web)

    run_jobs(core)

    [job] = core.queue.jobs(kind="sync_booking")
    assert job.state == "done" and job.attempts == 4
    assert job.last_error == "Zoom answered HTTP 500"
    assert world.zoom.count("POST", CREATE) == 4
    assert world.zoom.created_count() == 1
    assert len(world.slack.messages(demo.channel_id)) == 1


def test_zoom_500_forever_ends_dead_and_recorded(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    world.zoom.faults.fail(method="POST", path=CREATE, status=500, times=None)
    booking = _book_and_deliver(world, demo, web)

    run_jobs(core)

    [job] = core.queue.jobs(kind="sync_booking")
    assert job.state == "dead"
    assert job.attempts == core.settings.job_max_attempts
    assert job.last_error == "gave up after 5 attempts: Zoom answered HTTP 500"
    assert job.finished_at is not None
    # Nothing else lost: the callback, the booking and the meeting intent are all still there.
    assert count_rows(core, ReceivedEventRow) == 1
    assert (
        core.booking_records.booking(company_id=demo.company_id, external_id=booking["id"])
        is not None
    )
    assert count_rows(core, MeetingRow) == 1
    assert world.slack.messages(demo.channel_id) == []

    # Once Zoom is back, re-queueing the dead job completes the booking, still with one meeting.
    world.zoom.faults.clear()
    assert core.queue.requeue(job_id=job.id)
    run_jobs(core)
    assert world.zoom.created_count() == 1
    assert len(world.slack.messages(demo.channel_id)) == 1


def test_expired_access_token_is_refreshed_once(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    world.zoom.expire_access_tokens()
    _book_and_deliver(world, demo, web)

    run_jobs(core)

    assert world.zoom.refresh_count == 1
    [job] = core.queue.jobs(kind="sync_booking")
    assert job.state == "done" and job.attempts == 1
    assert world.zoom.created_count() == 1
    assert len(world.slack.messages(demo.channel_id)) == 1
    assert (
        core.zoom_tokens.tokens(
            account_id=core.zoom_accounts.zoom_account_id(company_id=demo.company_id) or ""
        ).version
        == 2
    )


def test_revoked_zoom_account_holds_the_booking_not_a_retry_loop(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    world.zoom.revoke_account(f"acct-{demo.login}")
    booking = _book_and_deliver(world, demo, web)

    run_jobs(core)

    [job] = core.queue.jobs(kind="sync_booking")
    assert job.state == "done" and job.attempts == 1
    assert "an admin must reconnect Zoom" in (job.note or "")
    found = core.booking_records.booking(company_id=demo.company_id, external_id=booking["id"])
    assert found is not None and "an admin must reconnect Zoom" in (found[1] or "")
    assert world.zoom.refresh_count == 0  # the refresh was refused, not counted as a refresh


def test_simplybook_outage_is_retried(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    world.simplybook.faults.fail(method="POST", path="^/$", status=502, times=2)
    _book_and_deliver(world, demo, web)
    run_jobs(core)
    [job] = core.queue.jobs(kind="sync_booking")
    assert job.state == "done" and job.attempts == 3
    assert len(world.slack.messages(demo.channel_id)) == 1


def test_expired_simplybook_token_is_renewed(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    _book_and_deliver(world, demo, web)
    run_jobs(core)
    world.simplybook.expire_tokens()
    second = book(world, demo, client_name="Second Client")
    httpx.post(
        f"{web}/webhooks/simplybook/{demo.webhook_token}",
        json=world.simplybook.callback(demo.login, second["id"]),
    )
    run_jobs(core)
    assert len(world.slack.messages(demo.channel_id)) == 2


def test_unmapped_provider_is_noted_on_the_booking(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    core.catalog.map_provider(
        company_id=demo.company_id, external_id=demo.provider_id, platform=None
    )
    booking = _book_and_deliver(world, demo, web)
    run_jobs(core)
    [job] = core.queue.jobs(kind="sync_booking")
    assert job.state == "done"
    assert job.note == "provider 'Olena Koval' has no meeting platform chosen"
    found = core.booking_records.booking(company_id=demo.company_id, external_id=booking["id"])
    assert found is not None and found[1] == "provider 'Olena Koval' has no meeting platform chosen"
    assert world.zoom.created_count() == 0
    assert count_rows(core, BookingRow) == 1


def test_service_without_online_meetings_creates_nothing(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    core.catalog.set_service_online(
        company_id=demo.company_id, external_id=demo.service_id, enabled=False
    )
    _book_and_deliver(world, demo, web)
    run_jobs(core)
    [job] = core.queue.jobs(kind="sync_booking")
    assert job.note == "service 'Online yoga consultation' does not have online meetings enabled"
    assert world.zoom.created_count() == 0 and world.slack.messages(demo.channel_id) == []


def test_simplybook_token_renewal_logs_in_once_more(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    _book_and_deliver(world, demo, web)
    run_jobs(core)
    logins = world.simplybook.calls("getToken")
    world.simplybook.expire_tokens()
    second = book(world, demo, client_name="Second Client")
    httpx.post(
        f"{web}/webhooks/simplybook/{demo.webhook_token}",
        json=world.simplybook.callback(demo.login, second["id"]),
    )
    run_jobs(core)
    assert world.simplybook.calls("getToken") == logins + 1
    [_, job] = core.queue.jobs(kind="sync_booking")
    assert job.state == "done" and job.attempts == 1, "renewed inside the attempt, not by a retry"


def test_wrong_booking_sign_is_a_callback_nothing_comes_of(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    """SimplyBook.me does not confirm the booking: nothing to retry, and one alert for the
    company however many such callbacks arrive (tests/test_callback_flood.py)."""
    booking = book(world, demo)
    body = {**world.simplybook.callback(demo.login, booking["id"]), "booking_hash": "0" * 32}
    assert (
        httpx.post(f"{web}/webhooks/simplybook/{demo.webhook_token}", json=body).status_code == 202
    )
    run_jobs(core)
    [job] = core.queue.jobs(kind="sync_booking")
    assert job.state == "done" and job.attempts == 1
    assert (job.note or "").startswith(f"SimplyBook.me does not know booking {booking['id']}")
    [alert] = core.alerts.open_alerts(company_id=demo.company_id)
    assert alert.spec.kind is AlertKind.UNKNOWN_BOOKINGS
