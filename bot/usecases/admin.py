"""`/meetings` commands: role checks, then one small handler per command.

Every answer is a platform-neutral `Reply`; the chat adapter renders it. Set-up commands are for
admins; the refusal names the role needed. A user of another workspace never reaches this
company's data: the company is found from the actor's own workspace.
"""

from __future__ import annotations

import difflib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from bot import templates
from bot.clock import Clock, SystemClock
from bot.commands import (
    EXAMPLES,
    MAX_COMMAND_CHARS,
    USAGE,
    Audit,
    Command,
    Connect,
    Disconnect,
    Help,
    Invalid,
    ListProviders,
    ListServices,
    ProviderChannel,
    ProviderStaff,
    ProviderTeams,
    ProviderZoom,
    Report,
    Role,
    SetDigest,
    SetFeature,
    SetRole,
    SetService,
    StartMeeting,
    Status,
    TemplateCommand,
    TooLong,
    parse,
    required_role,
)
from bot.domain import (
    AccountState,
    Actor,
    AlertKind,
    ChatTarget,
    Company,
    MeetingPlatform,
    MeetingState,
    MsAccount,
    Provider,
    Service,
)
from bot.errors import BookingSystemRejected, MeetbotError, RetryLater
from bot.matching import explain_miss, find_by_name
from bot.messages import START_ACTION, ActionButton, ChatMessage, Fact, LinkButton
from bot.ports import (
    AdminRecords,
    AlertStore,
    BookingSource,
    ChatSender,
    OAuthStates,
    SetupStore,
    TeamsAccounts,
    TeamsSignIn,
    TemplateStore,
    ZoomDirectory,
)
from bot.signin import MS_START, START_SECONDS, ZOOM_START
from bot.templates import MessageTemplate, TemplateKind, TemplateScope
from bot.usecases import reports
from bot.usecases.alerts import ACTION_RECONNECT_TEAMS, ACTION_RECONNECT_ZOOM, ACTION_RETRY_JOB

log = logging.getLogger("meetbot.commands")

Named = TypeVar("Named", Service, Provider)

KIOSK_PLUGIN = "kiosk"  # plugin names of SimplyBook.me's feature switches (unconfirmed spellings)
CLIENT_LOGIN_PLUGIN = "client_login"
ZOOM_CONNECT = "zoom_connect"
SIMPLYBOOK_FORM = "simplybook_credentials"

ACTION_REPLACE_ZOOM = "meetbot_zoom_replace"
ACTION_DISCONNECT_ZOOM = "meetbot_zoom_disconnect"
ACTION_CANCEL = "meetbot_cancel"


@dataclass(frozen=True, slots=True)
class Reply:
    message: ChatMessage
    form: str | None = None  # a form the adapter opens (secrets are never typed into a channel)
    public: bool = False
    replace_original: bool = True  # for button answers: replace the message, or answer beside it


@dataclass(frozen=True)
class AdminDeps:
    store: SetupStore
    bookings: BookingSource
    zoom: ZoomDirectory
    states: OAuthStates
    zoom_authorize_url: Callable[[str], str]
    public_url: str
    alerts: AlertStore
    records: AdminRecords
    requeue: Callable[[str, int], bool]  # (company id, job id): a dead job runs again
    templates: TemplateStore
    chats: dict[Any, ChatSender] = field(default_factory=dict)
    clock: Clock = field(default_factory=SystemClock)
    teams_accounts: TeamsAccounts | None = None  # None: Microsoft Teams is not configured here
    teams_sign_in: TeamsSignIn | None = None

    def audit(self, company_id: str, actor: Actor, action: str, detail: str = "") -> None:
        self.records.record(
            company_id=company_id, actor=actor_key(actor), action=action, detail=detail
        )


def actor_key(actor: Actor) -> str:
    return f"{actor.platform.value}:{actor.workspace_id}:{actor.user_id}"


def say(title: str, text: str = "", **more: Any) -> Reply:
    return Reply(ChatMessage(title=title, text=text, summary=title, **more))


def effective_role(deps: AdminDeps, actor: Actor, company: Company | None) -> Role | None:
    member = deps.store.staff_member(company_id=company.id, actor=actor) if company else None
    if member is not None and member.role:
        return Role(member.role)
    return Role.ADMIN if actor.is_workspace_admin else None


