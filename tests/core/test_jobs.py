"""Job declarations: each job's payload goes into the queue and comes back the same value, and
its dedupe key says what must not run twice."""

from __future__ import annotations

import dataclasses

import pytest

from bot import jobs
from bot.domain import Job
from bot.errors import PermanentFailure
from bot.jobs import ChatCommand, CompanyRoutine, MeetingReminder, NotifyAdmins, SyncBooking

EXAMPLES: list[jobs.JobType] = [
    SyncBooking(booking_id="42", booking_hash="abc"),
    MeetingReminder(meeting_id="m1", start="2026-11-24T12:00:00+00:00"),
    ChatCommand(
        platform="slack",
        workspace_id="T1",
        user_id="U1",
        is_admin=True,
        channel_id="C1",
        text="status",
    ),
    NotifyAdmins(key="alert:a1:opened"),
    CompanyRoutine(),
]


def _claimed(job: jobs.JobType) -> Job:
    return Job(
        id=1, kind=job.kind, company_id="c1", payload=jobs.encode(job), attempts=1, worker_id="w"
    )


@pytest.mark.parametrize("job", EXAMPLES, ids=lambda job: job.kind)
def test_a_job_comes_back_from_the_queue_as_it_went_in(job: jobs.JobType) -> None:
    assert jobs.decode(_claimed(job)) == job


def test_every_declared_kind_is_distinct() -> None:
    assert len({job_type.kind for job_type in jobs.JOB_TYPES}) == len(jobs.JOB_TYPES)


def test_callbacks_for_one_booking_share_a_key_and_other_bookings_do_not() -> None:
    first = SyncBooking(booking_id="42", booking_hash="abc").dedupe_key("c1")
    again = SyncBooking(booking_id="42", booking_hash="changed").dedupe_key("c1")
    other = SyncBooking(booking_id="43", booking_hash="abc").dedupe_key("c1")
    elsewhere = SyncBooking(booking_id="42", booking_hash="abc").dedupe_key("c2")
    assert first == again and len({first, other, elsewhere}) == 3


def test_a_moved_meeting_gets_a_reminder_of_its_own() -> None:
    before = MeetingReminder(meeting_id="m1", start="2026-11-24T12:00:00+00:00")
    after = MeetingReminder(meeting_id="m1", start="2026-11-24T13:00:00+00:00")
    assert before.dedupe_key("c1") != after.dedupe_key("c1")


def test_two_identical_chat_commands_are_two_jobs() -> None:
    [command] = [job for job in EXAMPLES if isinstance(job, ChatCommand)]
    twin = ChatCommand(**{**jobs.encode(command), "is_admin": True, "request_id": "other"})
    assert command.dedupe_key(None) != twin.dedupe_key(None)


@pytest.mark.parametrize("is_admin", [True, False])
def test_the_admin_flag_is_kept_as_one_or_zero_and_read_back(is_admin: bool) -> None:
    [example] = [job for job in EXAMPLES if isinstance(job, ChatCommand)]
    command = dataclasses.replace(example, is_admin=is_admin)
    assert jobs.encode(command)["is_admin"] == ("1" if is_admin else "0")
    decoded = jobs.decode(_claimed(command))
    # "0" is a non-empty string: read as text it would make anyone an admin.
    assert isinstance(decoded, ChatCommand) and decoded.is_admin is is_admin


def test_a_chat_command_queued_before_request_ids_still_runs() -> None:
    [command] = [job for job in EXAMPLES if isinstance(job, ChatCommand)]
    payload = {k: v for k, v in jobs.encode(command).items() if k != "request_id"}
    claimed = Job(1, ChatCommand.kind, None, payload, 1, "w")
    decoded = jobs.decode(claimed)
    assert isinstance(decoded, ChatCommand) and decoded.text == "status"


@pytest.mark.parametrize(
    "kind, payload",
    [("mystery", {}), (SyncBooking.kind, {"booking_id": "42"})],
    ids=["unknown kind", "missing field"],
)
def test_a_job_no_declaration_fits_is_dead_not_retried(kind: str, payload: dict[str, str]) -> None:
    with pytest.raises(PermanentFailure):
        jobs.decode(Job(1, kind, "c1", payload, 1, "w"))
