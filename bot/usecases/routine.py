"""A company's hourly routine: checks that need no event to notice, and the admins' daily digest.

It runs as a durable job that queues its own next run first, so one failing check never stops
the chain; every check is safe to repeat.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain import AlertKind, Company
from bot.errors import MeetbotError
from bot.outbox import ChatOutbox
from bot.ports import AdminRecords, AlertStore, BookingSource, Companies
from bot.usecases import alerts
from bot.usecases.alerts import send_to_admins
from bot.usecases.booking_state import simplybook_credentials
from bot.usecases.reports import Period, digest_message

log = logging.getLogger("meetbot.routine")

KIOSK_PLUGIN = "kiosk"


@dataclass(frozen=True, slots=True)
class RoutineDeps:
    companies: Companies
    bookings: BookingSource
    alerts: AlertStore
    records: AdminRecords
    outbox: ChatOutbox
    clock: Clock


def next_run(now: datetime, timezone: str) -> datetime:
    """The next full hour on the company's clock (zones with half-hour offsets included)."""
    local = now.astimezone(ZoneInfo(timezone))
    following = local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return following.astimezone(UTC)


async def run_routine(deps: RoutineDeps, *, company_id: str) -> str:
    company = deps.companies.company(company_id=company_id)
    done = [
        await _check_kiosk(deps, company),
        _close_daily_limits(deps, company),
        await _send_digest(deps, company),
    ]
    return "; ".join(step for step in done if step) or "nothing to do"


async def _check_kiosk(deps: RoutineDeps, company: Company) -> str:
    if not company.online_meetings_enabled:
        deps.alerts.resolve(
            company_id=company.id,
            kind=AlertKind.KIOSK_ON,
            resolution="Online meetings are off, so the Kiosk feature no longer matters.",
        )
        return ""
    if not company.uses_simplybook:
        return ""  # Kiosk is SimplyBook.me's feature; a generic source has no such switch
    credentials = simplybook_credentials(deps.companies, company)
    try:
        kiosk = await deps.bookings.plugin_active(credentials=credentials, plugin=KIOSK_PLUGIN)
    except MeetbotError as failure:  # checked again next hour
        log.warning("company %s: Kiosk check failed: %s", company.id, failure)
        return "Kiosk not checked"
    if kiosk:
        deps.alerts.raise_alert(company_id=company.id, spec=alerts.kiosk_on())
        return "Kiosk is on"
    deps.alerts.resolve(
        company_id=company.id,
        kind=AlertKind.KIOSK_ON,
        resolution="SimplyBook.me's Kiosk feature is off now; online meetings work for every booking.",
    )
    return ""


def _close_daily_limits(deps: RoutineDeps, company: Company) -> str:
    """Zoom's daily limit resets at 00:00 UTC; the waiting bookings retry by themselves then."""
    midnight = datetime.combine(deps.clock.now().astimezone(UTC).date(), time(), UTC)
    closed = 0
    for alert in deps.alerts.open_alerts(company_id=company.id):
        if alert.spec.kind is AlertKind.DAILY_LIMIT and alert.opened_at < midnight:
            closed += deps.alerts.resolve(
                company_id=company.id,
                kind=AlertKind.DAILY_LIMIT,
                subject=alert.spec.subject,
                resolution="Zoom's daily limit was reset at 00:00 UTC; the waiting bookings are "
                "being set up now.",
            )
    return f"{closed} daily-limit alert(s) closed" if closed else ""


async def _send_digest(deps: RoutineDeps, company: Company) -> str:
    settings = deps.records.digest_settings(company_id=company.id)
    now = deps.clock.now()
    local = now.astimezone(ZoneInfo(company.timezone))
    today = local.date().isoformat()
    if not settings.enabled or local.hour < settings.hour or settings.last_sent_on == today:
        return ""
    start, end = Period(local.date(), local.date(), company.timezone).bounds()
    message = digest_message(
        deps.records.report_rows(company_id=company.id, start=start, end=end),
        now=now,
        timezone=company.timezone,
        company=company.name,
        alerts=deps.alerts.open_alerts(company_id=company.id),
    )
    # Sent before it is marked: a retry after a crash finds each admin's copy and sends no second.
    told = await send_to_admins(
        deps.outbox, company_id=company.id, key=f"digest:{company.id}:{today}", message=message
    )
    deps.records.claim_digest(company_id=company.id, local_date=today)
    return f"digest sent to {told} admin(s)"
