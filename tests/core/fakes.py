"""In-memory stand-ins for the core's ports: plain dicts and lists that record what was asked.

Each class implements one protocol of `bot.ports` with the same method names and keyword-only
signatures (`test_fakes_follow_ports.py` checks that, and mypy does where the fakes are assigned
to their protocols). They keep just enough state to answer consistently, so a use case run
against them behaves as it would against the database, and tests read the `calls`, `posted`,
`buried`... lists to see what the core did. Failures are injected by setting an exception on
the fake (`fail_next`), never by patching.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import astuple, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from bot import jobs
from bot.domain import (
    AcceptedCallback,
    AccountState,
    Actor,
    Alert,
    AlertKind,
    AlertSpec,
    AuditEntry,
    Booking,
    BookingCallback,
    BookingDetails,
    BookingEntries,
    BookingStatus,
    CatalogEntry,
    ChatPlatform,
    ChatTarget,
    Company,
    CompanyInfo,
    DigestSettings,
    Job,
    Meeting,
    MeetingHostRef,
    MeetingPlatform,
    MeetingRequest,
    MeetingState,
    MsAccount,
    MsConnection,
    MsConnectRefused,
    MsSignInFor,
    NotificationState,
    PaymentState,
    PlatformMeeting,
    PlatformUser,
    PostedMessage,
    Provider,
    ReportRow,
    Seat,
    Service,
    SimplyBookCredentials,
    StaffMember,
    ZoomAccount,
    ZoomConnection,
)
from bot.domain.booking_events import BookingEvent, EventOutcome, WebhookSource, in_namespace
from bot.errors import AlreadyConnected, ChatMessageGone, MeetingGone, NotFound
from bot.home import HomeView
from bot.jobs import JobType
from bot.messages import ChatMessage
from bot.ports import HomeViewer, OutboxEntry, UpcomingMeeting
from bot.signin import SignInState, StateProblem
from bot.templates import MessageTemplate, TemplateKind, TemplateScope

EPOCH = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
Deps = TypeVar("Deps")


def booking_details(
    *, start: datetime = EPOCH + timedelta(days=1), minutes: float = 60, **changes: Any
) -> BookingDetails:
    """Booking 1001 (code AB12) as the booking system reports it: Ann books Yoga with Olena,
    confirmed, nothing to pay; `changes` sets any other field."""
    details = BookingDetails(
        external_id="1001",
        code="AB12",
        service_id="s1",
        service_name="Yoga",
        provider_id="p1",
        provider_name="Olena",
        client_name="Ann",
        client_email="ann@example.com",
        client_phone="",
        start=start,
        end=start + timedelta(minutes=minutes),
        status=BookingStatus.CONFIRMED,
        payment=PaymentState.NOT_REQUIRED,
    )
    return replace(details, **changes)


def build_deps(deps_type: type[Deps], stand_ins: Mapping[str, object]) -> Deps:
    """A use case's dependencies (a dataclass) filled from stand-ins by field name.

    Use cases name their ports by the agreed names (`companies`, `catalog`, `booking_records`,
    `meetings`...), so a test offers every stand-in it has and each use case takes the ones it
    names: a use case that changes its dependencies needs no change in the tests, only a stand-in
    for a port never offered before. A required field without one is an error that names it.
    """
    chosen: dict[str, Any] = {}
    for wanted in dataclasses.fields(deps_type):  # type: ignore[arg-type]
        if wanted.name in stand_ins:
            chosen[wanted.name] = stand_ins[wanted.name]
        elif (
            wanted.default is dataclasses.MISSING and wanted.default_factory is dataclasses.MISSING
        ):
            raise LookupError(f"no stand-in offered for {deps_type.__name__}.{wanted.name}")
    return deps_type(**chosen)


class FakeClock:
    """A clock that moves only when a test moves it."""

    def __init__(self, at: datetime = EPOCH) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


class Failing:
    """Lets a test make the next call (or the next few) to a fake raise a chosen error, before
    its effect (`fail_next`) or after it, as when the answer is lost on the way back
    (`lose_next_answer`: the meeting or message exists, the caller does not know)."""

    def __init__(self) -> None:
        self._failures: list[BaseException] = []
        self._lost_answers: list[BaseException] = []

    def fail_next(self, *errors: BaseException) -> None:
        self._failures.extend(errors)

    def lose_next_answer(self, *errors: BaseException) -> None:
        self._lost_answers.extend(errors)

    def _maybe_fail(self) -> None:
        if self._failures:
            raise self._failures.pop(0)

    def _maybe_lose_answer(self) -> None:
        if self._lost_answers:
            raise self._lost_answers.pop(0)


# -- outside parties ---------------------------------------------------------------------------


class FakeBookingSource(Failing):
    """SimplyBook.me: bookings, services and providers a test put there."""

    def __init__(self, *, company: CompanyInfo | None = None) -> None:
        super().__init__()
        self.bookings: dict[str, BookingDetails] = {}
        self.service_entries: list[CatalogEntry] = []
        self.provider_entries: list[CatalogEntry] = []
        self.plugins: set[str] = set()
        self.info = company or CompanyInfo(login="studio", name="Studio", timezone="UTC")
        self.calls: list[str] = []

    async def booking_details(
        self,
        *,
        credentials: SimplyBookCredentials,
        booking_id: str,
        booking_hash: str,
        timezone: str,
    ) -> BookingDetails:
        self.calls.append(f"booking_details {booking_id}")
        self._maybe_fail()
        if booking_id not in self.bookings:
            raise NotFound(f"no booking {booking_id}")
        return self.bookings[booking_id]

    async def services(self, *, credentials: SimplyBookCredentials) -> list[CatalogEntry]:
        self._maybe_fail()
        return list(self.service_entries)

    async def providers(self, *, credentials: SimplyBookCredentials) -> list[CatalogEntry]:
        self._maybe_fail()
        return list(self.provider_entries)

    async def company_info(self, *, credentials: SimplyBookCredentials) -> CompanyInfo:
        self._maybe_fail()
        return self.info

    async def plugin_active(self, *, credentials: SimplyBookCredentials, plugin: str) -> bool:
        self._maybe_fail()
        return plugin in self.plugins


class FakeMeetingPlatform(Failing):
    """A video platform whose meetings are a dict by external id; each carries its marker."""

    def __init__(self, name: str = "zoom") -> None:
        super().__init__()
        self.name = name
        self.meetings: dict[str, MeetingRequest] = {}
        self.registrants: dict[tuple[str, str], str] = {}  # (meeting, e-mail) -> registrant id
        self.calls: list[str] = []
        self._ids = itertools.count(1)

    async def create_meeting(
        self, *, host: MeetingHostRef, request: MeetingRequest
    ) -> PlatformMeeting:
        self.calls.append(f"create {request.marker}")
        self._maybe_fail()
        external_id = f"{self.name}-{next(self._ids)}"
        self.meetings[external_id] = request
        self._maybe_lose_answer()
        return PlatformMeeting(external_id, f"https://{self.name}.example/j/{external_id}")

    async def find_meeting(
        self,
        *,
        host: MeetingHostRef,
        marker: str,
        start: datetime,
        request: MeetingRequest | None = None,
    ) -> PlatformMeeting | None:
        self.calls.append(f"find {marker}")
        self._maybe_fail()
        for external_id, made in self.meetings.items():
            if made.marker == marker:
                return PlatformMeeting(external_id, f"https://{self.name}.example/j/{external_id}")
        return None

    async def fresh_host_url(self, *, host: MeetingHostRef, external_id: str) -> str:
        self.calls.append(f"host_url {external_id}")
        self._maybe_fail()
        if external_id not in self.meetings:
            raise MeetingGone(external_id)
        return f"https://{self.name}.example/s/{external_id}?fresh={len(self.calls)}"

    async def move_meeting(
        self, *, host: MeetingHostRef, external_id: str, start: datetime, duration_minutes: int
    ) -> None:
        self.calls.append(f"move {external_id}")
        self._maybe_fail()
        if external_id not in self.meetings:
            raise MeetingGone(external_id)
        made = self.meetings[external_id]
        self.meetings[external_id] = replace(made, start=start, duration_minutes=duration_minutes)

    async def delete_meeting(self, *, host: MeetingHostRef, external_id: str) -> None:
        self.calls.append(f"delete {external_id}")
        self._maybe_fail()
        self.meetings.pop(external_id, None)

    async def add_registrant(
        self, *, host: MeetingHostRef, external_id: str, name: str, email: str
    ) -> tuple[str, str] | None:
        self._maybe_fail()
        key = (external_id, email.casefold())
        registrant = self.registrants.setdefault(key, f"r{len(self.registrants) + 1}")
        return registrant, f"https://{self.name}.example/w/{external_id}?tk={registrant}"

    async def cancel_registrant(
        self, *, host: MeetingHostRef, external_id: str, registrant_id: str, email: str
    ) -> None:
        self._maybe_fail()
        self.registrants.pop((external_id, email.casefold()), None)


@dataclass
class SentMessage:
    """One message as the fake chat holds it; `thread_id` is set for replies."""

    target: ChatTarget
    message: ChatMessage
    marker: str
    message_id: str
    thread_id: str = ""
    at: datetime = EPOCH


class FakeChat(Failing):
    """A chat platform: every post, reply, edit and upload kept in order."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        super().__init__()
        self.clock = clock or FakeClock()
        self.messages: list[SentMessage] = []
        self.edits: list[tuple[str, ChatMessage]] = []
        self.files: list[tuple[ChatTarget, str, bytes]] = []
        self.deleted: set[str] = set()  # ids a person removed by hand
        self.lookups: list[str] = []  # markers looked for, in order
        self._ids = itertools.count(1)

    def _keep(self, target: ChatTarget, message: ChatMessage, marker: str, thread: str) -> str:
        message_id = f"m{next(self._ids)}"
        self.messages.append(
            SentMessage(target, message, marker, message_id, thread, self.clock.now())
        )
        return message_id

    async def post(self, *, target: ChatTarget, message: ChatMessage, marker: str) -> PostedMessage:
        self._maybe_fail()
        message_id = self._keep(target, message, marker, "")
        self._maybe_lose_answer()
        return PostedMessage(target.channel_id, message_id)

    async def find_posted(
        self, *, target: ChatTarget, marker: str, since: datetime
    ) -> PostedMessage | None:
        self.lookups.append(marker)
        self._maybe_fail()
        for sent in self.messages:
            if (sent.target, sent.marker, sent.thread_id) == (target, marker, "") and (
                sent.at >= since and sent.message_id not in self.deleted
            ):
                return PostedMessage(target.channel_id, sent.message_id)
        return None

    async def update(self, *, target: ChatTarget, message_id: str, message: ChatMessage) -> None:
        self._maybe_fail()
        if message_id in self.deleted:
            raise ChatMessageGone(f"message {message_id} was deleted")
        self.edits.append((message_id, message))

    async def reply(
        self, *, target: ChatTarget, thread_id: str, message: ChatMessage, marker: str
    ) -> PostedMessage:
        self._maybe_fail()
        message_id = self._keep(target, message, marker, thread_id)
        self._maybe_lose_answer()
        return PostedMessage(target.channel_id, message_id)

    async def find_reply(
        self, *, target: ChatTarget, thread_id: str, marker: str
    ) -> PostedMessage | None:
        self.lookups.append(marker)
        self._maybe_fail()
        for sent in self.messages:
            if (sent.target, sent.marker, sent.thread_id) == (target, marker, thread_id):
                return PostedMessage(target.channel_id, sent.message_id)
        return None

    async def post_file(
        self, *, target: ChatTarget, filename: str, content: bytes, title: str, comment: str
    ) -> None:
        self._maybe_fail()
        self.files.append((target, filename, content))

    def posts_to(self, target: ChatTarget) -> list[SentMessage]:
        """Top-level messages (not replies) in that conversation."""
        return [sent for sent in self.messages if sent.target == target and not sent.thread_id]


