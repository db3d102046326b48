"""The company's set-up as facts: one builder for `status` and for an admin's Home, so the two
never tell it differently (which booking source, which accounts, which services)."""

from __future__ import annotations

from typing import Protocol

from bot.domain import AccountState, Company, MsAccount, ZoomAccount
from bot.messages import Fact
from bot.ports import BookingWebhooks, Catalog, TeamsAccounts, ZoomAccounts
from bot.urls import PublicUrls


class SetupSources(Protocol):
    """What the facts are read from; the command deps and the Home deps both have it."""

    @property
    def catalog(self) -> Catalog: ...

    @property
    def zoom_accounts(self) -> ZoomAccounts: ...

    @property
    def teams_accounts(self) -> TeamsAccounts | None: ...  # None: Teams is not served here

    @property
    def booking_webhooks(self) -> BookingWebhooks | None: ...  # None: the webhook is not served

    @property
    def urls(self) -> PublicUrls: ...


def setup_facts(sources: SetupSources, company: Company) -> tuple[Fact, ...]:
    teams = sources.teams_accounts
    return (
        Fact("Online meetings", "on" if company.online_meetings_enabled else "off"),
        Fact("SimplyBook.me", simplybook_text(company)),
        *webhook_facts(sources, company),
        Fact("Zoom", zoom_text(sources.zoom_accounts.zoom_account(company_id=company.id))),
        *(
            (Fact("Microsoft Teams", teams_text(teams.account(company_id=company.id))),)
            if teams is not None
            else ()
        ),
        Fact("Services with online meetings", _services_text(sources, company)),
    )


def simplybook_text(company: Company) -> str:
    if not company.uses_simplybook:
        return "not connected (bookings come from the booking webhook)"
    return f"connected as {company.simplybook_login} ({company.timezone})"


def webhook_facts(sources: SetupSources, company: Company) -> tuple[Fact, ...]:
    webhooks = sources.booking_webhooks
    source = webhooks.company_source(company_id=company.id) if webhooks else None
    if source is None:
        return ()
    secrets = len(source.secrets)
    rotating = f", {secrets} secrets valid while rotating" if secrets > 1 else ""
    url = sources.urls.booking_webhook(source.id)
    return (Fact("Booking webhook", f"connected ({url}{rotating})"),)


def zoom_text(zoom: ZoomAccount | None) -> str:
    if zoom is None:
        return "not connected"
    state = (
        "connected"
        if zoom.state is AccountState.ACTIVE
        else f"needs reconnecting: {zoom.state_reason}"
    )
    return f"{state} (account {zoom.zoom_account_id})"


def teams_text(account: MsAccount | None) -> str:
    if account is None:
        return "not connected"
    if account.state is not AccountState.ACTIVE:
        return f"{account.username}: needs reconnecting ({account.state_reason or account.state})"
    return f"connected as {account.username}"


def _services_text(sources: SetupSources, company: Company) -> str:
    services = sources.catalog.services(company_id=company.id)
    online = [service.name for service in services if service.online_meetings]
    return ", ".join(online) or "none yet"
