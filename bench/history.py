"""Bookings already in the history, written in bulk: what a year or two of service leaves behind.

Each past booking leaves what a real one does: its booking row, a received callback, a finished
sync job, a meeting with its host link, the client's seat and the provider's posted message, spread
over the fleet's companies by the same skew as the load. Set-up of companies goes through the
product's repositories (bench/fleet.py); history is only rows, so it is written with executemany
(SQLite) or COPY (PostgreSQL) instead of millions of use-case calls.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Table

from bench.fleet import Fleet, Provider, Tenant
from bot.domain.kinds import (
    BookingStatus,
    MeetingPlatform,
    MeetingState,
    NotificationState,
    NotificationType,
    PaymentState,
)
from storage.tables.records import (
    BookingRow,
    JobRow,
    MeetingRow,
    NotificationRow,
    ReceivedEventRow,
    SeatRow,
)

CHUNK = 20_000
TABLES: tuple[Table, ...] = tuple(
    row.__table__  # type: ignore[attr-defined]
    for row in (BookingRow, ReceivedEventRow, JobRow, MeetingRow, SeatRow, NotificationRow)
)


def seed_history(engine: Engine, fleet: Fleet, bookings: int, *, seed: int = 7) -> None:
    """`bookings` past bookings, each with everything it left behind, in chunks."""
    chooser = random.Random(seed)
    now = datetime.now(UTC)
    written = 0
    while written < bookings:
        size = min(CHUNK, bookings - written)
        picks = fleet.spread(size, seed=chooser.randrange(2**32))
        rows = [
            _past_booking(written + n, tenant, provider, chooser, now)
            for n, (tenant, provider) in enumerate(picks)
        ]
        _write(engine, {table.name: [row[table.name] for row in rows] for table in TABLES})
        written += size
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
            connection.commit()


def _write(engine: Engine, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Straight to the driver: SQLAlchemy's per-value processing would cost more than the rows."""
    postgres = engine.dialect.name == "postgresql"
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if not postgres:
            cursor.execute("BEGIN")  # the engine's SQLite connections leave transactions to us
        for table in TABLES:
            columns = list(rows[table.name][0])
            values = _wire(rows[table.name], postgres)
            names = ", ".join(f'"{name}"' for name in columns)
            if postgres:
                with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                    copy.write("".join("\t".join(map(str, row)) + "\n" for row in values))
            else:
                marks = ", ".join("?" * len(columns))
                insert = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"  # noqa: S608  (our tables)
                cursor.executemany(insert, values)
        if postgres:
            raw.commit()
        else:
            cursor.execute("COMMIT")
    finally:
        raw.close()


def _wire(rows: list[dict[str, Any]], postgres: bool) -> list[list[Any]]:
    """Values as the driver stores them: UTCDateTime as naive UTC text on SQLite; COPY text on
    PostgreSQL, NULL as \\N. Every row of a table has its datetimes and Nones in the same columns,
    and no value holds a tab, a newline or a backslash."""
    first = list(rows[0].values())
    times = [index for index, value in enumerate(first) if isinstance(value, datetime)]
    nones = [index for index, value in enumerate(first) if value is None] if postgres else []
    wired = []
    for row in rows:
        values = list(row.values())
        for index in times:
            moment = values[index]
            values[index] = (
                moment.isoformat(sep=" ") if postgres else f"{moment:%Y-%m-%d %H:%M:%S.%f}"
            )
        for index in nones:
            values[index] = "\\N"
        wired.append(values)
    return wired


def _past_booking(
    number: int, tenant: Tenant, provider: Provider, chooser: random.Random, now: datetime
) -> dict[str, dict[str, Any]]:
    company = tenant.demo.company_id
    start = (now - timedelta(minutes=chooser.randrange(60, 2 * 365 * 24 * 60))).replace(
        second=0, microsecond=0
    )
    end = start + timedelta(hours=1)
    booking_id, meeting_id, external = f"hb{number:012d}", f"hm{number:012d}", f"h{number}"
    booking = {
        "id": booking_id,
        "company_id": company,
        "external_id": external,
        "booking_hash": f"{number:032x}",
        "code": f"H{number:08d}",
        "service_external_id": tenant.demo.service_id,
        "service_name": "Online yoga consultation",
        "provider_external_id": provider.external_id,
        "provider_name": "Provider",
        "client_name": f"Past client {number}",
        "client_email": f"client{number}@example.test",
        "client_phone": "",
        "start_at": start,
        "end_at": end,
        "status": BookingStatus.CONFIRMED.value,
        "payment": PaymentState.NOT_REQUIRED.value,
        "problem": None,
        "updated_at": start - timedelta(days=1),
    }
    callback = {
        "company_id": company,
        "source": "simplybook",
        "booking_external_id": external,
        "notification_type": NotificationType.CREATE.value,
        "body": json.dumps({"booking_id": external, "notification_type": "create"}),
        "received_at": start - timedelta(days=1),
    }
    job = {
        "kind": "sync_booking",
        "company_id": company,
        "dedupe_key": f"sync_booking:{company}:{external}",
        "serial_key": None,
        "payload": json.dumps({"booking_id": external}),
        "state": "done",
        "run_at": start - timedelta(days=1),
        "attempts": 1,
        "locked_by": None,
        "lease_until": None,
        "last_error": None,
        "note": None,
        "created_at": start - timedelta(days=1),
        "finished_at": start - timedelta(days=1),
    }
    meeting = {
        "id": meeting_id,
        "company_id": company,
        "booking_id": booking_id,
        "platform": MeetingPlatform.ZOOM.value,
        "account_id": f"acct-{tenant.demo.login}",
        "host_user": tenant.demo.zoom_user_id,
        "marker": f"meetbot:{meeting_id}",
        "state": MeetingState.SCHEDULED.value,
        "start_at": start,
        "end_at": end,
        "external_id": str(80_000_000_000 + number),
        "join_url": f"https://zoom.example.test/j/{number}",
        "host_token_hash": f"h{number:063x}",
        "host_token_enc": "",
        "opened_at": None,
        "class_key": None,
        "created_at": start - timedelta(days=1),
    }
    return {
        "booking": booking,
        "received_event": callback,
        "job": job,
        "meeting": meeting,
        "seat": _seat(number, company, meeting_id, booking_id),
        "notification": _notification(number, company, meeting_id, tenant.demo.team_id, provider),
    }


def _seat(number: int, company: str, meeting_id: str, booking_id: str) -> dict[str, Any]:
    return {
        "id": f"hs{number:012d}",
        "company_id": company,
        "meeting_id": meeting_id,
        "booking_id": booking_id,
        "client_token_hash": f"c{number:063x}",
        "client_token_enc": "",
        "registrant_id": None,
        "join_url": None,
        "cancelled_at": None,
    }


def _notification(
    number: int, company: str, meeting_id: str, team_id: str, provider: Provider
) -> dict[str, Any]:
    return {
        "id": f"hn{number:012d}",
        "company_id": company,
        "meeting_id": meeting_id,
        "chat_platform": "slack",
        "workspace_id": team_id,
        "channel_id": provider.channel_id,
        "marker": f"meetbot-post:{number}",
        "state": NotificationState.POSTED.value,
        "message_id": f"{1_600_000_000 + number}.000100",
        "digest": None,
        "created_at": datetime.now(UTC),
    }
