"""The meeting accounts a company connects (Zoom, Microsoft) and what their sign-ins give."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.domain.platforms import Actor


class AccountState(StrEnum):
    ACTIVE = "active"
    NEEDS_RECONNECT = "needs_reconnect"


@dataclass(frozen=True, slots=True)
class ZoomAccount:
    id: str
    company_id: str
    zoom_account_id: str
    state: AccountState
    state_reason: str = ""
    connected_by: str = ""


@dataclass(frozen=True, slots=True)
class ZoomConnection:
    """What Zoom's OAuth gave for an authorisation code; tokens stay out of repr."""

    zoom_account_id: str
    user_id: str
    email: str
    access_token: str
    refresh_token: str
    expires_in: int

    def __repr__(self) -> str:
        return f"ZoomConnection(zoom_account_id={self.zoom_account_id!r}, email={self.email!r})"


@dataclass(frozen=True, slots=True)
class PlatformUser:
    """A user of a connected meeting account who can host meetings."""

    id: str
    email: str
    name: str


@dataclass(frozen=True, slots=True)
class MsAccount:
    """A Microsoft work account that hosts Teams meetings: the company's or a provider's own."""

    id: str
    company_id: str
    provider_external_id: str  # "" = the company's own account
    tenant_id: str
    object_id: str
    username: str
    display_name: str
    home_account_id: str
    state: AccountState
    state_reason: str = ""
    connected_by: str = ""


@dataclass(frozen=True, slots=True)
class MsConnection:
    """A completed sign-in: who signed in, for which company and provider, and msal's cache."""

    company_id: str
    provider_external_id: str  # "" = the company's own account
    actor: Actor
    tenant_id: str
    object_id: str
    username: str
    display_name: str
    home_account_id: str
    token_cache: str

    def __repr__(self) -> str:  # the cache holds refresh tokens
        return (
            f"MsConnection(company_id={self.company_id!r}, "
            f"provider_external_id={self.provider_external_id!r}, username={self.username!r})"
        )


@dataclass(frozen=True, slots=True)
class MsConnectRefused:
    """Why nothing was connected, in words for the person who tried."""

    kind: str  # why, as a short name (personal_account, other_organisation, expired, ...)
    reason: str
    company_id: str | None = None
    provider_external_id: str = ""
    actor: Actor | None = None
