"""A booking whose provider channel cannot be used still reaches a person: the admins, by direct
message, exactly once; the booking notes the problem so `/meetings status` shows it."""

from __future__ import annotations

import pytest

from app.bootstrap import Core
from app.sandbox import Demo, SandboxWorld, book, message_as_text

from .conftest import run_jobs
from .harness import ADMIN, deliver, make_admin


@pytest.fixture
def with_admin(core: Core, demo: Demo, world: SandboxWorld) -> Demo:
    make_admin(core, world, demo)
    return demo


@pytest.mark.parametrize("break_channel", ["archive_channel", "remove_bot"])
def test_unusable_channel_goes_to_the_admins(
    core: Core, with_admin: Demo, world: SandboxWorld, web: str, break_channel: str
) -> None:
    demo = with_admin
    getattr(world.slack, break_channel)(demo.channel_id)
    booking = book(world, demo, client_name="Iryna")
    deliver(web, world, demo, booking["id"])
    deliver(web, world, demo, booking["id"])  # redelivered between runs: still one DM
    run_jobs(core)
    deliver(web, world, demo, booking["id"])
    run_jobs(core)

    booking_dm, alert_dm = world.slack.dm_messages(ADMIN)
    text = message_as_text(booking_dm)
    assert "For Olena Koval: Online meeting: Online yoga consultation" in text
    assert "could not be posted for Olena Koval" in text and "Iryna" in text
    assert "/m/" in text and "/h/" in text
    alert = message_as_text(alert_dm)
    assert "Needs attention: Olena Koval's channel cannot be used" in alert
    assert booking["code"] in alert and "/meetings provider Olena Koval channel #channel" in alert
    assert world.slack.messages(demo.channel_id) == []
    assert world.zoom.created_count() == 1
    assert {job.state for job in core.queue.jobs(kind="sync_booking")} == {"done"}
    found = core.booking_records.booking(company_id=demo.company_id, external_id=booking["id"])
    assert found is not None and "the booking went to the admins instead" in (found[1] or "")


def test_without_any_admin_the_failure_is_recorded_in_plain_words(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    world.slack.archive_channel(demo.channel_id)
    booking = book(world, demo)
    deliver(web, world, demo, booking["id"])
    run_jobs(core)
    [job] = core.queue.jobs(kind="sync_booking")
    assert job.state == "dead"
    assert (
        "Slack: the channel is archived (the channel chosen for Olena Koval), and no admin is "
        in (job.last_error or "")
    )