class FakeZoomDirectory(Failing):
    def __init__(self) -> None:
        super().__init__()
        self.users_by_account: dict[str, list[PlatformUser]] = {}
        self.connections: dict[str, ZoomConnection] = {}  # authorisation code -> result

    async def users(self, *, account_id: str) -> list[PlatformUser]:
        self._maybe_fail()
        return list(self.users_by_account.get(account_id, []))

    async def exchange_code(self, *, code: str) -> ZoomConnection:
        self._maybe_fail()
        if code not in self.connections:
            raise NotFound("unknown authorisation code")
        return self.connections.pop(code)


class FakeTeamsSignIn(Failing):
    """Microsoft's sign-in: the URL names the nonce; `complete` hands back what a test queued."""

    def __init__(self) -> None:
        super().__init__()
        self.outcomes: dict[str, MsConnection | MsConnectRefused] = {}  # browser nonce -> result

    async def authorize_url(
        self, *, signing_in: MsSignInFor, browser_nonce: str, login_hint: str = ""
    ) -> str:
        self._maybe_fail()
        return (
            f"https://login.example/authorize?company={signing_in.company_id}&nonce={browser_nonce}"
        )

    async def complete(
        self, form: Mapping[str, str], *, browser_nonce: str
    ) -> MsConnection | MsConnectRefused:
        self._maybe_fail()
        return self.outcomes.get(
            browser_nonce, MsConnectRefused(kind="expired", reason="sign-in not started here")
        )


