"""meetbot removed from a company's Slack workspace (uninstalled, or its tokens revoked), and
installed again.

The adapter has deleted the workspace's tokens already. Nothing is lost meanwhile: the upcoming
bookings posted there are held with the reason, the admins hear of it wherever they can still be
reached (Teams), and the alert stays open for the reinstall, which resolves it and posts the held
bookings.
"""

from __future__ import annotations

import logging

from bot.commands.deps import AdminDeps
from bot.domain import AlertKind, AlertSpec, ChatPlatform

log = logging.getLogger("meetbot.slack")

HELD = (
    "meetbot was removed from the company's Slack workspace; the booking is posted when it is "
    "installed again"
)


def slack_removed(workspace_id: str, what: str, install_url: str) -> AlertSpec:
    return AlertSpec(
        kind=AlertKind.ACCOUNT_REVOKED,
        subject=f"slack:{workspace_id}",
        title="meetbot was removed from Slack",
        detail=f"{what}, so meetbot cannot post in the company's Slack workspace any more, and its "
        "Slack tokens are deleted. No booking is lost: meetbot keeps creating the meetings and "
        "holds the messages of upcoming bookings until it is installed again, then posts them.",
        fix=f"Install meetbot in the Slack workspace again: {install_url}",
    )


async def slack_workspace_removed(deps: AdminDeps, *, workspace_id: str, what: str) -> int:
    """Holds the company's bookings and tells its admins; returns how many bookings are held."""
    company = deps.companies.company_for_workspace(
        platform=ChatPlatform.SLACK.value, workspace_id=workspace_id
    )
    if company is None:
        log.info("meetbot removed from a Slack workspace that belongs to no company")
        return 0
    held = deps.booking_records.hold_bookings_for_chat(
        company_id=company.id,
        platform=ChatPlatform.SLACK.value,
        workspace_id=workspace_id,
        problem=HELD,
    )
    deps.records.record(
        company_id=company.id,
        actor="Slack",
        action="removed meetbot from the Slack workspace",
        detail=f"{what}; {held} upcoming booking(s) held",
    )
    deps.alerts.raise_alert(
        company_id=company.id, spec=slack_removed(workspace_id, what, deps.urls.slack_install())
    )
    return held


async def slack_workspace_installed(deps: AdminDeps, *, workspace_id: str) -> int:
    """meetbot is back in the workspace: the alert is resolved (told to the admins, in Slack
    again) and the held bookings are synced; returns how many."""
    company = deps.companies.company_for_workspace(
        platform=ChatPlatform.SLACK.value, workspace_id=workspace_id
    )
    subject = f"slack:{workspace_id}"
    if company is None or not any(
        alert.spec.kind is AlertKind.ACCOUNT_REVOKED and alert.spec.subject == subject
        for alert in deps.alerts.open_alerts(company_id=company.id)
    ):
        return 0  # a first install, or nothing was held
    waiting = deps.booking_records.resync_blocked_bookings(company_id=company.id)
    deps.alerts.resolve(
        company_id=company.id,
        kind=AlertKind.ACCOUNT_REVOKED,
        subject=subject,
        resolution=f"meetbot is installed in Slack again; {waiting} upcoming booking(s) held "
        "meanwhile are being posted now.",
    )
    deps.records.record(
        company_id=company.id,
        actor="Slack",
        action="installed meetbot in the Slack workspace again",
        detail=f"{waiting} held booking(s) queued",
    )
    return waiting