async def run_command(deps: AdminDeps, actor: Actor, text: str) -> Reply:
    command = parse(text)
    company = deps.store.company_for_workspace(
        platform=actor.platform.value, workspace_id=actor.workspace_id
    )
    needed = required_role(command)
    role = effective_role(deps, actor, company)
    if needed is not None and (role is None or role.rank < needed.rank):
        return say(
            "Not allowed",
            f"This command needs the *{needed.value}* role in meetbot. "
            "Ask an admin to run `/meetings role @you " + needed.value + "`.",
        )
    if (
        company is None
        and not isinstance(command, Help | Invalid | TooLong)
        and command != Connect("simplybook")
    ):
        return say(
            "meetbot is not connected yet",
            "First connect your SimplyBook.me account: `/meetings connect simplybook`.",
        )
    handler = _HANDLERS[type(command)]
    try:
        return await handler(deps, actor, company, command)
    except RetryLater as passing:
        return say("Please try again in a minute", str(passing))
    except MeetbotError as failure:
        return say("That did not work", str(failure))
    except Exception:  # a bug must still get an answer, and never show internals
        log.exception("command %r failed", type(command).__name__)
        return say(
            "Something went wrong on meetbot's side",
            "The command may not have finished. Please try again in a minute; if it keeps "
            "failing, tell whoever runs meetbot (the error is in its log).",
        )


async def _help(deps: AdminDeps, actor: Actor, company: Company | None, command: Help) -> Reply:
    lines = [f"`/meetings {usage}`" for usage in USAGE.values()]
    intro = ""
    if command.unknown:
        close = difflib.get_close_matches(command.unknown.lower(), list(USAGE), n=1)
        hint = f" Did you mean `{close[0]}`?" if close else ""
        intro = f"I don't know the command “{command.unknown}”.{hint}\n\n"
    examples = "\n".join(f"• `/meetings {example}`" for example in EXAMPLES)
    return say("meetbot commands", intro + "\n".join(lines) + "\n\nExamples:\n" + examples)


async def _invalid(
    deps: AdminDeps, actor: Actor, company: Company | None, command: Invalid
) -> Reply:
    return say(
        "Not quite",
        f"{command.problem[:1].upper()}{command.problem[1:]}.\nUsage: `/meetings {command.usage}`",
    )


async def _too_long(
    deps: AdminDeps, actor: Actor, company: Company | None, command: TooLong
) -> Reply:
    return say(
        "That command is too long",
        f"A command can be at most {MAX_COMMAND_CHARS:,} characters long, and this one has "
        f"{command.length:,}, so I did not read it. Please shorten it and send it again "
        f"(a template's text can be up to {templates.MAX_LENGTH:,} characters).",
    )


def _teams_accounts(deps: AdminDeps, company: Company) -> dict[str, MsAccount]:
    if deps.teams_accounts is None:
        return {}
    return {a.provider_external_id: a for a in deps.teams_accounts.accounts(company_id=company.id)}


def _teams_text(account: MsAccount | None) -> str:
    if account is None:
        return "not connected"
    if account.state is not AccountState.ACTIVE:
        return f"{account.username}: needs reconnecting ({account.state_reason or account.state})"
    return f"connected as {account.username}"


def _provider_line(provider: Provider, teams: dict[str, MsAccount] | None = None) -> str:
    teams = teams or {}
    if provider.platform is MeetingPlatform.TEAMS:
        own, shared = teams.get(provider.external_id), teams.get("")
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
        host = f"{provider.platform.value} host {provider.zoom_user}"
    else:
        host = f"{provider.platform.value}, no host chosen"
    channel = f"<#{provider.channel.channel_id}>" if provider.channel else "no channel"
    return f"{host}; {channel}"


async def _status(deps: AdminDeps, actor: Actor, company: Company | None, command: Status) -> Reply:
    assert company is not None
    store = deps.store
    zoom = store.zoom_account(company_id=company.id)
    zoom_text = "not connected"
    if zoom is not None:
        zoom_text = (
            "connected"
            if zoom.state is AccountState.ACTIVE
            else f"needs reconnecting: {zoom.state_reason}"
        ) + f" (account {zoom.zoom_account_id})"
    services = [s.name for s in store.services(company_id=company.id) if s.online_meetings]
    providers = store.providers(company_id=company.id)
    teams = _teams_accounts(deps, company)
    facts: tuple[Fact, ...] = (
        Fact("Online meetings", "on" if company.online_meetings_enabled else "off"),
        Fact("SimplyBook.me", f"connected as {company.simplybook_login} ({company.timezone})"),
        Fact("Zoom", zoom_text),
        *((Fact("Microsoft Teams", _teams_text(teams.get(""))),) if deps.teams_accounts else ()),
        Fact("Services with online meetings", ", ".join(services) or "none yet"),
    )
    lines = "\n".join(f"• {p.name}: {_provider_line(p, teams)}" for p in providers)
    if effective_role(deps, actor, company) is Role.ADMIN:  # replies are private to the asker
        facts = (*facts, Fact("Callback URL for SimplyBook.me", callback_url(deps, company.id)))
    problems = store.open_problems(company_id=company.id)
    problems += [
        f"{alert.spec.title} (told to the admins)"
        for alert in deps.alerts.open_alerts(company_id=company.id)
        if alert.spec.kind in (AlertKind.KIOSK_ON, AlertKind.DAILY_LIMIT)
    ]
    note = (
        ("Needs attention:\n" + "\n".join(f"• {p}" for p in problems))
        if problems
        else "Nothing needs attention."
    )
    return Reply(
        ChatMessage(
            title=f"meetbot status for {company.name}",
            facts=facts,
            note=note,
            text=f"Providers:\n{lines}" if providers else "No providers yet.",
            summary="meetbot status",
        )
    )