# -- records ------------------------------------------------------------------------------------


@dataclass
class Records:
    """The state every record stand-in shares, as one database would hold it."""

    companies: dict[str, Company] = field(default_factory=dict)
    credentials: dict[str, SimplyBookCredentials] = field(default_factory=dict)
    webhook_tokens: dict[str, str] = field(default_factory=dict)  # company id -> token
    workspaces: dict[tuple[str, str], str] = field(default_factory=dict)  # -> company id
    problems: dict[str, list[str]] = field(default_factory=dict)
    services: dict[tuple[str, str], Service] = field(default_factory=dict)
    providers: dict[tuple[str, str], Provider] = field(default_factory=dict)
    staff: dict[tuple[str, str, str, str], StaffMember] = field(default_factory=dict)
    zoom_accounts: dict[str, ZoomAccount] = field(default_factory=dict)  # by company id
    bookings: dict[str, Booking] = field(default_factory=dict)  # by our id
    booking_problems: dict[str, str | None] = field(default_factory=dict)
    meetings: dict[str, Meeting] = field(default_factory=dict)
    meeting_of_booking: dict[str, str] = field(default_factory=dict)
    client_tokens: dict[str, str] = field(default_factory=dict)  # booking id -> token
    seats: dict[str, Seat] = field(default_factory=dict)  # by booking id
    reminders: list[tuple[str, datetime]] = field(default_factory=list)
    callbacks: list[tuple[str, BookingCallback, str]] = field(default_factory=list)
    queued_syncs: list[tuple[str, str]] = field(default_factory=list)  # (company, booking)
    zone_pending: set[str] = field(default_factory=set)  # companies started without a zone
    clock: FakeClock = field(default_factory=FakeClock)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self.ids)}"


def _staff_key(company_id: str, actor: Actor) -> tuple[str, str, str, str]:
    return (company_id, actor.platform, actor.workspace_id, actor.user_id)


class FakeCompanies:
    def __init__(self, records: Records) -> None:
        self.records = records

    def add(self, company: Company, *, workspace: tuple[str, str] = ("slack", "T1")) -> Company:
        """Test set-up: a company already connected to that chat workspace."""
        self.records.companies[company.id] = company
        self.records.workspaces[workspace] = company.id
        self.records.credentials[company.id] = SimplyBookCredentials(
            company.simplybook_login, "key", "secret"
        )
        self.records.webhook_tokens[company.id] = f"hook-{company.id}"
        return company

    def company(self, *, company_id: str) -> Company:
        if company_id not in self.records.companies:
            raise NotFound(f"no company {company_id}")
        return self.records.companies[company_id]

    def company_for_workspace(self, *, platform: str, workspace_id: str) -> Company | None:
        company_id = self.records.workspaces.get((platform, workspace_id))
        return self.records.companies.get(company_id) if company_id else None

    def simplybook_credentials(self, *, company_id: str) -> SimplyBookCredentials:
        return self.records.credentials[company_id]

    def company_with_credentials(
        self, *, company_id: str
    ) -> tuple[Company, SimplyBookCredentials | None]:
        company = self.company(company_id=company_id)
        credentials = self.records.credentials.get(company_id) if company.uses_simplybook else None
        return company, credentials

    def connect_simplybook(
        self, *, actor: Actor, login: str, api_key: str, api_secret: str, name: str, timezone: str
    ) -> tuple[Company, str]:
        existing = self.company_for_workspace(
            platform=actor.platform, workspace_id=actor.workspace_id
        )
        company_id = existing.id if existing else self.records.new_id("c")
        company = Company(
            company_id,
            login,
            name,
            timezone,
            existing is not None and existing.online_meetings_enabled,
        )
        self.records.companies[company_id] = company
        self.records.zone_pending.discard(company_id)
        self.records.workspaces[(actor.platform, actor.workspace_id)] = company_id
        self.records.credentials[company_id] = SimplyBookCredentials(login, api_key, api_secret)
        token = self.records.webhook_tokens.setdefault(company_id, f"hook-{company_id}")
        return company, token

    def start_company(self, *, actor: Actor, name: str, timezone: str = "UTC") -> Company:
        company = Company(self.records.new_id("c"), "", name, timezone, False)
        self.records.companies[company.id] = company
        self.records.zone_pending.add(company.id)
        self.records.workspaces[(actor.platform, actor.workspace_id)] = company.id
        return company

    def webhook_token(self, *, company_id: str) -> str:
        return self.records.webhook_tokens[company_id]

    def rename_company(self, *, company_id: str, name: str) -> None:
        self.records.companies[company_id] = replace(self.company(company_id=company_id), name=name)

    def adopt_timezone(self, *, company_id: str, timezone: str) -> bool:
        if company_id not in self.records.zone_pending:
            return False
        self.records.zone_pending.discard(company_id)
        company = self.company(company_id=company_id)
        self.records.companies[company_id] = replace(company, timezone=timezone)
        return True

    def set_online_meetings(self, *, company_id: str, enabled: bool) -> None:
        company = self.company(company_id=company_id)
        self.records.companies[company_id] = replace(company, online_meetings_enabled=enabled)

    def open_problems(self, *, company_id: str) -> list[str]:
        return list(self.records.problems.get(company_id, []))


