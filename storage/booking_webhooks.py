"""Generic booking sources: a company's source with its signing secrets (encrypted, newest
first), every event it sent, and each booking's state as its highest-sequence event left it.

An accepted event, the booking's new state and the sync job it calls for are written in one
transaction, so the sender's 2xx means all three are kept. Both de-duplications are unique keys,
not check-then-insert: a `webhook-id` seen before inserts nothing, and the state row only moves
to a higher sequence, however many deliveries race.
"""

from __future__ import annotations

import base64
import functools
import json
import secrets
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from bot.clock import Clock
from bot.domain import BookingDetails, BookingStatus, CatalogEntry, PaymentState
from bot.domain.booking_events import (
    BookingEvent,
    BookingEventType,
    EventOutcome,
    WebhookSource,
    in_namespace,
    source_reference,
)
from bot.errors import AlreadyConnected, MeetbotError, NotFound
from bot.jobs import SyncBooking
from bot.redaction import remember_secret
from storage.crypto import SecretBox
from storage.jobs import defer_in
from storage.secret_columns import secret_context
from storage.sessions import read_session, write_connection, write_session
from storage.tables import BookingEventRow, WebhookBookingRow, WebhookSourceRow

KEPT_EVENTS_PER_BOOKING = 20  # received events kept per booking, for audit and replay
MAX_SECRETS = 3  # the current one and those still being replaced
SECRET_PREFIX = "whsec_"  # noqa: S105  (the Standard Webhooks prefix, not a credential)


def new_signing_secret() -> str:
    secret = SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()
    remember_secret(secret)  # sealed inside a list, so each one is remembered for redaction too
    return secret


@functools.cache
def _event_insert(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = BookingEventRow.__table__  # type: ignore[attr-defined]
    # RETURNING tells whether a row went in (psycopg reports no rowcount for this statement).
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=["source_id", "webhook_id"])
        .returning(table.c.id)
    )