async def _connect(
    deps: AdminDeps, actor: Actor, company: Company | None, command: Connect
) -> Reply:
    if command.target == "simplybook":
        return Reply(
            ChatMessage(
                title="Connect SimplyBook.me",
                summary="Connect SimplyBook.me",
                text="A form opens for the company login, API key and API secret.",
            ),
            form=SIMPLYBOOK_FORM,
        )
    assert company is not None
    if command.target == "teams":
        return await teams_connect_reply(deps, actor, company)
    if effective_role(deps, actor, company) is not Role.ADMIN:
        return say("Not allowed", "Connecting Zoom needs the *admin* role in meetbot.")
    existing = deps.store.zoom_account(company_id=company.id)
    if existing is not None:
        return say(
            "Replace the connected Zoom account?",
            f"Zoom account {existing.zoom_account_id} is connected. A company has one Zoom account; "
            "connecting another replaces it and its host mappings may need updating.",
            actions=(
                ActionButton("Replace it", ACTION_REPLACE_ZOOM, style="danger"),
                ActionButton("Keep it", ACTION_CANCEL),
            ),
        )
    return zoom_authorize_reply(deps, actor, company)


TEAMS_NOT_CONFIGURED = say(
    "Microsoft Teams is not set up on this server",
    "Whoever runs meetbot must register it with Microsoft first (MEETBOT_MS_CLIENT_ID and "
    "MEETBOT_MS_CLIENT_SECRET). Zoom works meanwhile.",
)


async def teams_connect_reply(deps: AdminDeps, actor: Actor, company: Company) -> Reply:
    """An admin connects the company's account (the default host); staff tied to a provider
    connect that provider's own account, which then hosts their meetings (S10)."""
    if deps.teams_sign_in is None:
        return TEAMS_NOT_CONFIGURED
    provider_id, whose = "", "the company's Microsoft account, the default host of Teams meetings"
    if effective_role(deps, actor, company) is not Role.ADMIN:
        member = deps.store.staff_member(company_id=company.id, actor=actor)
        if member is None or not member.provider_external_id:
            return say(
                "Not allowed",
                "Connecting Teams needs the *admin* role, or staff tied to a provider (to connect "
                "that provider's own account). Ask an admin: `/meetings provider NAME staff @you`.",
            )
        provider_id = member.provider_external_id
        names = {p.external_id: p.name for p in deps.store.providers(company_id=company.id)}
        whose = f"{names.get(provider_id, 'your provider')}'s own Microsoft account"
    start_id = deps.states.issue(
        purpose=MS_START,
        company_id=company.id,
        actor=actor,
        ttl_seconds=START_SECONDS,
        payload=json.dumps({"provider": provider_id}),
    )
    url = f"{deps.public_url.rstrip('/')}/oauth/microsoft/start?{urlencode({'id': start_id})}"
    return say(
        "Connect Microsoft Teams",
        f"Sign in with {whose}. It must be a work or school account of your organisation "
        "(personal outlook.com or hotmail.com accounts cannot host Teams meetings); then confirm "
        "the account here. The button works once and for 15 minutes.",
        buttons=(LinkButton("Connect Microsoft Teams", url, primary=True),),
    )


def resumed(deps: AdminDeps, company_id: str) -> str:
    """Re-queues bookings that were waiting for set-up; says so when there were any."""
    count = deps.store.resync_blocked_bookings(company_id=company_id)
    return (
        f"\n\n{count} upcoming booking(s) that were waiting for this are being set up now."
        if count
        else ""
    )


def callback_url(deps: AdminDeps, company_id: str) -> str:
    token = deps.store.webhook_token(company_id=company_id)
    return f"{deps.public_url.rstrip('/')}/webhooks/simplybook/{token}"


def zoom_authorize_reply(deps: AdminDeps, actor: Actor, company: Company) -> Reply:
    """A button to meetbot's own start link, which binds the sign-in to the browser opening it."""
    start_id = deps.states.issue(
        purpose=ZOOM_START, company_id=company.id, actor=actor, ttl_seconds=START_SECONDS
    )
    url = f"{deps.public_url.rstrip('/')}/oauth/zoom/start?{urlencode({'id': start_id})}"
    return say(
        "Connect Zoom",
        "Sign in to Zoom with the account whose users will host the meetings, and allow meetbot; "
        "then confirm the account here. The button works once and for 15 minutes.",
        buttons=(LinkButton("Connect Zoom", url, primary=True),),
    )


