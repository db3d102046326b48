"""Who hosts a booking's meeting: the provider's Zoom user, or a Microsoft account for Teams.

A provider without a usable host holds the booking (`NeedsAttention`) and tells the admins what
to choose; choosing it re-queues the booking.
"""

from __future__ import annotations

from bot.domain import AccountState, Company, MeetingHostRef, MeetingPlatform, Provider
from bot.usecases import alerts
from bot.usecases.sync_deps import NeedsAttention, SyncDeps


def meeting_host(
    deps: SyncDeps, company: Company, provider: Provider, zoom_account_id: str | None
) -> MeetingHostRef:
    """`zoom_account_id`: the company's connected Zoom account, read with the provider."""
    name, provider_id = provider.name, provider.external_id
    if provider.platform is None:
        raise NeedsAttention(
            f"provider {name!r} has no meeting platform chosen",
            alerts.provider_unmapped(name, provider_id, "no meeting platform is chosen for them"),
        )
    if provider.platform is MeetingPlatform.TEAMS:
        return _teams_host(deps, company, provider)
    if zoom_account_id is None:
        raise NeedsAttention(
            "no Zoom account is connected for this company",
            alerts.zoom_revoked("no Zoom account is connected"),
        )
    if not provider.zoom_user:
        raise NeedsAttention(
            f"provider {name!r} has no Zoom host user chosen",
            alerts.provider_unmapped(name, provider_id, "no Zoom host user is chosen for them"),
        )
    return MeetingHostRef(MeetingPlatform.ZOOM, zoom_account_id, provider.zoom_user)


def _teams_host(deps: SyncDeps, company: Company, provider: Provider) -> MeetingHostRef:
    """The provider's own Microsoft account when connected, else the company's (S10)."""
    accounts = deps.teams_accounts
    if accounts is None:
        raise NeedsAttention(
            f"provider {provider.name!r} is set to Microsoft Teams, which is not set up on this server",
            alerts.provider_unmapped(
                provider.name, provider.external_id, "Microsoft Teams is not set up on this server"
            ),
        )
    own = accounts.account(company_id=company.id, provider_external_id=provider.external_id)
    usable = [a for a in (own, accounts.account(company_id=company.id)) if a is not None]
    active = [a for a in usable if a.state is AccountState.ACTIVE]
    if not active:
        reason = (
            f"the Microsoft account needs reconnecting ({usable[0].state_reason or usable[0].state})"
            if usable
            else "no Microsoft account is connected for Teams meetings"
        )
        raise NeedsAttention(reason, alerts.teams_revoked(reason))
    host = active[0]
    return MeetingHostRef(MeetingPlatform.TEAMS, host.id, host.object_id)
