"""Every bad delivery to the booking webhook gets a 4xx with a short JSON reason; nothing is
stored; never a 5xx (issue 17, must show 2)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.bootstrap import Core
from app.sandbox import Demo, SandboxWorld, seed_demo
from app.web import build_web_app
from app.webhook_example import signed
from simulators.server import BackgroundServer
from storage.booking_webhooks import KEPT_EVENTS_PER_BOOKING
from storage.tables import BookingEventRow, JobRow, WebhookBookingRow

from .booking_webhook_sender import BookingSender, connected_sender
from .conftest import count_rows
from .harness import SQLITE_ONLY

Delivery = Callable[[BookingSender, Core], httpx.Response]


def _wrong_secret(sender: BookingSender, core: Core) -> httpx.Response:
    other = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk="
    return sender.post(sender.event("bad-1"), secret=other)


def _altered_body(sender: BookingSender, core: Core) -> httpx.Response:
    body, headers = signed(sender.event("bad-1"), secret=sender.secret, now=core.clock.now())
    return httpx.post(sender.url, content=body.replace("Grace", "Mallory"), headers=headers)


def _old_timestamp(sender: BookingSender, core: Core) -> httpx.Response:
    return sender.post(sender.event("bad-1"), at=core.clock.now() - timedelta(minutes=10))


def _future_timestamp(sender: BookingSender, core: Core) -> httpx.Response:
    return sender.post(sender.event("bad-1"), at=core.clock.now() + timedelta(minutes=10))


def _unknown_source(sender: BookingSender, core: Core) -> httpx.Response:
    body, headers = signed(sender.event("bad-1"), secret=sender.secret, now=core.clock.now())
    return httpx.post(sender.url[:-4] + "beef", content=body, headers=headers)


def _over_the_cap(sender: BookingSender, core: Core) -> httpx.Response:
    event = sender.event("bad-1")
    event["data"]["padding"] = "x" * (70 * 1024)
    return sender.post(event)


def _malformed_json(sender: BookingSender, core: Core) -> httpx.Response:
    return sender.post_raw('{"type": "booking.created", "data": {', at=core.clock.now())


def _missing_fields(sender: BookingSender, core: Core) -> httpx.Response:
    event = sender.event("bad-1")
    del event["data"]["start"], event["data"]["provider"]["name"]
    return sender.post(event)


def _missing_sequence(sender: BookingSender, core: Core) -> httpx.Response:
    event = sender.event("bad-1")
    del event["data"]["sequence"]
    return sender.post(event)


def _unknown_type(sender: BookingSender, core: Core) -> httpx.Response:
    return sender.post(sender.event("bad-1", event_type="booking.exploded"))


def _no_signature(sender: BookingSender, core: Core) -> httpx.Response:
    return sender.post(sender.event("bad-1"), headers={"webhook-signature": ""})


def _garbled_signature(sender: BookingSender, core: Core) -> httpx.Response:
    return sender.post(sender.event("bad-1"), headers={"webhook-signature": "v1"})


def _text_timestamp(sender: BookingSender, core: Core) -> httpx.Response:
    return sender.post(sender.event("bad-1"), headers={"webhook-timestamp": "nan"})


def _end_before_start(sender: BookingSender, core: Core) -> httpx.Response:
    event = sender.event("bad-1")
    event["data"]["end"] = "2020-01-01T00:00:00+00:00"
    return sender.post(event)


def _unknown_zone(sender: BookingSender, core: Core) -> httpx.Response:
    event = sender.event("bad-1")
    event["data"]["time_zone"] = "Mars/Olympus_Mons"
    return sender.post(event)


def _changed(**data: str) -> Delivery:
    def deliver(sender: BookingSender, core: Core) -> httpx.Response:
        event = sender.event("bad-1")
        event["data"].update(data)
        return sender.post(event)

    return deliver


def _newline_in(field: str) -> Delivery:
    def deliver(sender: BookingSender, core: Core) -> httpx.Response:
        event = sender.event("bad-1")
        event["data"][field]["id"] += "\n"
        return sender.post(event)

    return deliver


CASES: list[tuple[str, Delivery, int, str]] = [
    ("wrong secret", _wrong_secret, 401, "no signature matches"),
    ("altered body", _altered_body, 401, "no signature matches"),
    ("timestamp too old", _old_timestamp, 401, "webhook-timestamp is more than 5 minutes off"),
    ("timestamp too new", _future_timestamp, 401, "webhook-timestamp is more than 5 minutes off"),
    ("unknown source", _unknown_source, 404, "unknown booking source"),
    ("body over the cap", _over_the_cap, 413, "larger than 64 KiB"),
    ("malformed JSON", _malformed_json, 400, "not valid JSON"),
    ("missing fields", _missing_fields, 422, "missing field(s): data.start, data.provider.name"),
    ("no sequence", _missing_sequence, 422, "data.sequence (or data.updated_at)"),
    ("unknown type", _unknown_type, 422, "type:"),
    ("no signature", _no_signature, 400, "missing header(s): webhook-signature"),
    ("garbled signature", _garbled_signature, 400, "webhook-signature is not a list"),
    ("text timestamp", _text_timestamp, 400, "webhook-timestamp must be whole seconds"),
    ("end before start", _end_before_start, 422, "data.end must be after data.start"),
    ("unknown time zone", _unknown_zone, 422, "data.time_zone"),
    ("a zone folder", _changed(time_zone="Europe"), 422, "data.time_zone"),
    ("a zone path", _changed(time_zone="../../etc/passwd"), 422, "data.time_zone"),
    ("year 1", _changed(start="0001-01-01T00:00:00+01:00"), 422, "data.start"),
    ("year 9999", _changed(end="9999-12-31T23:59-01:00"), 422, "data.end"),
    (
        "year 2101",
        _changed(end="2101-01-01T00:00:00Z"),
        422,
        "data.end is not a valid date and time in the years 2000-2100",
    ),
    ("id ends in a line break", _changed(booking_id="web-1\n"), 422, "data.booking_id"),
    ("service id line break", _newline_in("service"), 422, "data.service.id"),
    ("provider id line break", _newline_in("provider"), 422, "data.provider.id"),
    (
        "non-ASCII digits",
        _changed(start="\u0662\u0660\u0662\u0666-12-01T10:00Z"),
        422,
        "data.start",
    ),
]


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("name", "deliver", "status", "reason"), CASES, ids=[case[0] for case in CASES]
)
def test_a_bad_delivery_gets_its_4xx_and_a_reason_and_nothing_is_stored(
    core: Core, demo: Demo, web: str, name: str, deliver: Delivery, status: int, reason: str
) -> None:
    sender = connected_sender(core, demo, web)

    answer = deliver(sender, core)

    assert answer.status_code == status, answer.text
    assert reason in answer.json()["reason"]
    assert answer.json()["ok"] is False
    assert count_rows(core, BookingEventRow) == 0
    assert count_rows(core, WebhookBookingRow) == 0
    assert count_rows(core, JobRow) == 0


@SQLITE_ONLY
def test_unknown_fields_are_ignored_and_updated_at_may_stand_for_the_sequence(
    core: Core, demo: Demo, web: str
) -> None:
    sender = connected_sender(core, demo, web)
    event = sender.event("fine-1")
    del event["data"]["sequence"]
    event["data"]["updated_at"] = "2026-11-29T12:00:00.000007+02:00"
    event["data"]["room"] = {"floor": 3}
    event["extra"] = ["ignored"]

    answer = sender.post(event)

    assert answer.status_code == 202, answer.text
    state = core.booking_webhooks.latest_event(
        company_id=demo.company_id, source_id=sender.source_id, booking_id="fine-1"
    )
    since_1970 = datetime(2026, 11, 29, 10, 0, 0, 7, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    assert state is not None and state.sequence == since_1970 // timedelta(microseconds=1)


@SQLITE_ONLY
def test_hostile_bodies_never_get_a_5xx(core: Core, demo: Demo, web: str) -> None:
    sender = connected_sender(core, demo, web)
    bodies = [
        "",
        "[]",
        "null",
        '"x"',
        "[" * 5000,
        '{"type": 1e999}',
        '{"type": "\\ud800"}',
        '{"type": "booking.created", "data": {"booking_id": "\\u0000"}}',
        json.dumps({"type": "booking.created", "data": None}),
        json.dumps(
            {"type": "booking.created", "data": {"booking_id": "../../etc", "sequence": -1}}
        ),
        json.dumps({"type": "booking.created", "data": {"sequence": 10**30}}),
    ]
    for body in bodies:
        answer = sender.post_raw(body, at=core.clock.now())
        assert 400 <= answer.status_code < 500, (body[:20], answer.text)
        assert answer.json()["reason"]
    invalid_utf8 = httpx.post(sender.url, content=b"\xff\xfe{}", headers={"webhook-id": "x"})
    assert invalid_utf8.status_code == 400
    assert count_rows(core, BookingEventRow) == 0


@SQLITE_ONLY
def test_events_past_the_rate_get_429_and_are_not_stored(
    make_core: Callable[..., Core], world: SandboxWorld
) -> None:
    core = make_core(booking_webhook_rate="5/hour")  # an hour, as for SimplyBook.me callbacks
    demo = seed_demo(core, world)
    with BackgroundServer(build_web_app(core), name="meetbot") as server:
        sender = connected_sender(core, demo, server.url)
        answers = [sender.post(sender.event(f"rate-{number}")) for number in range(6)]
        stranger = httpx.post(f"{server.url}/webhooks/bookings/{'0' * 32}", content=b"{}")

    assert [answer.status_code for answer in answers] == [202] * 5 + [429]
    refused = answers[-1]
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert "too many booking events" in refused.json()["reason"]
    assert count_rows(core, BookingEventRow) == 5
    assert stranger.status_code == 404, "each source has a rate of its own"


@SQLITE_ONLY
def test_a_booking_keeps_only_its_latest_received_events(core: Core, demo: Demo, web: str) -> None:
    sender = connected_sender(core, demo, web)
    total = KEPT_EVENTS_PER_BOOKING + 5
    for sequence in range(1, total + 1):
        event = sender.event("chatty-1", sequence=sequence)
        assert sender.post(event).status_code == 202
    assert sender.post(sender.event("quiet-1")).status_code == 202

    with Session(core.engine) as session:
        kept = session.scalars(
            select(BookingEventRow.sequence).where(  # type: ignore[call-overload]
                BookingEventRow.booking_external_id == "chatty-1"
            )
        ).all()
    assert sorted(kept) == list(range(total - KEPT_EVENTS_PER_BOOKING + 1, total + 1))
    assert count_rows(core, BookingEventRow) == KEPT_EVENTS_PER_BOOKING + 1
    first_again = sender.post(sender.event("chatty-1", sequence=1))
    assert first_again.status_code == 200 and "later event" in first_again.json()["reason"]