async def _disconnect(
    deps: AdminDeps, actor: Actor, company: Company | None, command: Disconnect
) -> Reply:
    assert company is not None
    if command.target == "teams":
        return _disconnect_teams(deps, actor, company)
    existing = deps.store.zoom_account(company_id=company.id)
    if existing is None:
        return say("Zoom is not connected", "There is nothing to disconnect.")
    return say(
        "Disconnect Zoom?",
        f"New bookings will get no Zoom meeting until a Zoom account is connected again "
        f"(account {existing.zoom_account_id}).",
        actions=(
            ActionButton("Disconnect", ACTION_DISCONNECT_ZOOM, style="danger"),
            ActionButton("Keep it", ACTION_CANCEL),
        ),
    )


def _disconnect_teams(deps: AdminDeps, actor: Actor, company: Company) -> Reply:
    if deps.teams_accounts is None:
        return TEAMS_NOT_CONFIGURED
    if not deps.teams_accounts.disconnect(company_id=company.id):
        return say("Teams is not connected", "There is nothing to disconnect.")
    deps.audit(company.id, actor, "disconnected Microsoft Teams")
    return say(
        "Microsoft Teams is disconnected",
        "Its tokens are deleted. Providers on Teams without an account of their own get no "
        "meeting until `/meetings connect teams` is run again.",
    )


async def _provider_teams(
    deps: AdminDeps, actor: Actor, company: Company | None, command: ProviderTeams
) -> Reply:
    assert company is not None
    if deps.teams_accounts is None:
        return TEAMS_NOT_CONFIGURED
    provider = await _find_provider(deps, company, command.name)
    if isinstance(provider, str):
        return say("Which provider?", provider)
    deps.store.set_provider_platform(
        company_id=company.id, external_id=provider.external_id, platform=MeetingPlatform.TEAMS
    )
    deps.audit(company.id, actor, "moved a provider to Teams meetings", provider.name)
    own = deps.teams_accounts.account(
        company_id=company.id, provider_external_id=provider.external_id
    )
    shared = deps.teams_accounts.account(company_id=company.id)
    host = own or shared
    if host is None:
        return say(
            f"{provider.name} will host on Microsoft Teams",
            "No Microsoft account is connected yet: run `/meetings connect teams` (an admin, for "
            "the company's account; or the provider, for their own).",
        )
    deps.alerts.resolve(
        company_id=company.id,
        kind=AlertKind.PROVIDER_UNMAPPED,
        subject=provider.external_id,
        resolution=f"{provider.name} now hosts on Microsoft Teams as {host.username}.",
    )
    which = "their own account" if own else "the company's account"
    return say(
        f"{provider.name} hosts on Microsoft Teams",
        f"Online bookings with {provider.name} get a Teams meeting hosted by {host.username} "
        f"({which})." + resumed(deps, company.id),
    )


async def _feature(
    deps: AdminDeps, actor: Actor, company: Company | None, command: SetFeature
) -> Reply:
    assert company is not None
    if not command.enabled:
        deps.store.set_online_meetings(company_id=company.id, enabled=False)
        deps.audit(company.id, actor, "turned online meetings off")
        return say(
            "Online meetings are off",
            "New bookings get no meeting until you `/meetings enable` again.",
        )
    credentials = deps.store.simplybook_credentials(company_id=company.id)
    if await deps.bookings.plugin_active(credentials=credentials, plugin=KIOSK_PLUGIN):
        return say(
            "Online meetings cannot be turned on",
            "SimplyBook.me's Kiosk feature is on, and online meetings do not work together with it. "
            "Turn Kiosk off in SimplyBook.me (Custom Features), then run `/meetings enable` again.",
        )
    deps.store.set_online_meetings(company_id=company.id, enabled=True)
    deps.audit(company.id, actor, "turned online meetings on")
    deps.alerts.resolve(
        company_id=company.id,
        kind=AlertKind.KIOSK_ON,
        resolution="SimplyBook.me's Kiosk feature is off now (checked when meetings were turned on).",
    )
    warning = ""
    if not await deps.bookings.plugin_active(credentials=credentials, plugin=CLIENT_LOGIN_PLUGIN):
        warning = (
            "\n\nRecommended: turn on Client Login in SimplyBook.me. Without it, a client who books "
            "in one browser and opens the link in another may not be able to join."
        )
    return say(
        "Online meetings are on",
        "Now choose which services have online meetings: `/meetings services`."
        + warning
        + resumed(deps, company.id),
    )


async def _refreshed_catalog(deps: AdminDeps, company: Company) -> None:
    credentials = deps.store.simplybook_credentials(company_id=company.id)
    deps.store.merge_catalog(
        company_id=company.id,
        services=await deps.bookings.services(credentials=credentials),
        providers=await deps.bookings.providers(credentials=credentials),
    )


async def _services(
    deps: AdminDeps, actor: Actor, company: Company | None, command: ListServices
) -> Reply:
    assert company is not None
    await _refreshed_catalog(deps, company)
    services = deps.store.services(company_id=company.id)
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


