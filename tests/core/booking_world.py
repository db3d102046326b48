"""One company set up for online meetings, every port in memory, and a booking its booking system
reports: the harness of the reconcile tests. The use case takes the stand-ins it names from
`World.stand_ins`, so a change of its dependencies needs at most a new stand-in here.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from bot.domain import (
    AccountState,
    ChatPlatform,
    ChatTarget,
    Company,
    MeetingPlatform,
    MeetingState,
    Provider,
    Service,
    ZoomAccount,
)
from bot.outbox import ChatOutbox
from bot.urls import PublicUrls
from bot.usecases.sync_booking import sync_booking
from bot.usecases.sync_deps import SyncDeps
from tests.core.fakes import (
    EPOCH,
    FakeAlertStore,
    FakeBookingSource,
    FakeChat,
    FakeClock,
    FakeMeetingPlatform,
    FakeOutbox,
    FakeTemplateStore,
    RecordFakes,
    booking_details,
    build_deps,
    record_fakes,
)

START = EPOCH + timedelta(days=1)
CHANNEL = ChatTarget(ChatPlatform.SLACK, "T1", "C-olena")
ADMIN = ChatTarget(ChatPlatform.SLACK, "T1", "U-admin")
STUDIO = Company("c1", "studio", "Studio", "UTC", online_meetings_enabled=True)
YOGA = Service("c1", "s1", "Yoga", online_meetings=True)
OLENA = Provider(
    "c1", "p1", "Olena", "olena@studio.com", MeetingPlatform.ZOOM, "olena@studio.com", CHANNEL
)
DETAILS = booking_details(start=START)


class World:
    """A company set up for online meetings, and a booking the booking system reports."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.records: RecordFakes = record_fakes(clock)
        self.records.companies.add(STUDIO)
        self.records.records.services[("c1", "s1")] = YOGA
        self.records.records.providers[("c1", "p1")] = OLENA
        self.records.records.zoom_accounts["c1"] = ZoomAccount(
            "z1", "c1", "acc1", AccountState.ACTIVE
        )
        self.source = FakeBookingSource()
        self.source.bookings["1001"] = DETAILS
        self.zoom = FakeMeetingPlatform("zoom")
        self.chat = FakeChat(clock)
        self.alerts = FakeAlertStore(clock)
        self.outbox = FakeOutbox(clock)
        self.templates = FakeTemplateStore()

    def stand_ins(self) -> dict[str, object]:
        """Every stand-in of this world, by the name a use case gives the port."""
        return {
            **self.records.named(),
            "bookings": self.source,
            "platforms": {MeetingPlatform.ZOOM: self.zoom},
            "chats": {ChatPlatform.SLACK: self.chat},
            "links": PublicUrls("https://meetbot.example"),
            "alerts": self.alerts,
            "outbox": ChatOutbox(records=self.outbox, chats={ChatPlatform.SLACK: self.chat}),
            "templates": self.templates,
            "clock": self.clock,
        }

    def deps(self) -> SyncDeps:
        return build_deps(SyncDeps, self.stand_ins())

    def sync(self, booking_id: str = "1001", *, has_turn: bool = True) -> str:
        return asyncio.run(
            sync_booking(
                self.deps(),
                company_id="c1",
                booking_id=booking_id,
                booking_hash="h",
                take_turn=lambda key: has_turn,
            )
        )

    def change(self, booking_id: str = "1001", **changes: object) -> None:
        booking = self.source.bookings[booking_id]
        self.source.bookings[booking_id] = replace(booking, **changes)  # type: ignore[arg-type]

    def set_provider(self, **changes: object) -> None:
        self.records.records.providers[("c1", "p1")] = replace(OLENA, **changes)  # type: ignore[arg-type]

    def problem(self) -> str | None:
        [booking] = self.records.records.bookings.values()
        return self.records.records.booking_problems.get(booking.id)

    def meeting_state(self) -> MeetingState:
        [meeting] = self.records.records.meetings.values()
        return meeting.state
