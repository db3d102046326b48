"""The `/meetings` commands as values: what the grammar reads a line into, and the roles.

Each command is a small frozen dataclass; `Command` is their union. `MAX_COMMAND_CHARS` bounds
what the grammar reads at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    SENIOR = "senior"
    JUNIOR = "junior"

    @property
    def rank(self) -> int:
        return {Role.ADMIN: 3, Role.SENIOR: 2, Role.JUNIOR: 1}[self]


@dataclass(frozen=True, slots=True)
class Mention:
    id: str
    label: str = ""

    def display(self, sigil: str) -> str:
        return f"{sigil}{self.label or self.id}"


# Room for the longest template (2,000 characters) with its scope words and some spacing.
MAX_COMMAND_CHARS = 4000


@dataclass(frozen=True, slots=True)
class Help:
    unknown: str = ""  # what was typed, when it was not a command


@dataclass(frozen=True, slots=True)
class Status:
    pass


@dataclass(frozen=True, slots=True)
class Connect:
    target: str  # simplybook | zoom | teams | webhook


@dataclass(frozen=True, slots=True)
class Disconnect:
    target: str  # zoom | teams | webhook


@dataclass(frozen=True, slots=True)
class SetFeature:
    enabled: bool


@dataclass(frozen=True, slots=True)
class ListServices:
    pass


@dataclass(frozen=True, slots=True)
class SetService:
    name: str
    enabled: bool


@dataclass(frozen=True, slots=True)
class ListProviders:
    pass


@dataclass(frozen=True, slots=True)
class ProviderZoom:
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class ProviderTeams:
    name: str


@dataclass(frozen=True, slots=True)
class ProviderChannel:
    name: str
    channel: Mention | None  # None: "this channel" (where the command was typed)


@dataclass(frozen=True, slots=True)
class ProviderStaff:
    name: str
    user: Mention


@dataclass(frozen=True, slots=True)
class SetRole:
    user: Mention
    role: Role | None  # None removes the role


@dataclass(frozen=True, slots=True)
class StartMeeting:
    booking: str  # the booking's code or number, as SimplyBook.me shows it


@dataclass(frozen=True, slots=True)
class Report:
    """Dates as typed (YYYY-MM-DD, today, tomorrow, yesterday); the use case reads them in the
    company's time zone."""

    start: str = ""
    end: str = ""
    service: str = ""
    provider: str = ""


@dataclass(frozen=True, slots=True)
class Audit:
    pass


@dataclass(frozen=True, slots=True)
class SetDigest:
    enabled: bool
    hour: int | None = None


@dataclass(frozen=True, slots=True)
class TemplateCommand:
    """`template` shows; `template KIND [service NAME | provider NAME] : TEXT` sets; `... reset`."""

    action: str  # show | set | reset
    kind: str = ""  # provider | client
    scope: str = "company"  # company | service | provider
    name: str = ""  # the service's or provider's name as typed
    body: str = ""


@dataclass(frozen=True, slots=True)
class NameCompany:
    name: str  # the business's name, as clients' pages and chat show it


@dataclass(frozen=True, slots=True)
class WebhookSecret:
    action: str  # rotate | retire-old


@dataclass(frozen=True, slots=True)
class TooLong:
    """More text than any command needs: answered without being parsed."""

    length: int


@dataclass(frozen=True, slots=True)
class Invalid:
    """The command exists but was typed wrong: what is wrong, and how to type it."""

    problem: str
    usage: str


Command = (
    Help
    | Status
    | Connect
    | Disconnect
    | SetFeature
    | ListServices
    | SetService
    | ListProviders
    | ProviderZoom
    | ProviderTeams
    | ProviderChannel
    | ProviderStaff
    | SetRole
    | StartMeeting
    | Report
    | Audit
    | SetDigest
    | TemplateCommand
    | WebhookSecret
    | NameCompany
    | TooLong
    | Invalid
)