class FakeCatalog:
    def __init__(self, records: Records) -> None:
        self.records = records

    def service(self, *, company_id: str, external_id: str) -> Service | None:
        return self.records.services.get((company_id, external_id))

    def provider(self, *, company_id: str, external_id: str) -> Provider | None:
        return self.records.providers.get((company_id, external_id))

    def booking_entries(
        self, *, company_id: str, service_id: str, provider_id: str
    ) -> BookingEntries:
        return BookingEntries(
            self.service(company_id=company_id, external_id=service_id),
            self.provider(company_id=company_id, external_id=provider_id),
            FakeZoomAccounts(self.records).zoom_account_id(company_id=company_id),
        )

    def services(self, *, company_id: str) -> list[Service]:
        return [item for (owner, _), item in self.records.services.items() if owner == company_id]

    def providers(self, *, company_id: str) -> list[Provider]:
        return [item for (owner, _), item in self.records.providers.items() if owner == company_id]

    def merge_catalog(
        self, *, company_id: str, services: list[CatalogEntry], providers: list[CatalogEntry]
    ) -> None:
        for entry in services:
            key = (company_id, entry.external_id)
            kept = self.records.services.get(key)
            self.records.services[key] = Service(
                company_id,
                entry.external_id,
                entry.name,
                kept.online_meetings if kept else False,
                entry.is_class,
            )
        for entry in providers:
            key = (company_id, entry.external_id)
            had = self.records.providers.get(key)
            self.records.providers[key] = (
                replace(had, name=entry.name, email=entry.email)
                if had
                else Provider(
                    company_id=company_id,
                    external_id=entry.external_id,
                    name=entry.name,
                    email=entry.email,
                    platform=None,  # chosen by an admin, as is everything below
                    zoom_user=None,
                    channel=None,
                )
            )

    def _set_provider(self, company_id: str, external_id: str, **changes: object) -> None:
        key = (company_id, external_id)
        self.records.providers[key] = replace(self.records.providers[key], **changes)  # type: ignore[arg-type]

    def set_service_online(self, *, company_id: str, external_id: str, enabled: bool) -> None:
        key = (company_id, external_id)
        self.records.services[key] = replace(self.records.services[key], online_meetings=enabled)

    def set_provider_zoom(self, *, company_id: str, external_id: str, zoom_user: str) -> None:
        self._set_provider(
            company_id, external_id, zoom_user=zoom_user, platform=MeetingPlatform.ZOOM
        )

    def set_provider_platform(
        self, *, company_id: str, external_id: str, platform: MeetingPlatform
    ) -> None:
        self._set_provider(company_id, external_id, platform=platform)

    def set_provider_channel(
        self, *, company_id: str, external_id: str, channel: ChatTarget
    ) -> None:
        self._set_provider(company_id, external_id, channel=channel)


class FakeStaff:
    def __init__(self, records: Records) -> None:
        self.records = records

    def staff_member(self, *, company_id: str, actor: Actor) -> StaffMember | None:
        return self.records.staff.get(_staff_key(company_id, actor))

    def staff(self, *, company_id: str) -> list[StaffMember]:
        return [member for key, member in self.records.staff.items() if key[0] == company_id]

    def _member(self, company_id: str, actor: Actor, user_id: str) -> StaffMember:
        colleague = replace(actor, user_id=user_id)
        return self.records.staff.get(
            _staff_key(company_id, colleague),
            StaffMember(company_id, actor.platform, actor.workspace_id, user_id, None, None),
        )

    def set_role(self, *, company_id: str, actor: Actor, user_id: str, role: str | None) -> None:
        member = replace(self._member(company_id, actor, user_id), role=role)
        self.records.staff[_staff_key(company_id, replace(actor, user_id=user_id))] = member

    def tie_staff(
        self, *, company_id: str, actor: Actor, user_id: str, provider_external_id: str
    ) -> None:
        member = self._member(company_id, actor, user_id)
        tied = replace(member, provider_external_id=provider_external_id)
        self.records.staff[_staff_key(company_id, replace(actor, user_id=user_id))] = tied

    def admin_targets(
        self, *, company_id: str, platform: ChatPlatform, workspace_id: str
    ) -> list[ChatTarget]:
        return [
            ChatTarget(platform, workspace_id, member.user_id)
            for member in self.staff(company_id=company_id)
            if member.role == "admin"
            and (member.platform, member.workspace_id) == (platform, workspace_id)
        ]


class FakeZoomAccounts:
    def __init__(self, records: Records) -> None:
        self.records = records

    def zoom_account_id(self, *, company_id: str) -> str | None:
        account = self.records.zoom_accounts.get(company_id)
        return account.zoom_account_id if account else None

    def zoom_account(self, *, company_id: str) -> ZoomAccount | None:
        return self.records.zoom_accounts.get(company_id)

    def save_zoom_account(
        self, *, company_id: str, connection: ZoomConnection, connected_by: str
    ) -> None:
        self.records.zoom_accounts[company_id] = ZoomAccount(
            self.records.new_id("z"),
            company_id,
            connection.zoom_account_id,
            AccountState.ACTIVE,
            connected_by=connected_by,
        )

    def disconnect_zoom(self, *, company_id: str) -> bool:
        return self.records.zoom_accounts.pop(company_id, None) is not None

    def zoom_account_elsewhere(self, *, company_id: str, zoom_account_id: str) -> bool:
        return any(
            account.zoom_account_id == zoom_account_id and owner != company_id
            for owner, account in self.records.zoom_accounts.items()
        )

    def drop_zoom_account(self, *, zoom_account_id: str) -> list[tuple[str, str]]:
        dropped = [
            (owner, account.connected_by)
            for owner, account in self.records.zoom_accounts.items()
            if account.zoom_account_id == zoom_account_id
        ]
        for owner, _ in dropped:
            del self.records.zoom_accounts[owner]
        return dropped


class FakeBookings:
    def __init__(self, records: Records) -> None:
        self.records = records

    def save_booking(
        self, *, company_id: str, details: BookingDetails, booking_hash: str = ""
    ) -> tuple[Booking, bool]:
        first = True
        for booking in self.records.bookings.values():
            if (booking.company_id, booking.details.external_id) == (
                company_id,
                details.external_id,
            ):
                problem = self.records.booking_problems.get(booking.id)
                saved, first = replace(booking, details=details, problem=problem), False
                break
        else:
            saved = Booking(self.records.new_id("b"), company_id, details)
        self.records.bookings[saved.id] = saved
        return saved, first

    def note_booking_problem(self, *, booking_id: str, problem: str | None) -> None:
        self.records.booking_problems[booking_id] = problem

    def meeting_id_for_booking(self, *, company_id: str, reference: str) -> str | None:
        for booking in self.records.bookings.values():
            if booking.company_id == company_id and reference in (
                booking.details.code,
                booking.details.external_id,
            ):
                return self.records.meeting_of_booking.get(booking.id)
        return None

    def hold_bookings_for_chat(
        self, *, company_id: str, platform: str, workspace_id: str, problem: str
    ) -> int:
        held = [b for b in self.records.bookings.values() if b.company_id == company_id]
        for booking in held:
            self.records.booking_problems[booking.id] = problem
        return len(held)

    def resync_blocked_bookings(self, *, company_id: str) -> int:
        blocked = [
            booking
            for booking in self.records.bookings.values()
            if booking.company_id == company_id and self.records.booking_problems.get(booking.id)
        ]
        for booking in blocked:
            self.records.queued_syncs.append((company_id, booking.details.external_id))
        return len(blocked)


