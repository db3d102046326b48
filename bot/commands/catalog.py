"""Services and providers: list them, turn meetings on per service, and set up each provider's
meeting host (Zoom user or Microsoft Teams) and bookings channel.

Names are matched forgivingly (`bot.matching`); when nothing is known yet the catalogue is read
from SimplyBook.me first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from bot.commands.deps import AdminDeps, problem_solved
from bot.commands.kinds import (
    ListProviders,
    ListServices,
    ProviderChannel,
    ProviderStaff,
    ProviderTeams,
    ProviderZoom,
    SetService,
)
from bot.commands.reply import Reply, say
from bot.domain import (
    AccountState,
    Actor,
    AlertKind,
    ChatTarget,
    Company,
    MeetingPlatform,
    MsAccount,
    Provider,
    Service,
)
from bot.errors import MeetbotError
from bot.matching import explain_miss, find_by_name
from bot.messages import ChatMessage, Fact
from bot.usecases.booking_state import simplybook_credentials

Named = TypeVar("Named", Service, Provider)
UNMAPPED = AlertKind.PROVIDER_UNMAPPED  # solved once the provider has a meeting host

TEAMS_NOT_CONFIGURED = say(
    "Microsoft Teams is not set up on this server",
    "Whoever runs meetbot must register it with Microsoft first (MEETBOT_MS_CLIENT_ID and "
    "MEETBOT_MS_CLIENT_SECRET). Zoom works meanwhile.",
)


async def refresh_catalog(deps: AdminDeps, company: Company) -> None:
    if not company.uses_simplybook:
        return  # a generic source's services and providers arrive with its events
    credentials = simplybook_credentials(deps.companies, company)
    deps.catalog.merge_catalog(
        company_id=company.id,
        services=await deps.bookings.services(credentials=credentials),
        providers=await deps.bookings.providers(credentials=credentials),
    )


async def _find_named(
    deps: AdminDeps, company: Company, name: str, kind: str, listed: Callable[[], Sequence[Named]]
) -> Named | str:
    """The service or provider meant by `name`, or a plain explanation (with suggestions)."""
    items = listed()
    match = find_by_name(name, items, lambda item: item.name)
    if match.found is None and not items:  # nothing known yet: the booking system may list them
        await refresh_catalog(deps, company)
        items = listed()
        match = find_by_name(name, items, lambda item: item.name)
    return match.found or explain_miss(kind, name, match, f"/meetings {kind}s")  # type: ignore[arg-type]


async def find_service(deps: AdminDeps, company: Company, name: str) -> Service | str:
    return await _find_named(
        deps, company, name, "service", lambda: deps.catalog.services(company_id=company.id)
    )


async def find_provider(deps: AdminDeps, company: Company, name: str) -> Provider | str:
    return await _find_named(
        deps, company, name, "provider", lambda: deps.catalog.providers(company_id=company.id)
    )


async def named(
    deps: AdminDeps, company: Company, kind: str, name: str
) -> Service | Provider | Reply:
    """The service or provider (`kind`) that `name` means, or the answer asking which one."""
    finder = find_service if kind == "service" else find_provider
    found: Service | Provider | str = await finder(deps, company, name)
    return say(f"Which {kind}?", found) if isinstance(found, str) else found


async def named_provider(deps: AdminDeps, company: Company, name: str) -> Provider | Reply:
    found = await find_provider(deps, company, name)
    return say("Which provider?", found) if isinstance(found, str) else found


ProviderCommand = TypeVar("ProviderCommand", ProviderZoom, ProviderChannel, ProviderStaff)


def about_provider(
    handler: Callable[[AdminDeps, Actor, Company, ProviderCommand, Provider], Awaitable[Reply]],
) -> Callable[[AdminDeps, Actor, Company, ProviderCommand], Awaitable[Reply]]:
    """A `provider NAME …` command: the provider is found first, or the answer asks which one."""

    async def run(
        deps: AdminDeps, actor: Actor, company: Company, command: ProviderCommand
    ) -> Reply:
        provider = await named_provider(deps, company, command.name)
        if isinstance(provider, Reply):
            return provider
        return await handler(deps, actor, company, command, provider)

    return run


@dataclass(frozen=True, slots=True)
class Hosts:
    """What a provider's line names: connected Microsoft accounts by provider ("" is the
    company's own), Zoom users' e-mails by their Zoom id, and the providers with staff in chat."""

    teams: Mapping[str, MsAccount]
    zoom_emails: Mapping[str, str]
    staffed: frozenset[str]


async def known_hosts(deps: AdminDeps, company: Company) -> Hosts:
    teams = {}
    if deps.teams_accounts is not None:
        accounts = deps.teams_accounts.accounts(company_id=company.id)
        teams = {a.provider_external_id: a for a in accounts}
    staffed = frozenset(
        m.provider_external_id
        for m in deps.staff.staff(company_id=company.id)
        if m.provider_external_id
    )
    return Hosts(teams, await _zoom_emails(deps, company), staffed)


async def _zoom_emails(deps: AdminDeps, company: Company) -> dict[str, str]:
    """Zoom knows its users by ids people cannot read: ask it for their e-mails. Zoom not
    answering only leaves the ids in place."""
    account = deps.zoom_accounts.zoom_account(company_id=company.id)
    if account is None or account.state is not AccountState.ACTIVE:
        return {}
    try:
        users = await deps.zoom.users(account_id=account.id)
    except MeetbotError:
        return {}
    return {user.id: user.email for user in users}


def provider_line(provider: Provider, hosts: Hosts) -> str:
    if provider.platform is MeetingPlatform.TEAMS:
        own, shared = hosts.teams.get(provider.external_id), hosts.teams.get("")
        host = (
            f"Teams, hosted by {own.username} (their own account)"
            if own
            else f"Teams, hosted by {shared.username} (the company's account)"
            if shared
            else "Teams, no Microsoft account connected"
        )
    elif provider.platform is None:
        host = "no meeting platform"
    elif provider.zoom_user:
        email = hosts.zoom_emails.get(provider.zoom_user)
        host = f"Zoom, hosted by {email}" if email else f"Zoom, host user {provider.zoom_user}"
    else:
        host = f"{provider.platform.value}, no host chosen"
    channel = f"<#{provider.channel.channel_id}>" if provider.channel else "no channel"
    staff = (
        ""
        if provider.external_id in hosts.staffed
        else f"; nobody is told of changes by name (`/meetings provider {provider.name} staff @person`)"
    )
    return f"{host}; {channel}{staff}"


async def list_services(
    deps: AdminDeps, actor: Actor, company: Company, command: ListServices
) -> Reply:
    await refresh_catalog(deps, company)
    services = deps.catalog.services(company_id=company.id)
    facts = tuple(
        Fact(s.name, "online meetings on" if s.online_meetings else "off") for s in services
    )
    return Reply(
        ChatMessage(
            title="Services",
            facts=facts,
            summary="Services",
            text="" if services else "SimplyBook.me lists no services yet.",
            note="Change one with `/meetings service enable NAME` or `service disable NAME`.",
        )
    )


async def set_service(
    deps: AdminDeps, actor: Actor, company: Company, command: SetService
) -> Reply:
    found = await named(deps, company, "service", command.name)
    if isinstance(found, Reply):
        return found
    deps.catalog.set_service_online(
        company_id=company.id, external_id=found.external_id, enabled=command.enabled
    )
    state = "on" if command.enabled else "off"
    deps.audit(company.id, actor, f"turned online meetings {state} for a service", found.name)
    extra = (
        ""
        if company.online_meetings_enabled
        else " (online meetings are still off for the company: `/meetings enable`)"
    )
    return say(
        f"Online meetings {state} for {found.name}",
        f"Bookings of “{found.name}” from now on "
        f"{'get' if command.enabled else 'do not get'} a video meeting.{extra}",
    )


async def list_providers(
    deps: AdminDeps, actor: Actor, company: Company, command: ListProviders
) -> Reply:
    await refresh_catalog(deps, company)
    providers = deps.catalog.providers(company_id=company.id)
    hosts = await known_hosts(deps, company)
    lines = "\n".join(f"• {p.name}: {provider_line(p, hosts)}" for p in providers)
    return Reply(
        ChatMessage(
            title="Providers",
            summary="Providers",
            text=lines or "SimplyBook.me lists no providers yet.",
            note="Map one with `/meetings provider NAME zoom EMAIL` (or `provider NAME teams`) and "
            "`/meetings provider NAME channel #channel`.",
        )
    )


@about_provider
async def provider_zoom(
    deps: AdminDeps, actor: Actor, company: Company, command: ProviderZoom, provider: Provider
) -> Reply:
    account = deps.zoom_accounts.zoom_account(company_id=company.id)
    if account is None:
        return say("Zoom is not connected", "Connect it first: `/meetings connect zoom`.")
    users = await deps.zoom.users(account_id=account.id)
    user = next((u for u in users if u.email.lower() == command.email), None)
    if user is None:
        known = ", ".join(u.email for u in users[:10])
        return say(
            "No such Zoom user",
            f"{command.email} is not a user of the connected Zoom account. "
            f"Its users are: {known or 'none'}.",
        )
    deps.catalog.set_provider_zoom(
        company_id=company.id, external_id=provider.external_id, zoom_user=user.id
    )
    deps.audit(company.id, actor, "chose a provider's Zoom host", f"{provider.name}: {user.email}")
    solved = f"{provider.name} now hosts on Zoom as {user.email}; their waiting bookings are "
    waiting = problem_solved(
        deps, company.id, UNMAPPED, provider.external_id, solved + "being set up."
    )
    return say(
        f"{provider.name} hosts on Zoom as {user.email}",
        f"Online bookings with {provider.name} get a Zoom meeting hosted by {user.name or user.email}."
        + waiting,
    )


async def provider_teams(
    deps: AdminDeps, actor: Actor, company: Company, command: ProviderTeams
) -> Reply:
    if deps.teams_accounts is None:
        return TEAMS_NOT_CONFIGURED
    provider = await named_provider(deps, company, command.name)
    if isinstance(provider, Reply):
        return provider
    deps.catalog.set_provider_platform(
        company_id=company.id, external_id=provider.external_id, platform=MeetingPlatform.TEAMS
    )
    deps.audit(company.id, actor, "moved a provider to Teams meetings", provider.name)
    own = deps.teams_accounts.account(
        company_id=company.id, provider_external_id=provider.external_id
    )
    host = own or deps.teams_accounts.account(company_id=company.id)
    if host is None:
        return say(
            f"{provider.name} will host on Microsoft Teams",
            "No Microsoft account is connected yet: run `/meetings connect teams` (an admin, for "
            "the company's account; or the provider, for their own).",
        )
    solved = f"{provider.name} now hosts on Microsoft Teams as {host.username}."
    waiting = problem_solved(deps, company.id, UNMAPPED, provider.external_id, solved)
    which = "their own account" if own else "the company's account"
    return say(
        f"{provider.name} hosts on Microsoft Teams",
        f"Online bookings with {provider.name} get a Teams meeting hosted by {host.username} "
        f"({which})." + waiting,
    )


@about_provider
async def provider_channel(
    deps: AdminDeps, actor: Actor, company: Company, command: ProviderChannel, provider: Provider
) -> Reply:
    channel_id = command.channel.id if command.channel else actor.channel_id
    if not channel_id:
        return say(
            "Which channel?", "Pick the channel with #, e.g. `provider NAME channel #bookings`."
        )
    target = ChatTarget(actor.platform, actor.workspace_id, channel_id)
    deps.catalog.set_provider_channel(
        company_id=company.id, external_id=provider.external_id, channel=target
    )
    deps.audit(company.id, actor, "chose a provider's channel", f"{provider.name}: <#{channel_id}>")
    solved = f"{provider.name}'s bookings go to <#{channel_id}> now."
    waiting = problem_solved(
        deps, company.id, AlertKind.CHANNEL_UNUSABLE, provider.external_id, solved
    )
    return say(
        f"{provider.name}'s bookings go to <#{channel_id}>",
        "Make sure meetbot is a member of that channel (invite it with `/invite @meetbot`)."
        + waiting,
    )