async def _find_named(
    deps: AdminDeps, company: Company, name: str, kind: str, listed: Callable[[], Sequence[Named]]
) -> Named | str:
    """The service or provider meant by `name`, or a plain explanation (with suggestions)."""
    items = listed()
    match = find_by_name(name, items, lambda item: item.name)
    if match.found is None and not items:  # nothing known yet: the booking system may list them
        await _refreshed_catalog(deps, company)
        items = listed()
        match = find_by_name(name, items, lambda item: item.name)
    return match.found or explain_miss(kind, name, match, f"/meetings {kind}s")  # type: ignore[arg-type]


async def _find_service(deps: AdminDeps, company: Company, name: str) -> Service | str:
    return await _find_named(
        deps, company, name, "service", lambda: deps.store.services(company_id=company.id)
    )


async def _service(
    deps: AdminDeps, actor: Actor, company: Company | None, command: SetService
) -> Reply:
    assert company is not None
    found = await _find_service(deps, company, command.name)
    if isinstance(found, str):
        return say("Which service?", found)
    deps.store.set_service_online(
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


async def _providers(
    deps: AdminDeps, actor: Actor, company: Company | None, command: ListProviders
) -> Reply:
    assert company is not None
    await _refreshed_catalog(deps, company)
    providers = deps.store.providers(company_id=company.id)
    teams = _teams_accounts(deps, company)
    lines = "\n".join(f"• {p.name}: {_provider_line(p, teams)}" for p in providers)
    return Reply(
        ChatMessage(
            title="Providers",
            summary="Providers",
            text=lines or "SimplyBook.me lists no providers yet.",
            note="Map one with `/meetings provider NAME zoom EMAIL` (or `provider NAME teams`) and "
            "`/meetings provider NAME channel #channel`.",
        )
    )


async def _find_provider(deps: AdminDeps, company: Company, name: str) -> Provider | str:
    return await _find_named(
        deps, company, name, "provider", lambda: deps.store.providers(company_id=company.id)
    )


async def _provider_zoom(
    deps: AdminDeps, actor: Actor, company: Company | None, command: ProviderZoom
) -> Reply:
    assert company is not None
    provider = await _find_provider(deps, company, command.name)
    if isinstance(provider, str):
        return say("Which provider?", provider)
    account = deps.store.zoom_account(company_id=company.id)
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
    deps.store.set_provider_zoom(
        company_id=company.id, external_id=provider.external_id, zoom_user=user.id
    )
    deps.audit(company.id, actor, "chose a provider's Zoom host", f"{provider.name}: {user.email}")
    deps.alerts.resolve(
        company_id=company.id,
        kind=AlertKind.PROVIDER_UNMAPPED,
        subject=provider.external_id,
        resolution=f"{provider.name} now hosts on Zoom as {user.email}; their waiting bookings "
        "are being set up.",
    )
    return say(
        f"{provider.name} hosts on Zoom as {user.email}",
        f"Online bookings with {provider.name} get a Zoom meeting hosted by {user.name or user.email}."
        + resumed(deps, company.id),
    )


async def _provider_channel(
    deps: AdminDeps, actor: Actor, company: Company | None, command: ProviderChannel
) -> Reply:
    assert company is not None
    provider = await _find_provider(deps, company, command.name)
    if isinstance(provider, str):
        return say("Which provider?", provider)
    channel_id = command.channel.id if command.channel else actor.channel_id
    if not channel_id:
        return say(
            "Which channel?", "Pick the channel with #, e.g. `provider NAME channel #bookings`."
        )
    target = ChatTarget(actor.platform, actor.workspace_id, channel_id)
    deps.store.set_provider_channel(
        company_id=company.id, external_id=provider.external_id, channel=target
    )
    deps.audit(company.id, actor, "chose a provider's channel", f"{provider.name}: <#{channel_id}>")
    deps.alerts.resolve(
        company_id=company.id,
        kind=AlertKind.CHANNEL_UNUSABLE,
        subject=provider.external_id,
        resolution=f"{provider.name}'s bookings go to <#{channel_id}> now.",
    )
    return say(
        f"{provider.name}'s bookings go to <#{channel_id}>",
        "Make sure meetbot is a member of that channel (invite it with `/invite @meetbot`)."
        + resumed(deps, company.id),
    )


async def _provider_staff(
    deps: AdminDeps, actor: Actor, company: Company | None, command: ProviderStaff
) -> Reply:
    assert company is not None
    provider = await _find_provider(deps, company, command.name)
    if isinstance(provider, str):
        return say("Which provider?", provider)
    deps.store.tie_staff(
        company_id=company.id,
        actor=actor,
        user_id=command.user.id,
        provider_external_id=provider.external_id,
    )
    deps.audit(
        company.id, actor, "tied staff to a provider", f"<@{command.user.id}>: {provider.name}"
    )
    return say(
        f"<@{command.user.id}> is tied to {provider.name}",
        "As junior staff they may start this provider's meetings by hand.",
    )


async def _role(deps: AdminDeps, actor: Actor, company: Company | None, command: SetRole) -> Reply:
    assert company is not None
    if command.user.id == actor.user_id and command.role is not Role.ADMIN:
        return say("Not allowed", "You cannot lower your own role; ask another admin.")
    deps.store.set_role(
        company_id=company.id,
        actor=actor,
        user_id=command.user.id,
        role=command.role.value if command.role else None,
    )
    role_name = command.role.value if command.role else "none"
    deps.audit(company.id, actor, "changed a role", f"<@{command.user.id}>: {role_name}")
    if command.role is None:
        return say("Role removed", f"<@{command.user.id}> has no meetbot role now.")
    return say("Role set", f"<@{command.user.id}> is now *{command.role.value}* in meetbot.")


async def _start_command(
    deps: AdminDeps, actor: Actor, company: Company | None, command: StartMeeting
) -> Reply:
    assert company is not None
    meeting_id = deps.store.meeting_id_for_booking(company_id=company.id, reference=command.booking)
    if meeting_id is None:
        return say(
            "No such meeting",
            f"No online meeting belongs to booking “{command.booking}”. "
            "Use the booking's code or number as SimplyBook.me shows it.",
        )
    return start_meeting(deps, actor, meeting_id=meeting_id)


async def _report(deps: AdminDeps, actor: Actor, company: Company | None, command: Report) -> Reply:
    assert company is not None
    now = deps.clock.now()
    try:
        period = reports.report_period(
            command.start, command.end, now=now, timezone=company.timezone
        )
    except reports.ReportRangeError as wrong:
        return say("Which dates?", f"{wrong}. Usage: `/meetings {USAGE['report']}`")
    start, end = period.bounds()
    rows = deps.records.report_rows(company_id=company.id, start=start, end=end)
    filters = ""
    for kind, name in (("service", command.service), ("provider", command.provider)):
        if not name:
            continue
        found = await (_find_service if kind == "service" else _find_provider)(deps, company, name)
        if isinstance(found, str):
            return say(f"Which {kind}?", found)
        key = "service_external_id" if kind == "service" else "provider_external_id"
        rows = [row for row in rows if getattr(row, key) == found.external_id]
        filters += f" Only {kind} {found.name}."
    if effective_role(deps, actor, company) is Role.JUNIOR:
        member = deps.store.staff_member(company_id=company.id, actor=actor)
        tied = member.provider_external_id if member else None
        rows = [row for row in rows if tied is not None and row.provider_external_id == tied]
        filters += " Only your own provider's bookings."
    return await _send_report(deps, actor, company, period, rows, filters)


async def _send_report(
    deps: AdminDeps,
    actor: Actor,
    company: Company,
    period: reports.Period,
    rows: list[Any],
    filters: str,
) -> Reply:
    now = deps.clock.now()
    chat = deps.chats[actor.platform]
    inbox = ChatTarget(actor.platform, actor.workspace_id, actor.user_id)
    summary = reports.report_message(rows, now=now, period=period, filters=filters)
    content = reports.report_csv(
        rows, now=now, timezone=company.timezone, links=reports.LinkPaths(deps.public_url)
    )
    await chat.post(target=inbox, message=summary, marker=f"meetbot-report:{now.timestamp()}")
    await chat.post_file(
        target=inbox,
        filename=f"online-meetings-{period.first}-{period.last}.csv",
        content=content,
        title=summary.title,
        comment=f"{len(rows)} booking(s), {period.label()}",
    )
    return say(
        "Report sent",
        f"The report ({len(rows)} booking(s), {period.label()}) is in your direct messages "
        "with meetbot.",
    )


async def _audit(deps: AdminDeps, actor: Actor, company: Company | None, command: Audit) -> Reply:
    assert company is not None
    entries = deps.records.latest(company_id=company.id, limit=20)
    zone = ZoneInfo(company.timezone)
    lines = [
        f"• {entry.at.astimezone(zone):%d %b %H:%M} {_who(entry.actor)} {entry.action}"
        + (f" ({entry.detail})" if entry.detail else "")
        for entry in entries
    ]
    return say(
        "Latest changes",
        "\n".join(lines) if lines else "Nothing has been changed yet.",
        note=f"Newest first, times in {company.timezone}.",
    )


def _who(actor: str) -> str:
    parts = actor.split(":")
    return f"<@{parts[2]}>" if len(parts) == 3 else actor


async def _digest(
    deps: AdminDeps, actor: Actor, company: Company | None, command: SetDigest
) -> Reply:
    assert company is not None
    deps.records.set_digest(company_id=company.id, enabled=command.enabled, hour=command.hour)
    settings = deps.records.digest_settings(company_id=company.id)
    if not settings.enabled:
        deps.audit(company.id, actor, "turned the daily digest off")
        return say("Daily digest off", "Admins no longer get the morning summary.")
    deps.audit(company.id, actor, "set the daily digest", f"at {settings.hour}:00")
    return say(
        "Daily digest on",
        f"Admins get a summary of the day's online meetings at {settings.hour}:00 "
        f"({company.timezone}) by direct message.",
    )


async def _template(
    deps: AdminDeps, actor: Actor, company: Company | None, command: TemplateCommand
) -> Reply:
    assert company is not None
    if command.action == "show":
        return _show_templates(deps, company)
    scope, scope_id, where = TemplateScope.COMPANY, "", "for the whole company"
    if command.scope != "company":
        finder = _find_service if command.scope == "service" else _find_provider
        found = await finder(deps, company, command.name)
        if isinstance(found, str):
            return say(f"Which {command.scope}?", found)
        scope, scope_id = TemplateScope(command.scope), found.external_id
        where = f"for {command.scope} {found.name}"
    kind = TemplateKind(command.kind)
    if command.action == "reset":
        removed = deps.templates.reset_template(
            company_id=company.id, kind=kind, scope=scope, scope_id=scope_id
        )
        deps.audit(company.id, actor, f"reset the {kind.value} template", where)
        return say(
            f"The {kind.value} template {where} is reset" if removed else "Nothing to reset",
            "Messages use the next most general wording again."
            if removed
            else f"There is no {kind.value} template {where}.",
        )
    wrong = templates.problems(command.body)
    if wrong:
        return say("The template was not saved", "; ".join(wrong).capitalize() + ".")
    deps.templates.save_template(
        company_id=company.id,
        template=MessageTemplate(kind, scope, scope_id, command.body),
        actor=actor_key(actor),
    )
    deps.audit(company.id, actor, f"set the {kind.value} template", where)
    return say(
        f"The {kind.value} template {where} is saved",
        "New booking messages use it; existing ones change when their booking does.",
    )


def _show_templates(deps: AdminDeps, company: Company) -> Reply:
    services = {s.external_id: s.name for s in deps.store.services(company_id=company.id)}
    providers = {p.external_id: p.name for p in deps.store.providers(company_id=company.id)}
    facts = []
    for template in deps.templates.templates(company_id=company.id):
        names = services if template.scope is TemplateScope.SERVICE else providers
        where = (
            "company"
            if template.scope is TemplateScope.COMPANY
            else f"{template.scope.value} {names.get(template.scope_id, template.scope_id)}"
        )
        facts.append(Fact(f"{template.kind.value.capitalize()} ({where})", template.body))
    variables = "\n".join(f"• [{name}]: {meaning}" for name, meaning in templates.VARIABLES.items())
    return Reply(
        ChatMessage(
            title="Message templates",
            summary="Message templates",
            facts=tuple(facts),
            text=("" if facts else "No templates yet: messages use meetbot's standard wording.\n\n")
            + "Variables:\n"
            + variables,
            note=f"Set one with `/meetings {USAGE['template']}`.",
        )
    )


Handler = Callable[[AdminDeps, Actor, Company | None, Any], Awaitable[Reply]]
_HANDLERS: dict[type[Command], Handler] = {
    Help: _help,
    Invalid: _invalid,
    TooLong: _too_long,
    Status: _status,
    Connect: _connect,
    Disconnect: _disconnect,
    SetFeature: _feature,
    ListServices: _services,
    SetService: _service,
    ListProviders: _providers,
    ProviderZoom: _provider_zoom,
    ProviderChannel: _provider_channel,
    ProviderStaff: _provider_staff,
    ProviderTeams: _provider_teams,
    SetRole: _role,
    StartMeeting: _start_command,
    Report: _report,
    Audit: _audit,
    SetDigest: _digest,
    TemplateCommand: _template,
}


async def run_action(deps: AdminDeps, actor: Actor, action_id: str, value: str = "") -> Reply:
    """A button pressed on one of meetbot's messages."""
    if action_id == START_ACTION:
        return start_meeting(deps, actor, meeting_id=value)
    company = deps.store.company_for_workspace(
        platform=actor.platform.value, workspace_id=actor.workspace_id
    )
    if company is None or effective_role(deps, actor, company) is not Role.ADMIN:
        return say("Not allowed", "Only a meetbot admin can do this.")
    if action_id in (ACTION_REPLACE_ZOOM, ACTION_RECONNECT_ZOOM):
        return zoom_authorize_reply(deps, actor, company)
    if action_id == ACTION_RECONNECT_TEAMS:
        return await teams_connect_reply(deps, actor, company)
    if action_id == ACTION_RETRY_JOB:
        return _retry_job(deps, actor, company, value)
    if action_id == ACTION_DISCONNECT_ZOOM:
        deps.store.disconnect_zoom(company_id=company.id)
        deps.audit(company.id, actor, "disconnected Zoom")
        return say(
            "Zoom is disconnected",
            "Its tokens are deleted. Connect again with `/meetings connect zoom`.",
        )
    return say("Nothing changed", "")


def _retry_job(deps: AdminDeps, actor: Actor, company: Company, value: str) -> Reply:
    if not value.isdigit() or not deps.requeue(company.id, int(value)):
        return Reply(
            say(
                "Nothing to retry",
                "That task is not waiting for a retry any more: it was retried already, or a newer "
                "change of the booking is being handled.",
            ).message,
            replace_original=False,
        )
    deps.audit(company.id, actor, "retried a failed task", f"task {value}")
    return say(
        "Trying again",
        "The task is queued again. You will get a message here when it goes through.",
    )


def start_meeting(deps: AdminDeps, actor: Actor, *, meeting_id: str) -> Reply:
    """Opens a meeting early for its clients (S11, S13), and hands the presser the host link."""
    company = deps.store.company_for_workspace(
        platform=actor.platform.value, workspace_id=actor.workspace_id
    )
    found = (
        deps.store.meeting_to_start(company_id=company.id, meeting_id=meeting_id)
        if company
        else None
    )
    if company is None or found is None:
        return Reply(
            say("Meeting not found", "This meeting no longer exists.").message,
            replace_original=False,
        )
    meeting, provider_id = found
    role = effective_role(deps, actor, company)
    member = deps.store.staff_member(company_id=company.id, actor=actor)
    tied = member is not None and member.provider_external_id == provider_id
    if not (role in (Role.ADMIN, Role.SENIOR) or (role is Role.JUNIOR and tied)):
        return Reply(
            say(
                "Not allowed",
                "Starting a meeting by hand needs the admin or senior role, or "
                "junior staff tied to this meeting's provider.",
            ).message,
            replace_original=False,
        )
    if meeting.state in (MeetingState.CANCELLED, MeetingState.GONE):
        return Reply(say("This meeting was cancelled", "").message, replace_original=False)
    deps.store.open_early(meeting_id=meeting.id)
    deps.audit(
        company.id,
        actor,
        "started a meeting early",
        f"meeting at {meeting.start:%Y-%m-%d %H:%M} UTC",
    )
    host_link = f"{deps.public_url.rstrip('/')}/h/{meeting.host_token}"
    return Reply(
        say(
            "The meeting is open",
            "Clients can join now. Open it as the host:",
            buttons=(LinkButton("Open as host", host_link, primary=True),),
        ).message,
        replace_original=False,
    )


async def submit_simplybook(
    deps: AdminDeps, actor: Actor, *, login: str, api_key: str, api_secret: str
) -> tuple[dict[str, str], Reply | None]:
    """The SimplyBook.me form: checks the credentials against the API before saving anything.

    Returns field errors to show in the form, or the reply for the admin.
    """
    from bot.domain import SimplyBookCredentials

    company = deps.store.company_for_workspace(
        platform=actor.platform.value, workspace_id=actor.workspace_id
    )
    if effective_role(deps, actor, company) is not Role.ADMIN:
        return {"login": "Only a meetbot admin can connect SimplyBook.me."}, None
    values = {"login": login.strip(), "api_key": api_key.strip(), "api_secret": api_secret.strip()}
    missing = {name: "Required." for name, value in values.items() if not value}
    if missing:
        return missing, None
    credentials = SimplyBookCredentials(values["login"], values["api_key"], values["api_secret"])
    try:
        info = await deps.bookings.company_info(credentials=credentials)
    except BookingSystemRejected:
        return {
            "api_key": "SimplyBook.me refused this company login and API key. "
            "Copy both from SimplyBook.me: Settings → API."
        }, None
    except RetryLater:
        return {"login": "SimplyBook.me did not answer. Please try again in a minute."}, None
    try:
        company, _token = deps.store.connect_simplybook(
            actor=actor,
            login=values["login"],
            api_key=values["api_key"],
            api_secret=values["api_secret"],
            name=info.name or values["login"],
            timezone=info.timezone or "UTC",
        )
    except MeetbotError as refused:
        return {"login": str(refused)}, None
    deps.audit(company.id, actor, "connected SimplyBook.me", values["login"])
    url = callback_url(deps, company.id)
    return {}, say(
        f"Connected to SimplyBook.me as {company.simplybook_login}",
        "Last step in SimplyBook.me: Settings → API → paste this callback URL, so bookings reach "
        f"meetbot:\n{url}\n\nKeep it private: it works like a password. "
        f"{_zone_sentence(info.timezone, company.timezone)} Next: `/meetings connect zoom`.",
    )


def _zone_sentence(reported: str, used: str) -> str:
    if reported:
        return f"Booking times are read in {used}, the company's time zone."
    return (
        f"SimplyBook.me did not report the company's time zone, so booking times are read as {used}; "
        "if that is wrong, set the time zone in SimplyBook.me's company settings and connect again."
    )