class FakeMeetings:
    """Meetings with the intent-first life the database gives them (creating, then scheduled)."""

    def __init__(self, records: Records) -> None:
        self.records = records

    def _class_meeting(self, company_id: str, class_key: str | None) -> Meeting | None:
        if class_key is None:
            return None
        return next(
            (
                m
                for m in self.records.meetings.values()
                if (m.company_id, m.class_key) == (company_id, class_key)
                and m.state is not MeetingState.CANCELLED
            ),
            None,
        )

    def ensure_meeting(
        self,
        *,
        booking: Booking,
        host: MeetingHostRef,
        marker_prefix: str,
        class_key: str | None = None,
    ) -> tuple[Meeting, bool]:
        found = self.meeting_for_booking(booking=booking)
        if found is not None:
            return found, False
        token = self.records.client_tokens.setdefault(booking.id, self.records.new_id("tok-c"))
        shared = self._class_meeting(booking.company_id, class_key)
        if shared is not None:
            self.records.meeting_of_booking[booking.id] = shared.id
            self._take_seat(booking, token)
            return replace(shared, client_token=token), False
        meeting_id = self.records.new_id("meet")
        meeting = Meeting(
            id=meeting_id,
            company_id=booking.company_id,
            booking_id=booking.id,
            host=host,
            marker=f"{marker_prefix}-{meeting_id}",
            state=MeetingState.CREATING,
            start=booking.details.start,
            end=booking.details.end,
            external_id=None,
            join_url=None,
            client_token=token,
            host_token=self.records.new_id("tok-h"),
            class_key=class_key,
        )
        self.records.meetings[meeting_id] = meeting
        self.records.meeting_of_booking[booking.id] = meeting_id
        if class_key is not None:
            self._take_seat(booking, token)
        return meeting, True

    def _take_seat(self, booking: Booking, token: str) -> None:
        details = booking.details
        self.records.seats[booking.id] = Seat(
            booking_id=booking.id,
            booking_code=details.code,
            client_name=details.client_name,
            client_email=details.client_email,
            client_token=token,
            registrant_id=None,
            join_url=None,
            cancelled=False,
        )

    def _update(self, meeting_id: str, **changes: object) -> Meeting:
        meeting = replace(self.records.meetings[meeting_id], **changes)  # type: ignore[arg-type]
        self.records.meetings[meeting_id] = meeting
        return meeting

    def record_meeting_created(self, *, meeting: Meeting, created: PlatformMeeting) -> Meeting:
        return self._update(
            meeting.id,
            external_id=created.external_id,
            join_url=created.join_url,
            state=MeetingState.SCHEDULED,
        )

    def meeting_for_booking(self, *, booking: Booking) -> Meeting | None:
        meeting_id = self.records.meeting_of_booking.get(booking.id)
        if meeting_id is None:
            return None
        token = self.records.client_tokens[booking.id]
        return replace(self.records.meetings[meeting_id], client_token=token)

    def meeting_with_booking(
        self, *, company_id: str, meeting_id: str
    ) -> tuple[Meeting, Booking] | None:
        meeting = self.records.meetings.get(meeting_id)
        if meeting is None or meeting.company_id != company_id:
            return None
        return meeting, self.records.bookings[meeting.booking_id]

    def record_meeting_moved(self, *, meeting_id: str, start: datetime, end: datetime) -> Meeting:
        return self._update(meeting_id, start=start, end=end)

    def record_meeting_cancelled(self, *, meeting_id: str) -> Meeting:
        return self._update(meeting_id, state=MeetingState.CANCELLED)

    def restart_meeting(
        self, *, meeting_id: str, marker_prefix: str, start: datetime, end: datetime
    ) -> Meeting:
        return self._update(
            meeting_id,
            marker=f"{marker_prefix}-{self.records.new_id(meeting_id + '-')}",
            state=MeetingState.CREATING,
            start=start,
            end=end,
            external_id=None,
            join_url=None,
        )

    def meeting_to_start(self, *, company_id: str, meeting_id: str) -> tuple[Meeting, str] | None:
        found = self.meeting_with_booking(company_id=company_id, meeting_id=meeting_id)
        return (found[0], found[1].details.provider_id) if found else None

    def open_early(self, *, meeting_id: str) -> Meeting:
        return self._update(meeting_id, opened_at=self.records.clock.now())

    def schedule_reminder(self, *, meeting: Meeting, at: datetime) -> None:
        self.records.reminders.append((meeting.id, at))


class FakeSeats:
    def __init__(self, records: Records) -> None:
        self.records = records

    def seats(self, *, meeting: Meeting) -> list[Seat]:
        return [
            seat
            for booking_id, seat in self.records.seats.items()
            if self.records.meeting_of_booking.get(booking_id) == meeting.id
        ]

    def record_seat_registered(self, *, booking_id: str, registrant_id: str, join_url: str) -> None:
        seat = self.records.seats[booking_id]
        self.records.seats[booking_id] = replace(
            seat, registrant_id=registrant_id, join_url=join_url
        )

    def record_seat_cancelled(self, *, booking_id: str) -> int:
        seat = self.records.seats[booking_id]
        self.records.seats[booking_id] = replace(seat, cancelled=True)
        meeting_id = self.records.meeting_of_booking[booking_id]
        return sum(
            1
            for other, kept in self.records.seats.items()
            if self.records.meeting_of_booking.get(other) == meeting_id and not kept.cancelled
        )


class FakeCallbackInbox:
    """Accepted callbacks, each making sure one sync of its booking is pending."""

    def __init__(self, records: Records) -> None:
        self.records = records

    def companies_for_webhook_tokens(self, *, tokens: Collection[str]) -> dict[str, Company]:
        found = {}
        for company_id, known in self.records.webhook_tokens.items():
            company = self.records.companies.get(company_id)
            if known in tokens and company is not None:
                found[known] = company
        return found

    def record_callbacks(self, *, accepted: Sequence[AcceptedCallback]) -> None:
        for item in accepted:
            self.records.callbacks.append((item.company_id, item.callback, item.raw_body))
            pending = (item.company_id, item.callback.booking_id)
            if pending not in self.records.queued_syncs:
                self.records.queued_syncs.append(pending)


class FakeLinkStore:
    """What a client's or host's link token leads to; tests put the views in directly."""

    def __init__(self) -> None:
        self.client_views: dict[str, tuple[Meeting, BookingDetails, Company]] = {}
        self.host_meetings: dict[str, Meeting] = {}
        self.broken: BaseException | None = None  # raised by every lookup while set

    def client_view(self, *, token: str) -> tuple[Meeting, BookingDetails, Company] | None:
        if self.broken is not None:
            raise self.broken
        return self.client_views.get(token)

    def meeting_for_host_token(self, *, token: str) -> Meeting | None:
        if self.broken is not None:
            raise self.broken
        return self.host_meetings.get(token)


