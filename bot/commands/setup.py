"""The company's set-up: its status at a glance, online meetings on or off, and the SimplyBook.me
form that connects meetbot to the booking system."""

from __future__ import annotations

from bot.commands.authorization import access_of
from bot.commands.catalog import known_hosts, provider_line
from bot.commands.deps import AdminDeps, callback_url, resumed
from bot.commands.kinds import SetFeature, Status
from bot.commands.reply import Reply, say
from bot.commands.setup_facts import setup_facts
from bot.domain import Actor, AlertKind, Company, SimplyBookCredentials
from bot.errors import BookingSystemRejected, MeetbotError, RetryLater
from bot.messages import ChatMessage, Fact
from bot.usecases.booking_state import simplybook_credentials

KIOSK_PLUGIN = "kiosk"  # plugin names of SimplyBook.me's feature switches (unconfirmed spellings)
CLIENT_LOGIN_PLUGIN = "client_login"


def _problems_note(deps: AdminDeps, company: Company) -> str:
    problems = deps.companies.open_problems(company_id=company.id)
    problems += [
        f"{alert.spec.title} (told to the admins)"
        for alert in deps.alerts.open_alerts(company_id=company.id)
        if alert.spec.kind in (AlertKind.KIOSK_ON, AlertKind.DAILY_LIMIT)
    ]
    if not problems:
        return "Nothing needs attention."
    return "Needs attention:\n" + "\n".join(f"• {p}" for p in problems)


async def status(deps: AdminDeps, actor: Actor, company: Company, command: Status) -> Reply:
    providers = deps.catalog.providers(company_id=company.id)
    hosts = await known_hosts(deps, company)
    facts = setup_facts(deps, company)
    lines = "\n".join(f"• {p.name}: {provider_line(p, hosts)}" for p in providers)
    # Replies are private to the asker, so an admin may see the secret callback URL here.
    if company.uses_simplybook and access_of(deps.staff, actor, company).may(
        "see the callback URL"
    ):
        facts = (*facts, Fact("Callback URL for SimplyBook.me", callback_url(deps, company.id)))
    return Reply(
        ChatMessage(
            title=f"meetbot status for {company.name}",
            facts=facts,
            note=_problems_note(deps, company),
            text=f"Providers:\n{lines}" if providers else "No providers yet.",
            summary="meetbot status",
        )
    )


async def set_feature(
    deps: AdminDeps, actor: Actor, company: Company, command: SetFeature
) -> Reply:
    if not command.enabled:
        deps.companies.set_online_meetings(company_id=company.id, enabled=False)
        deps.audit(company.id, actor, "turned online meetings off")
        return say(
            "Online meetings are off",
            "New bookings get no meeting until you `/meetings enable` again.",
        )
    if not company.uses_simplybook:  # Kiosk and client login are SimplyBook.me's switches
        return _turned_on(deps, actor, company, warning="")
    credentials = simplybook_credentials(deps.companies, company)
    if await deps.bookings.plugin_active(credentials=credentials, plugin=KIOSK_PLUGIN):
        return say(
            "Online meetings cannot be turned on",
            "SimplyBook.me's Kiosk feature is on, and online meetings do not work together with it. "
            "Turn Kiosk off in SimplyBook.me (Custom Features), then run `/meetings enable` again.",
        )
    warning = ""
    if not await deps.bookings.plugin_active(credentials=credentials, plugin=CLIENT_LOGIN_PLUGIN):
        warning = (
            "\n\nRecommended: turn on Client Login in SimplyBook.me. Without it, a client who books "
            "in one browser and opens the link in another may not be able to join."
        )
    return _turned_on(deps, actor, company, warning=warning)


def _turned_on(deps: AdminDeps, actor: Actor, company: Company, *, warning: str) -> Reply:
    deps.companies.set_online_meetings(company_id=company.id, enabled=True)
    deps.audit(company.id, actor, "turned online meetings on")
    deps.alerts.resolve(
        company_id=company.id,
        kind=AlertKind.KIOSK_ON,
        resolution="SimplyBook.me's Kiosk feature is off now (checked when meetings were turned on).",
    )
    return say(
        "Online meetings are on",
        "Now choose which services have online meetings: `/meetings services`."
        + warning
        + resumed(deps, company.id),
    )


async def submit_simplybook(
    deps: AdminDeps, actor: Actor, *, login: str, api_key: str, api_secret: str
) -> tuple[dict[str, str], Reply | None]:
    """The SimplyBook.me form: checks the credentials against the API before saving anything.

    Returns field errors to show in the form, or the reply for the admin.
    """
    company = deps.companies.company_for_workspace(
        platform=actor.platform.value, workspace_id=actor.workspace_id
    )
    if not access_of(deps.staff, actor, company).may("connect simplybook"):
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
        company, _token = deps.companies.connect_simplybook(
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
