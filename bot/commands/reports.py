"""What happened: the bookings report (a summary and a CSV by direct message), the audit log of
changes, and the admins' daily digest."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from bot.commands.authorization import access_of
from bot.commands.catalog import named
from bot.commands.deps import AdminDeps
from bot.commands.grammar import USAGE
from bot.commands.kinds import Audit, Report, SetDigest
from bot.commands.reply import Reply, say
from bot.domain import Actor, ChatTarget, Company
from bot.usecases import reports


async def report(deps: AdminDeps, actor: Actor, company: Company, command: Report) -> Reply:
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
        found = await named(deps, company, kind, name)
        if isinstance(found, Reply):
            return found
        key = "service_external_id" if kind == "service" else "provider_external_id"
        rows = [row for row in rows if getattr(row, key) == found.external_id]
        filters += f" Only {kind} {found.name}."
    access = access_of(deps.staff, actor, company)
    if access.own_provider_only("report"):
        tied = access.provider
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
    content = reports.report_csv(rows, now=now, timezone=company.timezone, links=deps.urls)
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


async def audit(deps: AdminDeps, actor: Actor, company: Company, command: Audit) -> Reply:
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


async def digest(deps: AdminDeps, actor: Actor, company: Company, command: SetDigest) -> Reply:
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
