"""A company: its booking-system login, its catalog of services and providers, and its staff."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.platforms import ChatPlatform, ChatTarget, MeetingPlatform


@dataclass(frozen=True, slots=True)
class SimplyBookCredentials:
    company_login: str
    api_key: str
    api_secret: str

    def __repr__(self) -> str:  # keeps secrets out of tracebacks and logs
        return f"SimplyBookCredentials(company_login={self.company_login!r}, ...)"


@dataclass(frozen=True, slots=True)
class Company:
    id: str
    simplybook_login: str
    name: str
    timezone: str
    online_meetings_enabled: bool
    open_minutes_before: int = 10


@dataclass(frozen=True, slots=True)
class CompanyInfo:
    login: str
    name: str
    timezone: str


@dataclass(frozen=True, slots=True)
class DigestSettings:
    enabled: bool = True
    hour: int = 8  # local hour in the company's time zone
    last_sent_on: str = ""  # the company-local date of the last digest (YYYY-MM-DD)


@dataclass(frozen=True, slots=True)
class Service:
    company_id: str
    external_id: str
    name: str
    online_meetings: bool
    is_class: bool = False


@dataclass(frozen=True, slots=True)
class Provider:
    company_id: str
    external_id: str
    name: str
    email: str
    platform: MeetingPlatform | None
    zoom_user: str | None
    channel: ChatTarget | None


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """A service or provider as the booking system lists it."""

    external_id: str
    name: str
    email: str = ""
    is_class: bool = False


@dataclass(frozen=True, slots=True)
class StaffMember:
    company_id: str
    platform: ChatPlatform
    workspace_id: str
    user_id: str
    role: str | None
    provider_external_id: str | None
