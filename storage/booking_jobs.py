"""The jobs a booking's records queue in the same transaction as the record itself: a booking to
sync again, a meeting's reminder. Their kinds, payloads and dedupe keys are written here once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from bot.domain import Meeting
from storage.jobs import enqueue_unique

SYNC_BOOKING_JOB = "sync_booking"
MEETING_REMINDER_JOB = "meeting_reminder"


def queue_booking_sync(
    connection: Connection, *, company_id: str, booking_id: str, booking_hash: str, run_at: datetime
) -> None:
    """One pending sync per booking: a second callback before it runs joins the first."""
    enqueue_unique(
        connection,
        kind=SYNC_BOOKING_JOB,
        dedupe_key=f"{SYNC_BOOKING_JOB}:{company_id}:{booking_id}",
        payload={"booking_id": booking_id, "booking_hash": booking_hash},
        company_id=company_id,
        run_at=run_at,
    )


def queue_reminder(connection: Connection, *, meeting: Meeting, at: datetime) -> None:
    """One reminder per meeting time: a moved meeting's old reminder finds the time changed."""
    enqueue_unique(
        connection,
        kind=MEETING_REMINDER_JOB,
        dedupe_key=f"{MEETING_REMINDER_JOB}:{meeting.id}:{meeting.start.isoformat()}",
        payload={"meeting_id": meeting.id, "start": meeting.start.isoformat()},
        company_id=meeting.company_id,
        run_at=at,
    )
