"""Problems that need a person, told to the company's admins by direct message (S15).

Each problem is described once, in plain words, with what it affects and what fixes it; the store
de-duplicates (one message per problem until it is resolved or a day has passed) and queues the
telling as a durable job, which this module's `notify_admins` carries out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot import jobs
from bot.domain import Alert, AlertKind, AlertSpec, Job
from bot.errors import PermanentFailure
from bot.messages import ActionButton, ChatMessage, Fact
from bot.outbox import ChatOutbox
from bot.ports import AlertStore

log = logging.getLogger("meetbot.alerts")

ACTION_RECONNECT_ZOOM = "meetbot_zoom_reconnect"
ACTION_RECONNECT_TEAMS = "meetbot_teams_reconnect"
ACTION_RETRY_JOB = "meetbot_job_retry"


# -- what each problem says ------------------------------------------------------------------


def zoom_revoked(reason: str) -> AlertSpec:
    return AlertSpec(
        kind=AlertKind.ACCOUNT_REVOKED,
        subject="zoom",
        title="Zoom needs reconnecting",
        detail=f"meetbot cannot use the company's Zoom account: {reason}. New and changed "
        "bookings wait until Zoom is connected again; then meetbot sets them up by itself.",
        action_label="Reconnect Zoom",
        action_id=ACTION_RECONNECT_ZOOM,
    )


def teams_revoked(reason: str) -> AlertSpec:
    return AlertSpec(
        kind=AlertKind.ACCOUNT_REVOKED,
        subject="teams",
        title="Microsoft Teams needs reconnecting",
        detail=f"meetbot cannot create Teams meetings: {reason}. New and changed bookings of "
        "providers on Teams wait until the account is connected again; then meetbot sets them "
        "up by itself.",
        action_label="Reconnect Teams",
        action_id=ACTION_RECONNECT_TEAMS,
    )


def channel_unusable(provider: str, provider_id: str, channel_id: str, reason: str) -> AlertSpec:
    return AlertSpec(
        kind=AlertKind.CHANNEL_UNUSABLE,
        subject=provider_id,
        title=f"{provider}'s channel cannot be used",
        detail=f"Bookings for {provider} should be posted in <#{channel_id}>, but {reason}. "
        "Until it is fixed, meetbot sends each of these bookings to you by direct message, so none "
        "is lost.",
        fix=f"Invite meetbot back into the channel, or choose another one: "
        f"`/meetings provider {provider} channel #channel`.",
    )


def provider_without_channel(provider: str, provider_id: str) -> AlertSpec:
    return AlertSpec(
        kind=AlertKind.CHANNEL_UNUSABLE,
        subject=provider_id,
        title=f"{provider} has no channel",
        detail=f"An online booking for {provider} arrived, but no chat channel is chosen for their "
        "bookings. Until one is, meetbot sends these bookings to you by direct message.",
        fix=f"Choose one: `/meetings provider {provider} channel #channel`.",
    )


def provider_unmapped(provider: str, provider_id: str, missing: str) -> AlertSpec:
    return AlertSpec(
        kind=AlertKind.PROVIDER_UNMAPPED,
        subject=provider_id,
        title=f"{provider} has no meeting host",
        detail=f"An online booking for {provider} arrived, but {missing}, so no meeting could be "
        "created. The booking waits; it is set up as soon as the host is chosen.",
        fix=f"Choose the host: `/meetings provider {provider} zoom EMAIL`.",
    )


def daily_limit(host_user: str, host_label: str) -> AlertSpec:
    return AlertSpec(
        kind=AlertKind.DAILY_LIMIT,
        subject=host_user,
        title="Zoom's daily limit reached",
        detail=f"Zoom allows 100 meeting creations and changes a day for each host, and "
        f"{host_label} has reached it. The bookings below are set up automatically after "
        "Zoom's reset at 00:00 UTC.",
        fix="If this happens often, spread providers over more Zoom host users.",
    )


def kiosk_on() -> AlertSpec:
    return AlertSpec(
        kind=AlertKind.KIOSK_ON,
        subject="kiosk",
        title="SimplyBook.me's Kiosk feature is on",
        detail="Online meetings do not work together with the Kiosk feature: clients booking "
        "through the kiosk get no working meeting link.",
        fix="Turn Kiosk off in SimplyBook.me (Custom Features).",
    )


def unknown_bookings() -> AlertSpec:
    """One per company however many arrive: the store keeps one open alert per subject and tells
    it again after a day at the soonest, listing the latest bookings."""
    return AlertSpec(
        kind=AlertKind.UNKNOWN_BOOKINGS,
        subject="simplybook",
        title="Callbacks for bookings SimplyBook.me does not know",
        detail="meetbot received booking callbacks that SimplyBook.me does not confirm (no such "
        "booking, or details that do not match), so nothing was set up for them. A few can follow "
        "a booking deleted at once; many suggest that someone else has the company's callback URL.",
        fix="If you did not expect these, tell whoever runs meetbot, so the callback URL can be "
        "replaced.",
    )


def job_dead(job_id: int, booking: str, error: str) -> AlertSpec:
    return AlertSpec(
        kind=AlertKind.JOB_DEAD,
        subject=f"booking:{booking}" if booking else f"job:{job_id}",
        title=f"Booking {booking} could not be set up" if booking else "A task failed for good",
        detail=f"meetbot tried several times and gave up: {error}",
        fix="Press Retry once the cause is fixed (or if it looked like a passing outage).",
        action_label="Retry",
        action_id=ACTION_RETRY_JOB,
        action_value=str(job_id),
    )


# -- telling the admins -------------------------------------------------------------------------


def alert_message(alert: Alert, phase: str, timezone: str) -> ChatMessage:
    spec = alert.spec
    if phase == "resolved":
        return ChatMessage(
            title=f"Resolved: {spec.title}",
            summary=f"Resolved: {spec.title}",
            text=alert.resolution or "The problem is fixed.",
        )
    facts = [Fact("Since", _local(alert, timezone))]
    if alert.bookings:
        facts.append(Fact("Affected bookings", ", ".join(alert.bookings)))
    reminder = phase.startswith("reminder")
    return ChatMessage(
        title=("Still open: " if reminder else "Needs attention: ") + spec.title,
        summary=spec.title,
        text=spec.detail + (f"\n\n{spec.fix}" if spec.fix else ""),
        facts=tuple(facts),
        actions=(ActionButton(spec.action_label, spec.action_id, spec.action_value, "primary"),)
        if spec.action_id
        else (),
        note="You will hear from meetbot when this is resolved; until then it reminds you at most "
        "once a day.",
    )


def _local(alert: Alert, timezone: str) -> str:
    return alert.opened_at.astimezone(ZoneInfo(timezone)).strftime(f"%d %b %Y %H:%M ({timezone})")


@dataclass(frozen=True, slots=True)
class NoticeDeps:
    alerts: AlertStore
    outbox: ChatOutbox


async def notify_admins(deps: NoticeDeps, *, company_id: str, key: str, timezone: str) -> str:
    """Carries out a queued notice ("alert:<id>:<phase>")."""
    kind, _, rest = key.partition(":")
    alert_id, _, phase = rest.partition(":")
    alert = deps.alerts.alert(company_id=company_id, alert_id=alert_id) if kind == "alert" else None
    if alert is None:
        return f"nothing to tell: {key} is unknown"
    if phase != "resolved" and alert.resolved_at is not None:
        return "resolved before it was told"
    sent = await send_to_admins(
        deps.outbox, company_id=company_id, key=key, message=alert_message(alert, phase, timezone)
    )
    return f"told {sent} admin(s): {alert.spec.title}"


async def send_to_admins(
    outbox: ChatOutbox, *, company_id: str, key: str, message: ChatMessage
) -> int:
    """Sends `message` to every admin once, even when the job is retried after a crash."""
    targets = outbox.admin_inboxes(company_id=company_id)
    if not targets:
        log.warning("company %s has no admin to tell (%s)", company_id, message.title)
    reached = 0
    for target in targets:
        try:
            await outbox.post_once(company_id=company_id, key=key, target=target, message=message)
            reached += 1
        except PermanentFailure as unreachable:  # one admin gone must not silence the others
            log.warning("an admin could not be reached (%s): %s", message.title, unreachable)
    if targets and not reached:
        raise PermanentFailure(f"no admin could be reached for {message.title!r}")
    return reached


class DeadJobAlerts:
    """A booking job that ended dead is told to the admins with a Retry button; its success later
    (after a retry or a newer callback) resolves the alert."""

    def __init__(self, alerts: AlertStore) -> None:
        self._alerts = alerts

    def buried(self, job: Job, error: str) -> None:
        booking = _booking_of(job)
        if booking is None or job.company_id is None:
            return
        self._alerts.raise_alert(
            company_id=job.company_id, spec=job_dead(job.id, booking, error), booking=booking
        )

    def completed(self, job: Job, note: str | None) -> None:
        booking = _booking_of(job)
        if booking is None or job.company_id is None:
            return
        self._alerts.resolve(
            company_id=job.company_id,
            kind=AlertKind.JOB_DEAD,
            subject=f"booking:{booking}" if booking else f"job:{job.id}",
            resolution=f"Booking {booking} went through on a later try: {note or 'done'}.",
        )


def _booking_of(job: Job) -> str | None:
    """The booking a booking job was for ("" when its payload does not say); None for others."""
    if not jobs.is_kind(job, jobs.SyncBooking):
        return None
    return job.payload.get("booking_id", "")
