"""What the `/meetings` commands and buttons need, bound by the composition root.

Records come through the narrow ports, one field per aggregate; `audit` writes who changed what.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.clock import Clock, SystemClock
from bot.domain import Actor, AlertKind
from bot.ports import (
    AdminRecords,
    AlertStore,
    Bookings,
    BookingSource,
    BookingWebhooks,
    Catalog,
    ChatSender,
    Companies,
    Meetings,
    OAuthStates,
    Staff,
    TeamsAccounts,
    TeamsSignIn,
    TemplateStore,
    ZoomAccounts,
    ZoomDirectory,
)
from bot.urls import PublicUrls


@dataclass(frozen=True)
class AdminDeps:
    companies: Companies
    catalog: Catalog
    staff: Staff
    zoom_accounts: ZoomAccounts
    booking_records: Bookings
    meetings: Meetings
    bookings: BookingSource  # SimplyBook.me's API
    zoom: ZoomDirectory
    states: OAuthStates
    zoom_authorize_url: Callable[[str], str]
    urls: PublicUrls
    alerts: AlertStore
    records: AdminRecords
    requeue: Callable[[str, int], bool]  # (company id, job id): a dead job runs again
    templates: TemplateStore
    chats: dict[Any, ChatSender] = field(default_factory=dict)
    clock: Clock = field(default_factory=SystemClock)
    teams_accounts: TeamsAccounts | None = None  # None: Microsoft Teams is not configured here
    teams_sign_in: TeamsSignIn | None = None
    booking_webhooks: BookingWebhooks | None = None  # generic booking sources (None: not served)

    def audit(self, company_id: str, actor: Actor, action: str, detail: str = "") -> None:
        self.records.record(
            company_id=company_id, actor=actor_key(actor), action=action, detail=detail
        )


def actor_key(actor: Actor) -> str:
    return f"{actor.platform.value}:{actor.workspace_id}:{actor.user_id}"


def resumed(deps: AdminDeps, company_id: str) -> str:
    """Re-queues bookings that were waiting for set-up; says so when there were any."""
    count = deps.booking_records.resync_blocked_bookings(company_id=company_id)
    return (
        f"\n\n{count} upcoming booking(s) that were waiting for this are being set up now."
        if count
        else ""
    )


def problem_solved(
    deps: AdminDeps, company_id: str, kind: AlertKind, subject: str, resolution: str
) -> str:
    """What an alert asked for is done: the alert is resolved (the admins hear how) and the
    bookings that waited for it are set up; returns the sentence that says so, if any."""
    deps.alerts.resolve(company_id=company_id, kind=kind, subject=subject, resolution=resolution)
    return resumed(deps, company_id)


def callback_url(deps: AdminDeps, company_id: str) -> str:
    return deps.urls.simplybook_callback(deps.companies.webhook_token(company_id=company_id))