@dataclass
class RecordFakes:
    """Every record stand-in over one shared state, named as use cases' deps name them."""

    records: Records
    companies: FakeCompanies
    catalog: FakeCatalog
    staff: FakeStaff
    zoom_accounts: FakeZoomAccounts
    booking_records: FakeBookings
    meetings: FakeMeetings
    seats: FakeSeats
    callbacks: FakeCallbackInbox

    def named(self) -> dict[str, object]:
        """The stand-ins by the names use cases give their ports (for `build_deps`)."""
        return {
            "companies": self.companies,
            "catalog": self.catalog,
            "staff": self.staff,
            "zoom_accounts": self.zoom_accounts,
            "booking_records": self.booking_records,
            "meetings": self.meetings,
            "seats": self.seats,
        }


def record_fakes(clock: FakeClock | None = None) -> RecordFakes:
    records = Records(clock=clock or FakeClock())
    return RecordFakes(
        records,
        FakeCompanies(records),
        FakeCatalog(records),
        FakeStaff(records),
        FakeZoomAccounts(records),
        FakeBookings(records),
        FakeMeetings(records),
        FakeSeats(records),
        FakeCallbackInbox(records),
    )


# -- admin features -----------------------------------------------------------------------------


class FakeJobQueue:
    """Jobs in a list, claimed in order of their due time; what the worker did is kept."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.pending: list[tuple[datetime, Job]] = []
        self.running: dict[int, Job] = {}
        self.completed: list[tuple[Job, str | None]] = []
        self.buried: list[tuple[Job, str]] = []
        self.retried: list[tuple[Job, datetime, str, bool]] = []
        self.held: dict[str, int] = {}  # shared resource -> job id holding it
        self.lease_kept = True
        self.deferred: list[JobType] = []
        self.dedupe_keys: dict[int, str] = {}
        self._ids = itertools.count(1)

    def add(self, kind: str, payload: dict[str, str] | None = None, *, attempts: int = 0) -> Job:
        """Test set-up: a job due now (`attempts`: how often it was claimed before)."""
        job = Job(next(self._ids), kind, "c1", dict(payload or {}), attempts, "")
        self.pending.append((self.clock.now(), job))
        return job

    def defer(
        self, job: JobType, *, company_id: str | None = None, run_at: datetime | None = None
    ) -> None:
        """Queues `job`; while one with the same dedupe key is pending, that one is moved."""
        key, due = job.dedupe_key(company_id), run_at or self.clock.now()
        self.deferred.append(job)
        for index, (_, pending) in enumerate(self.pending):
            if self.dedupe_keys.get(pending.id) == key:
                self.pending[index] = (due, pending)
                return
        queued = Job(next(self._ids), job.kind, company_id, jobs.encode(job), 0, "")
        self.dedupe_keys[queued.id] = key
        self.pending.append((due, queued))

    def claim(self, *, worker_id: str, lease_seconds: float) -> Job | None:
        due = [item for item in self.pending if item[0] <= self.clock.now()]
        if not due:
            return None
        self.pending.remove(due[0])
        job = replace(due[0][1], attempts=due[0][1].attempts + 1, worker_id=worker_id)
        self.running[job.id] = job
        return job

    def extend_lease(self, *, job: Job, lease_seconds: float) -> bool:
        return self.lease_kept

    def hold(self, *, job: Job, key: str) -> bool:
        return self.held.setdefault(key, job.id) == job.id

    def complete(self, *, job: Job, note: str | None = None) -> None:
        self.running.pop(job.id, None)
        self.completed.append((job, note))

    def retry(self, *, job: Job, run_at: datetime, error: str, counted: bool = True) -> None:
        self.running.pop(job.id, None)
        self.retried.append((job, run_at, error, counted))
        again = job if counted else replace(job, attempts=job.attempts - 1)
        self.pending.append((run_at, again))

    def bury(self, *, job: Job, error: str) -> None:
        self.running.pop(job.id, None)
        self.buried.append((job, error))

    def counts(self) -> Mapping[str, int]:
        return {
            "pending": len(self.pending),
            "running": len(self.running),
            "done": len(self.completed),
            "dead": len(self.buried),
        }


@dataclass
class _IssuedState:
    purpose: str
    state: SignInState
    expires: datetime
    browser_nonce: str


class FakeOAuthStates:
    """Single-use sign-in states that expire by the fake clock."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.issued: dict[str, _IssuedState] = {}
        self._ids = itertools.count(1)

    def issue(
        self,
        *,
        purpose: str,
        company_id: str | None,
        actor: Actor,
        ttl_seconds: float,
        browser_nonce: str = "",
        payload: str = "",
    ) -> str:
        value = f"state-{next(self._ids)}"
        expires = self.clock.now() + timedelta(seconds=ttl_seconds)
        issued = _IssuedState(
            purpose, SignInState(company_id, actor, payload), expires, browser_nonce
        )
        self.issued[value] = issued
        return value

    def peek(self, *, purpose: str, state: str) -> SignInState | None:
        issued = self.issued.get(state)
        if issued is None or issued.purpose != purpose or issued.expires <= self.clock.now():
            return None
        return issued.state

    def take(self, *, purpose: str, state: str) -> SignInState | None:
        found = self.peek(purpose=purpose, state=state)
        if found is not None:
            del self.issued[state]
        return found

    def take_bound(
        self, *, purpose: str, state: str, browser_nonce: str
    ) -> SignInState | StateProblem:
        issued = self.issued.get(state)
        if self.peek(purpose=purpose, state=state) is None or issued is None:
            return StateProblem.EXPIRED
        if issued.browser_nonce != browser_nonce:
            return StateProblem.OTHER_BROWSER
        del self.issued[state]
        return issued.state

    def take_for(self, *, purpose: str, state: str, actor: Actor) -> SignInState | None:
        found = self.peek(purpose=purpose, state=state)
        if found is None or found.actor != actor:
            return None
        del self.issued[state]
        return found

    def consume(self, *, purpose: str, state: str) -> tuple[str | None, Actor] | None:
        found = self.take(purpose=purpose, state=state)
        return (found.company_id, found.actor) if found else None


