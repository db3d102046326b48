"""A booking from a generic booking source, reconciled in memory: the latest applied event is its
state, its catalog comes from the event (new entries off, S5), and SimplyBook.me is never asked."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from bot.domain import Actor, BookingStatus, CatalogEntry, ChatPlatform
from bot.domain.booking_events import (
    BookingEvent,
    BookingEventType,
    EventOutcome,
    in_namespace,
    source_of,
    source_reference,
)
from bot.usecases.ingest_event import accept_booking_event
from bot.usecases.sync_booking import sync_booking
from tests.core.booking_world import DETAILS, OLENA, STUDIO, YOGA, World
from tests.core.fakes import FakeBookingWebhooks, FakeClock


@pytest.fixture
def world(clock: FakeClock) -> World:
    return World(clock)


def _event(webhook_id: str, sequence: int, **changes: object) -> BookingEvent:
    return BookingEvent(
        webhook_id=webhook_id,
        type=BookingEventType.CREATED,
        sequence=sequence,
        details=replace(DETAILS, external_id="web-1", code="web-1", **changes),  # type: ignore[arg-type]
        service=CatalogEntry("s1", "Yoga"),
        provider=CatalogEntry("p1", "Olena", email="olena@studio.com"),
    )


def _sync(world: World, webhooks: FakeBookingWebhooks, source_id: str) -> str:
    """Syncs booking web-1 with the source's own service s1 and provider p1 set up as staff would."""
    records = world.records.records
    service, provider = in_namespace(source_id, "s1"), in_namespace(source_id, "p1")
    records.services.setdefault(("c1", service), replace(YOGA, external_id=service))
    records.providers.setdefault(("c1", provider), replace(OLENA, external_id=provider))
    deps = replace(world.deps(), booking_webhooks=webhooks)
    return asyncio.run(
        sync_booking(
            deps,
            company_id="c1",
            booking_id=in_namespace(source_id, "web-1"),
            booking_hash=source_reference(source_id),
            take_turn=lambda key: True,
        )
    )


def test_a_source_reference_never_looks_like_a_simplybook_hash() -> None:
    assert source_of(source_reference("abc123")) == "abc123"
    assert source_of("0123456789abcdef0123456789abcdef") is None


def test_the_latest_event_is_the_booking_and_simplybook_is_never_asked(world: World) -> None:
    webhooks = FakeBookingWebhooks()
    source, _secret = webhooks.connect(company_id="c1")
    webhooks.record_event(source=source, event=_event("m1", 1), raw_body="{}")

    _sync(world, webhooks, source.id)

    assert len(world.zoom.meetings) == 1 and len(world.chat.messages) == 1
    assert world.source.calls == []


def test_entries_first_seen_in_an_event_start_off_and_hold_the_booking(world: World) -> None:
    webhooks = FakeBookingWebhooks()
    source, _secret = webhooks.connect(company_id="c1")
    event = replace(_event("m1", 1, service_id="s9"), service=CatalogEntry("s9", "Pilates"))
    webhooks.record_event(source=source, event=event, raw_body="{}")

    done = _sync(world, webhooks, source.id)

    pilates = world.records.catalog.service(
        company_id="c1", external_id=in_namespace(source.id, "s9")
    )
    assert pilates is not None and not pilates.online_meetings
    assert "does not have online meetings enabled" in done
    assert world.zoom.meetings == {} and world.source.calls == []


def test_a_cancelling_event_cancels_the_meeting(world: World) -> None:
    webhooks = FakeBookingWebhooks()
    source, _secret = webhooks.connect(company_id="c1")
    webhooks.record_event(source=source, event=_event("m1", 1), raw_body="{}")
    _sync(world, webhooks, source.id)
    cancel = _event("m2", 2, status=BookingStatus.CANCELLED)
    webhooks.record_event(source=source, event=cancel, raw_body="{}")

    done = _sync(world, webhooks, source.id)

    assert done.startswith("booking cancelled") and world.zoom.meetings == {}


def test_a_booking_no_event_describes_is_unknown_not_a_failed_job(world: World) -> None:
    webhooks = FakeBookingWebhooks()
    source, _secret = webhooks.connect(company_id="c1")

    done = _sync(world, webhooks, source.id)

    assert "no event of booking web-1" in done and world.zoom.meetings == {}


def test_each_outcome_of_an_event_has_its_reason(world: World) -> None:
    webhooks = FakeBookingWebhooks()
    source, _secret = webhooks.connect(company_id="c1")
    accept = lambda event: accept_booking_event(  # noqa: E731
        webhooks, world.records.companies, source=source, event=event, raw_body="{}"
    )

    assert accept(_event("m1", 2)).outcome is EventOutcome.APPLIED
    assert accept(_event("m1", 2)).outcome is EventOutcome.DUPLICATE
    stale = accept(_event("m2", 1))
    assert stale.outcome is EventOutcome.STALE and "nothing changes" in stale.reason
    assert webhooks.queued_syncs == [("c1", in_namespace(source.id, "web-1"))]


def test_a_company_started_from_chat_takes_its_zone_from_the_first_applied_event(
    world: World,
) -> None:
    companies, webhooks = world.records.companies, FakeBookingWebhooks()
    started = companies.start_company(
        actor=Actor(ChatPlatform.SLACK, "T9", "U9", True), name="Your company"
    )
    source, _secret = webhooks.connect(company_id=started.id)

    def accept(webhook_id: str, sequence: int, zone: str) -> None:
        event = replace(_event(webhook_id, sequence), time_zone=zone)
        accept_booking_event(webhooks, companies, source=source, event=event, raw_body="{}")

    accept("m1", 1, "Europe/Kyiv")
    accept("m2", 2, "America/Chicago")

    assert companies.company(company_id=started.id).timezone == "Europe/Kyiv"


def test_a_company_with_a_zone_of_its_own_keeps_it(world: World) -> None:
    webhooks = FakeBookingWebhooks()
    source, _secret = webhooks.connect(company_id="c1")  # the SimplyBook.me studio, in UTC
    event = replace(_event("m1", 1), time_zone="Europe/Kyiv")

    accept_booking_event(
        webhooks, world.records.companies, source=source, event=event, raw_body="{}"
    )

    assert world.records.companies.company(company_id="c1").timezone == STUDIO.timezone
