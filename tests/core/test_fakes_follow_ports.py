"""The in-memory stand-ins implement the ports exactly, so they stay in step when a port changes.

Two checks: typed assignments that mypy verifies structurally (`mypy tests/core`), and a run-time
comparison of every protocol method's parameters (names, kinds, defaults) with the fake's.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import pytest

from bot import ports
from tests.core import fakes

CLOCK = fakes.FakeClock()
RECORDS = fakes.record_fakes(CLOCK)

# Structural assignments: mypy refuses any fake whose methods drift from its protocol.
_booking_source: ports.BookingSource = fakes.FakeBookingSource()
_platform: ports.MeetingPlatformPort = fakes.FakeMeetingPlatform()
_chat: ports.ChatSender = fakes.FakeChat()
_zoom_directory: ports.ZoomDirectory = fakes.FakeZoomDirectory()
_teams_sign_in: ports.TeamsSignIn = fakes.FakeTeamsSignIn()
_companies: ports.Companies = RECORDS.companies
_catalog: ports.Catalog = RECORDS.catalog
_staff: ports.Staff = RECORDS.staff
_zoom_accounts: ports.ZoomAccounts = RECORDS.zoom_accounts
_bookings: ports.Bookings = RECORDS.booking_records
_meetings: ports.Meetings = RECORDS.meetings
_seats: ports.Seats = RECORDS.seats
_callbacks: ports.CallbackInbox = RECORDS.callbacks
_links: ports.LinkStore = fakes.FakeLinkStore()
_jobs: ports.JobQueue = fakes.FakeJobQueue(CLOCK)
_states: ports.OAuthStates = fakes.FakeOAuthStates(CLOCK)
_alerts: ports.AlertStore = fakes.FakeAlertStore(CLOCK)
_outbox: ports.Outbox = fakes.FakeOutbox(CLOCK)
_audit: ports.AuditLog = fakes.FakeAdminRecords(CLOCK)
_admin_records: ports.AdminRecords = fakes.FakeAdminRecords(CLOCK)
_templates: ports.TemplateStore = fakes.FakeTemplateStore()
_teams_accounts: ports.TeamsAccounts = fakes.FakeTeamsAccounts()
_home_records: ports.HomeRecords = fakes.FakeHomeRecords(RECORDS.records)
_home_publisher: ports.HomePublisher = fakes.FakeHomePublisher()
_booking_webhooks: ports.BookingWebhooks = fakes.FakeBookingWebhooks()

PAIRS: list[tuple[type[Any], type[Any]]] = [
    (ports.BookingSource, fakes.FakeBookingSource),
    (ports.MeetingPlatformPort, fakes.FakeMeetingPlatform),
    (ports.ChatSender, fakes.FakeChat),
    (ports.ZoomDirectory, fakes.FakeZoomDirectory),
    (ports.TeamsSignIn, fakes.FakeTeamsSignIn),
    (ports.Companies, fakes.FakeCompanies),
    (ports.Catalog, fakes.FakeCatalog),
    (ports.Staff, fakes.FakeStaff),
    (ports.ZoomAccounts, fakes.FakeZoomAccounts),
    (ports.Bookings, fakes.FakeBookings),
    (ports.Meetings, fakes.FakeMeetings),
    (ports.Seats, fakes.FakeSeats),
    (ports.CallbackInbox, fakes.FakeCallbackInbox),
    (ports.LinkStore, fakes.FakeLinkStore),
    (ports.JobQueue, fakes.FakeJobQueue),
    (ports.OAuthStates, fakes.FakeOAuthStates),
    (ports.AlertStore, fakes.FakeAlertStore),
    (ports.Outbox, fakes.FakeOutbox),
    (ports.AdminRecords, fakes.FakeAdminRecords),
    (ports.TemplateStore, fakes.FakeTemplateStore),
    (ports.TeamsAccounts, fakes.FakeTeamsAccounts),
    (ports.HomeRecords, fakes.FakeHomeRecords),
    (ports.HomePublisher, fakes.FakeHomePublisher),
    (ports.BookingWebhooks, fakes.FakeBookingWebhooks),
]


def _protocol_methods(protocol: type[Any]) -> dict[str, Any]:
    """The methods a protocol declares, its bases' included (AdminRecords extends AuditLog)."""
    found: dict[str, Any] = {}
    for klass in reversed(protocol.__mro__):
        if klass is object or not getattr(klass, "_is_protocol", False):
            continue
        for name, value in vars(klass).items():
            if callable(value) and not name.startswith("_"):
                found[name] = value
    return found


def _shape(function: Any) -> list[tuple[str, Any, Any]]:
    signature = inspect.signature(function)
    return [(p.name, p.kind, p.default) for p in signature.parameters.values()]


@pytest.mark.parametrize(("protocol", "fake"), PAIRS, ids=[p.__name__ for p, _ in PAIRS])
def test_fake_has_every_method_of_its_port_with_the_same_parameters(
    protocol: type[Any], fake: type[Any]
) -> None:
    methods = _protocol_methods(protocol)
    assert methods, f"{protocol.__name__} declares no methods"
    for name, declared in methods.items():
        implemented = getattr(fake, name, None)
        assert implemented is not None, f"{fake.__name__} lacks {name}"
        assert _shape(implemented) == _shape(declared), f"{fake.__name__}.{name}"
        declared_async = inspect.iscoroutinefunction(declared)
        assert inspect.iscoroutinefunction(implemented) == declared_async, name


def test_every_port_of_the_package_has_a_stand_in() -> None:
    # Every port needs a stand-in.
    # Values ports hand back, not ports.
    records = {"OutboxEntry", "HomeViewer", "UpcomingMeeting"}
    covered = {protocol.__name__ for protocol, _ in PAIRS} | {"AuditLog"} | records
    assert set(ports.__all__) <= covered, sorted(set(ports.__all__) - covered)


def test_deps_are_filled_by_the_names_use_cases_give_their_ports() -> None:
    from bot.usecases.sync_booking import SyncDeps

    offered = {**RECORDS.named(), "unused": object()}
    with pytest.raises(LookupError, match=r"no stand-in offered for SyncDeps\.\w+"):
        fakes.build_deps(SyncDeps, offered)


def test_a_field_with_a_default_may_go_without_a_stand_in() -> None:
    @dataclass
    class Needs:
        catalog: ports.Catalog
        teams_accounts: ports.TeamsAccounts | None = None

    built = fakes.build_deps(Needs, RECORDS.named())
    assert built.catalog is RECORDS.catalog and built.teams_accounts is None