class FakeAlertStore:
    """Alerts by id; one open alert per (company, kind, subject), as the real store keeps it."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.alerts: dict[str, Alert] = {}
        self._ids = itertools.count(1)

    def _open(self, company_id: str, kind: AlertKind, subject: str | None) -> list[Alert]:
        return [
            alert
            for alert in self.alerts.values()
            if (alert.company_id, alert.spec.kind) == (company_id, kind)
            and subject in (None, alert.spec.subject)
            and alert.resolved_at is None
        ]

    def raise_alert(self, *, company_id: str, spec: AlertSpec, booking: str = "") -> bool:
        already = self._open(company_id, spec.kind, spec.subject)
        if already:
            alert = already[0]
            if booking and booking not in alert.bookings:
                self.alerts[alert.id] = replace(alert, bookings=(*alert.bookings, booking))
            return False
        alert_id = f"a{next(self._ids)}"
        bookings = (booking,) if booking else ()
        self.alerts[alert_id] = Alert(alert_id, company_id, spec, bookings, self.clock.now())
        return True

    def resolve(
        self, *, company_id: str, kind: AlertKind, subject: str | None = None, resolution: str
    ) -> int:
        closing = self._open(company_id, kind, subject)
        for alert in closing:
            self.alerts[alert.id] = replace(
                alert, resolved_at=self.clock.now(), resolution=resolution
            )
        return len(closing)

    def alert(self, *, company_id: str, alert_id: str) -> Alert | None:
        alert = self.alerts.get(alert_id)
        return alert if alert is not None and alert.company_id == company_id else None

    def open_alerts(self, *, company_id: str) -> list[Alert]:
        return [
            alert
            for alert in self.alerts.values()
            if alert.company_id == company_id and alert.resolved_at is None
        ]


class FakeOutbox:
    """The outbox's records: each chat message as intended (with its marker), then as posted;
    and who the company's admins are."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.inboxes: dict[str, list[ChatTarget]] = {}  # company id -> its admins
        self.entries: dict[tuple[str, ...], OutboxEntry] = {}
        self._ids = itertools.count(1)

    def admin_inboxes(self, *, company_id: str) -> list[ChatTarget]:
        return list(self.inboxes.get(company_id, []))

    def meeting_messages(self, *, meeting: Meeting) -> list[OutboxEntry]:
        return [entry for entry in self.entries.values() if entry.meeting_id == meeting.id]

    def ensure_meeting_message(
        self, *, meeting: Meeting, target: ChatTarget
    ) -> tuple[OutboxEntry, bool]:
        return self._ensure(("meeting", meeting.id, *astuple(target)), target, meeting.id)

    def ensure_message(
        self, *, company_id: str, key: str, target: ChatTarget
    ) -> tuple[OutboxEntry, bool]:
        return self._ensure(("once", company_id, key, *astuple(target)), target, None)

    def _ensure(
        self, key: tuple[str, ...], target: ChatTarget, meeting_id: str | None
    ) -> tuple[OutboxEntry, bool]:
        if key in self.entries:
            return self.entries[key], False
        entry_id = f"out{next(self._ids)}"
        self.entries[key] = OutboxEntry(
            id=entry_id,
            target=target,
            marker=f"meetbot-out-{entry_id}",
            state=NotificationState.POSTING,
            message_id=None,
            digest=None,
            started_at=self.clock.now(),
            meeting_id=meeting_id,
        )
        return self.entries[key], True

    def record_posted(self, *, entry: OutboxEntry, posted: PostedMessage, digest: str) -> None:
        self._replace(
            entry, state=NotificationState.POSTED, message_id=posted.message_id, digest=digest
        )

    def record_edited(self, *, entry: OutboxEntry, digest: str) -> None:
        self._replace(entry, digest=digest)

    def forget_post(self, entry: OutboxEntry) -> None:
        """As if the job stopped after posting, before recording it."""
        self._replace(entry, state=NotificationState.POSTING, message_id=None, digest=None)

    def _replace(self, entry: OutboxEntry, **changes: Any) -> None:
        [key] = [key for key, kept in self.entries.items() if kept.id == entry.id]
        self.entries[key] = replace(self.entries[key], **changes)