@functools.cache
def _state_upsert(dialect: str) -> Any:
    """The booking's state moves only forward: an older or equal sequence updates nothing."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = WebhookBookingRow.__table__  # type: ignore[attr-defined]
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=["source_id", "booking_external_id"],
        set_={
            "sequence": statement.excluded.sequence,
            "state": statement.excluded.state,
            "updated_at": statement.excluded.updated_at,
        },
        where=text("excluded.sequence > webhook_booking.sequence"),
    ).returning(table.c.id)


def _older_events(source_id: str, booking_id: str) -> Any:
    """All but the booking's last KEPT_EVENTS_PER_BOOKING events: the table stays bounded by the
    bookings, not by how often a sender resends. Pruning cannot undo a de-duplication: the state
    row holds the highest sequence, so a pruned event delivered again is stale and changes
    nothing."""
    table = BookingEventRow.__table__  # type: ignore[attr-defined]
    this_booking = (table.c.source_id == source_id) & (table.c.booking_external_id == booking_id)
    newest = (
        select(table.c.id)
        .where(this_booking)
        .order_by(table.c.id.desc())
        .limit(KEPT_EVENTS_PER_BOOKING)
    )
    return delete(table).where(this_booking, table.c.id.not_in(newest.scalar_subquery()))


class SqlBookingWebhooks:
    """Implements the core's BookingWebhooks port."""

    def __init__(self, engine: Engine, box: SecretBox, clock: Clock) -> None:
        self._engine, self._box, self._clock = engine, box, clock

    def source(self, *, source_id: str) -> WebhookSource | None:
        with read_session(self._engine) as session:
            row = session.get(WebhookSourceRow, source_id)
        return self._source(row) if row else None

    def company_source(self, *, company_id: str) -> WebhookSource | None:
        with read_session(self._engine) as session:
            row = session.scalars(
                select(WebhookSourceRow).where(col(WebhookSourceRow.company_id) == company_id)
            ).first()
        return self._source(row) if row else None

    def source_ids(self) -> list[str]:
        """Every source's id (for `meetbot webhook example`; not part of the core's port)."""
        with read_session(self._engine) as session:
            return list(session.scalars(select(col(WebhookSourceRow.id))).all())

    def record_event(
        self, *, source: WebhookSource, event: BookingEvent, raw_body: str
    ) -> EventOutcome:
        now, booking_id = self._clock.now(), event.details.external_id
        with write_connection(self._engine) as connection:
            if not self._keep_event(connection, source, event, raw_body, now):
                return EventOutcome.DUPLICATE
            connection.execute(_older_events(source.id, booking_id))
            state = {
                "company_id": source.company_id,
                "source_id": source.id,
                "booking_external_id": booking_id,
                "sequence": event.sequence,
                "state": json.dumps(event_to_json(event), sort_keys=True),
                "updated_at": now,
            }
            moved = connection.execute(_state_upsert(connection.dialect.name), state)
            if moved.first() is None:
                return EventOutcome.STALE
            sync = SyncBooking(
                booking_id=in_namespace(source.id, booking_id),
                booking_hash=source_reference(source.id),
            )
            defer_in(connection, sync, company_id=source.company_id, run_at=now)
        return EventOutcome.APPLIED

    @staticmethod
    def _keep_event(
        connection: Connection,
        source: WebhookSource,
        event: BookingEvent,
        raw_body: str,
        now: datetime,
    ) -> bool:
        kept = connection.execute(
            _event_insert(connection.dialect.name),
            {
                "company_id": source.company_id,
                "source_id": source.id,
                "webhook_id": event.webhook_id,
                "booking_external_id": event.details.external_id,
                "event_type": event.type.value,
                "sequence": event.sequence,
                "body": raw_body,
                "received_at": now,
            },
        )
        return kept.first() is not None

    def latest_event(
        self, *, company_id: str, source_id: str, booking_id: str
    ) -> BookingEvent | None:
        with read_session(self._engine) as session:
            state = session.scalars(
                select(col(WebhookBookingRow.state)).where(
                    col(WebhookBookingRow.company_id) == company_id,
                    col(WebhookBookingRow.source_id) == source_id,
                    col(WebhookBookingRow.booking_external_id) == booking_id,
                )
            ).first()
        return event_from_json(json.loads(state)) if state else None

    def connect(self, *, company_id: str) -> tuple[WebhookSource, str]:
        secret = new_signing_secret()
        row = WebhookSourceRow(company_id=company_id, secrets_enc="")
        self._seal(row, [secret])
        try:  # the unique company key decides: two connects at once make one source
            with write_session(self._engine) as session:
                session.add(row)
        except IntegrityError as taken:
            raise AlreadyConnected("This company already has a booking webhook.") from taken
        return self._source(row), secret

    def disconnect(self, *, company_id: str) -> bool:
        with write_session(self._engine) as session:
            removed = session.execute(
                delete(WebhookSourceRow).where(col(WebhookSourceRow.company_id) == company_id)
            )
            return bool(removed.rowcount)  # type: ignore[attr-defined]

    def rotate(self, *, company_id: str) -> str:
        secret = new_signing_secret()
        with write_session(self._engine) as session:
            row = self._row_for_update(session, company_id)
            kept = self._open(row)
            if len(kept) >= MAX_SECRETS:
                raise MeetbotError(
                    f"The webhook already has {len(kept)} secrets. Retire the old ones first: "
                    "`/meetings webhook retire-old`."
                )
            self._seal(row, [secret, *kept])
        return secret

    def retire_old(self, *, company_id: str) -> int:
        with write_session(self._engine) as session:
            row = self._row_for_update(session, company_id)
            kept = self._open(row)
            self._seal(row, kept[:1])
        return len(kept) - 1

    @staticmethod
    def _row_for_update(session: Session, company_id: str) -> WebhookSourceRow:
        row = session.scalars(
            select(WebhookSourceRow)
            .where(col(WebhookSourceRow.company_id) == company_id)
            .with_for_update()
        ).first()
        if row is None:
            raise NotFound("This company has no booking webhook: `/meetings connect webhook`.")
        return row

    def _context(self, row: WebhookSourceRow) -> str:
        return secret_context("webhook_source", "secrets_enc", row.id)

    def _seal(self, row: WebhookSourceRow, kept: list[str]) -> None:
        row.secrets_enc = self._box.encrypt(json.dumps(kept), context=self._context(row))

    def _open(self, row: WebhookSourceRow) -> list[str]:
        kept = [
            str(secret)
            for secret in json.loads(self._box.decrypt(row.secrets_enc, context=self._context(row)))
        ]
        for secret in kept:
            remember_secret(secret)  # each one alone must never reach a log either
        return kept

    def _source(self, row: WebhookSourceRow) -> WebhookSource:
        return WebhookSource(row.id, row.company_id, tuple(self._open(row)))


def event_to_json(event: BookingEvent) -> dict[str, Any]:
    """The event as the state row keeps it (the booking's details, times in ISO 8601 UTC)."""
    found = asdict(event)
    details = found["details"]
    details["start"], details["end"] = (
        event.details.start.isoformat(),
        event.details.end.isoformat(),
    )
    return found


def event_from_json(found: dict[str, Any]) -> BookingEvent:
    details = dict(found["details"])
    details["start"] = datetime.fromisoformat(details["start"])
    details["end"] = datetime.fromisoformat(details["end"])
    details["status"] = BookingStatus(details["status"])
    details["payment"] = PaymentState(details["payment"])
    return BookingEvent(
        webhook_id=found["webhook_id"],
        type=BookingEventType(found["type"]),
        sequence=int(found["sequence"]),
        details=BookingDetails(**details),
        service=CatalogEntry(**found["service"]),
        provider=CatalogEntry(**found["provider"]),
        client_language=found["client_language"],
        notes=found["notes"],
        time_zone=found.get("time_zone", ""),  # states kept before the zone was
    )