class FakeAdminRecords:
    """The audit trail, the report's rows and the digest's schedule."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.entries: dict[str, list[AuditEntry]] = {}
        self.rows: dict[str, list[ReportRow]] = {}
        self.digests: dict[str, DigestSettings] = {}

    def record(self, *, company_id: str, actor: str, action: str, detail: str = "") -> None:
        entry = AuditEntry(self.clock.now(), actor, action, detail)
        self.entries.setdefault(company_id, []).append(entry)

    def latest(self, *, company_id: str, limit: int = 20) -> list[AuditEntry]:
        return list(reversed(self.entries.get(company_id, [])))[:limit]

    def report_rows(self, *, company_id: str, start: datetime, end: datetime) -> list[ReportRow]:
        return [row for row in self.rows.get(company_id, []) if start <= row.start < end]

    def digest_settings(self, *, company_id: str) -> DigestSettings:
        return self.digests.get(company_id, DigestSettings())

    def set_digest(self, *, company_id: str, enabled: bool, hour: int | None = None) -> None:
        settings = self.digest_settings(company_id=company_id)
        self.digests[company_id] = replace(
            settings, enabled=enabled, hour=settings.hour if hour is None else hour
        )

    def claim_digest(self, *, company_id: str, local_date: str) -> bool:
        settings = self.digest_settings(company_id=company_id)
        if settings.last_sent_on == local_date:
            return False
        self.digests[company_id] = replace(settings, last_sent_on=local_date)
        return True


class FakeTemplateStore:
    def __init__(self) -> None:
        self.saved: dict[str, list[MessageTemplate]] = {}

    def templates(self, *, company_id: str) -> list[MessageTemplate]:
        return list(self.saved.get(company_id, []))

    def save_template(self, *, company_id: str, template: MessageTemplate, actor: str) -> None:
        self.reset_template(
            company_id=company_id,
            kind=template.kind,
            scope=template.scope,
            scope_id=template.scope_id,
        )
        self.saved.setdefault(company_id, []).append(template)

    def reset_template(
        self, *, company_id: str, kind: TemplateKind, scope: TemplateScope, scope_id: str
    ) -> bool:
        kept = [
            template
            for template in self.saved.get(company_id, [])
            if (template.kind, template.scope, template.scope_id) != (kind, scope, scope_id)
        ]
        removed = len(kept) != len(self.saved.get(company_id, []))
        self.saved[company_id] = kept
        return removed


class FakeTeamsAccounts:
    def __init__(self) -> None:
        self.saved: dict[tuple[str, str], MsAccount] = {}  # (company, provider or "")

    def account(self, *, company_id: str, provider_external_id: str = "") -> MsAccount | None:
        return self.saved.get((company_id, provider_external_id))

    def accounts(self, *, company_id: str) -> list[MsAccount]:
        return [account for (owner, _), account in self.saved.items() if owner == company_id]

    def save_account(self, *, connection: MsConnection, connected_by: str = "") -> MsAccount:
        account = MsAccount(
            f"ms{len(self.saved) + 1}",
            connection.company_id,
            connection.provider_external_id,
            connection.tenant_id,
            connection.object_id,
            connection.username,
            connection.display_name,
            connection.home_account_id,
            AccountState.ACTIVE,
            connected_by=connected_by,
        )
        self.saved[(connection.company_id, connection.provider_external_id)] = account
        return account

    def disconnect(self, *, company_id: str, provider_external_id: str = "") -> bool:
        return self.saved.pop((company_id, provider_external_id), None) is not None

    def linked_elsewhere(self, *, company_id: str, tenant_id: str, object_id: str) -> bool:
        return any(
            (account.tenant_id, account.object_id) == (tenant_id, object_id) and owner != company_id
            for (owner, _), account in self.saved.items()
        )


# -- the chat app's Home ------------------------------------------------------------------------


class FakeHomeRecords:
    """Who opened Home, and the meetings it lists, read from the shared records as the database
    would join them (a meeting through the booking it was made for)."""

    def __init__(self, records: Records) -> None:
        self.records = records
        self.viewers_by_company: dict[str, dict[tuple[str, str, str], HomeViewer]] = {}

    def remember_viewer(self, *, company_id: str, viewer: Actor) -> None:
        known = self.viewers_by_company.setdefault(company_id, {})
        key = (viewer.platform.value, viewer.workspace_id, viewer.user_id)
        digest = known[key].digest if key in known else ""
        known[key] = HomeViewer(viewer, digest)

    def viewers(self, *, company_id: str) -> list[HomeViewer]:
        return list(self.viewers_by_company.get(company_id, {}).values())

    def record_published(self, *, company_id: str, viewer: Actor, digest: str) -> None:
        known = self.viewers_by_company.get(company_id, {})
        key = (viewer.platform.value, viewer.workspace_id, viewer.user_id)
        if key in known:
            known[key] = HomeViewer(viewer, digest)

    def upcoming(
        self, *, company_id: str, provider_external_id: str, since: datetime, limit: int
    ) -> list[UpcomingMeeting]:
        found = []
        for meeting in self.records.meetings.values():
            booking = self.records.bookings.get(meeting.booking_id)
            if (
                booking is None
                or meeting.company_id != company_id
                or booking.details.provider_id != provider_external_id
                or meeting.state is not MeetingState.SCHEDULED
                or meeting.end <= since
            ):
                continue
            found.append(_upcoming(meeting, booking))
        return sorted(found, key=lambda meeting: (meeting.start, meeting.meeting_id))[:limit]


def _upcoming(meeting: Meeting, booking: Booking) -> UpcomingMeeting:
    is_class = meeting.class_key is not None
    return UpcomingMeeting(
        meeting_id=meeting.id,
        start=meeting.start,
        end=meeting.end,
        service=booking.details.service_name,
        client="" if is_class else booking.details.client_name,
        is_class=is_class,
        payment_pending=not is_class and booking.details.payment is PaymentState.PENDING,
        opened_early=meeting.opened_at is not None,
        host_token=meeting.host_token,
    )


class FakeHomePublisher(Failing):
    """The chat app's Home: the view each user was last shown, and every publication in order."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[tuple[str, str, HomeView]] = []
        self.workspace_admins: set[tuple[str, str]] = set()  # (workspace, user) the platform says
        self.admin_checks: list[tuple[str, str]] = []

    async def publish_home(self, *, workspace_id: str, user_id: str, view: HomeView) -> None:
        self._maybe_fail()
        self.published.append((workspace_id, user_id, view))

    async def is_workspace_admin(self, *, workspace_id: str, user_id: str) -> bool:
        self._maybe_fail()
        self.admin_checks.append((workspace_id, user_id))
        return (workspace_id, user_id) in self.workspace_admins

    def shown(self, workspace_id: str, user_id: str) -> HomeView | None:
        views = [view for ws, user, view in self.published if (ws, user) == (workspace_id, user_id)]
        return views[-1] if views else None


class FakeBookingWebhooks:
    """Generic booking sources in memory: one per company, events kept, the highest sequence of
    each booking applied, and the syncs that applying queued."""

    def __init__(self) -> None:
        self.sources: dict[str, WebhookSource] = {}
        self.events: list[BookingEvent] = []
        self.states: dict[tuple[str, str], BookingEvent] = {}
        self.queued_syncs: list[tuple[str, str]] = []
        self.ids = itertools.count(1)

    def source(self, *, source_id: str) -> WebhookSource | None:
        return self.sources.get(source_id)

    def record_event(
        self, *, source: WebhookSource, event: BookingEvent, raw_body: str
    ) -> EventOutcome:
        if any(kept.webhook_id == event.webhook_id for kept in self.events):
            return EventOutcome.DUPLICATE
        self.events.append(event)
        key = (source.id, event.details.external_id)
        applied = self.states.get(key)
        if applied is not None and applied.sequence >= event.sequence:
            return EventOutcome.STALE
        self.states[key] = event
        self.queued_syncs.append(
            (source.company_id, in_namespace(source.id, event.details.external_id))
        )
        return EventOutcome.APPLIED

    def latest_event(
        self, *, company_id: str, source_id: str, booking_id: str
    ) -> BookingEvent | None:
        source = self.sources.get(source_id)
        if source is None or source.company_id != company_id:
            return None
        return self.states.get((source_id, booking_id))

    def company_source(self, *, company_id: str) -> WebhookSource | None:
        return next((s for s in self.sources.values() if s.company_id == company_id), None)

    def connect(self, *, company_id: str) -> tuple[WebhookSource, str]:
        if self.company_source(company_id=company_id) is not None:
            raise AlreadyConnected("This company already has a booking webhook.")
        secret = f"whsec_secret{next(self.ids)}"
        source = WebhookSource(f"src{next(self.ids)}", company_id, (secret,))
        self.sources[source.id] = source
        return source, secret

    def disconnect(self, *, company_id: str) -> bool:
        source = self.company_source(company_id=company_id)
        return source is not None and self.sources.pop(source.id, None) is not None

    def rotate(self, *, company_id: str) -> str:
        source = self._known(company_id)
        secret = f"whsec_secret{next(self.ids)}"
        self.sources[source.id] = replace(source, secrets=(secret, *source.secrets))
        return secret

    def retire_old(self, *, company_id: str) -> int:
        source = self._known(company_id)
        self.sources[source.id] = replace(source, secrets=source.secrets[:1])
        return len(source.secrets) - 1

    def _known(self, company_id: str) -> WebhookSource:
        source = self.company_source(company_id=company_id)
        if source is None:
            raise NotFound("no booking webhook")
        return source
