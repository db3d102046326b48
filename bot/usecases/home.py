"""The chat app's Home: what each person sees there, published when they open it and again when
something it shows changes.

A provider's staff member (`/meetings provider NAME staff @user`) sees that provider's upcoming
meetings with the host link and Start; an admin also sees the set-up and the open problems with
the buttons that fix them. Nobody sees another company's or (below admin) another provider's
meetings. Opening Home publishes at once and remembers the person for their company; a change
queues one `RefreshHome` job per company (storage does it in the same transaction as the change),
which republishes only the views whose content changed.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.commands.authorization import Access, access_of
from bot.commands.setup_facts import setup_facts
from bot.domain import Actor, Alert, Company
from bot.errors import MeetbotError, RetryLater
from bot.home import MAX_MEETINGS, MAX_PROBLEMS, HomeMeeting, HomeProblem, HomeView
from bot.messages import START_ACTION, ActionButton, Fact, format_time_range
from bot.ports import (
    AlertStore,
    BookingWebhooks,
    Catalog,
    Companies,
    HomePublisher,
    HomeRecords,
    HomeViewer,
    Staff,
    TeamsAccounts,
    UpcomingMeeting,
    ZoomAccounts,
)
from bot.urls import PublicUrls

log = logging.getLogger("meetbot.home")

NOT_SET_UP = HomeView(
    title="meetbot",
    intro="meetbot runs online meetings for bookings, but it is not connected to a booking "
    "system in this workspace yet. An admin starts with `/meetings connect simplybook`, or with "
    "`/meetings connect webhook` for another booking system.",
)
BUTTON_ANSWERS = "Answers to the buttons here arrive in meetbot's Messages tab."


@dataclass(frozen=True, slots=True)
class HomeDeps:
    companies: Companies
    staff: Staff
    catalog: Catalog
    zoom_accounts: ZoomAccounts
    alerts: AlertStore
    home: HomeRecords
    publisher: HomePublisher
    urls: PublicUrls
    clock: Clock
    teams_accounts: TeamsAccounts | None = None  # None: Microsoft Teams is not configured here
    booking_webhooks: BookingWebhooks | None = None  # None: the booking webhook is not served


async def home_opened(deps: HomeDeps, viewer: Actor) -> str:
    """Someone opened Home: it is published for them now, and kept up to date from then on
    (remembered only once Slack took the view, so a user it refuses is not published again)."""
    company = deps.companies.company_for_workspace(
        platform=viewer.platform.value, workspace_id=viewer.workspace_id
    )
    view = home_view(deps, viewer, company)
    await deps.publisher.publish_home(
        workspace_id=viewer.workspace_id, user_id=viewer.user_id, view=view
    )
    if company is not None:
        deps.home.remember_viewer(company_id=company.id, viewer=viewer)
        deps.home.record_published(company_id=company.id, viewer=viewer, digest=view.digest())
    return f"Home published for {viewer.user_id}"


async def refresh_homes(deps: HomeDeps, *, company_id: str) -> str:
    """Publishes again every remembered viewer's Home whose content changed. One viewer Slack
    refuses does not stop the others; a rate limit retries the job (publishing is idempotent)."""
    company = deps.companies.company(company_id=company_id)
    outcomes: Counter[str] = Counter()
    wait: RetryLater | None = None
    for viewer in deps.home.viewers(company_id=company_id):
        try:
            outcomes[await _publish_if_changed(deps, company, viewer)] += 1
        except RetryLater as later:
            wait = later
    if wait is not None:
        raise wait
    counts = ", ".join(f"{outcomes[what]} {what}" for what in ("published", "unchanged", "refused"))
    return f"Home views: {counts}"


async def _publish_if_changed(deps: HomeDeps, company: Company, viewer: HomeViewer) -> str:
    actor = viewer.actor
    bound = deps.companies.company_for_workspace(
        platform=actor.platform.value, workspace_id=actor.workspace_id
    )
    if bound is None or bound.id != company.id:  # the workspace belongs elsewhere now
        return "skipped"
    actor = await _as_now(deps, company, actor)
    view = home_view(deps, actor, company)
    if view.digest() == viewer.digest:
        return "unchanged"
    try:
        await deps.publisher.publish_home(
            workspace_id=actor.workspace_id, user_id=actor.user_id, view=view
        )
    except RetryLater:  # the whole job runs again: publishing a view twice is harmless
        raise
    except MeetbotError as refused:
        log.warning("a Home view could not be published: %s", refused)
        return "refused"
    deps.home.record_published(company_id=company.id, viewer=actor, digest=view.digest())
    return "published"


async def _as_now(deps: HomeDeps, company: Company, actor: Actor) -> Actor:
    """The viewer with their standing of now, not of when they last opened Home: a meetbot role
    is read at every refresh anyway; being a workspace admin (which makes a meetbot admin only
    without a role) is asked of the platform again, so someone demoted there stops seeing the
    admin's Home. Not knowing counts as not an admin, never the reverse."""
    if not actor.is_workspace_admin:
        return actor
    member = deps.staff.staff_member(company_id=company.id, actor=actor)
    if member is not None and member.role:
        return actor
    try:
        still = await deps.publisher.is_workspace_admin(
            workspace_id=actor.workspace_id, user_id=actor.user_id
        )
    except RetryLater:
        raise
    except MeetbotError as unknown:
        log.warning("could not check whether a Home viewer is a workspace admin: %s", unknown)
        still = False
    return replace(actor, is_workspace_admin=still)


def home_view(deps: HomeDeps, viewer: Actor, company: Company | None) -> HomeView:
    if company is None:
        return NOT_SET_UP
    access = access_of(deps.staff, viewer, company)
    admin = access.may("press an admin button")
    meetings, meetings_note = _meetings(deps, company, access)
    view = HomeView(
        title=f"meetbot for {company.name}",
        intro=_intro(deps, company, access, admin),
        meetings=meetings,
        meetings_note=meetings_note,
        note=BUTTON_ANSWERS if meetings else "",
    )
    if not admin:
        return view
    alerts = deps.alerts.open_alerts(company_id=company.id)
    more = len(alerts) - MAX_PROBLEMS
    return replace(
        view,
        note=BUTTON_ANSWERS,
        admin=True,
        setup=_setup(deps, company),
        todo=tuple(deps.companies.open_problems(company_id=company.id)),
        problems=tuple(_problem(alert, company.timezone) for alert in alerts[:MAX_PROBLEMS]),
        problems_note=f"{more} more problem(s) are not shown here."
        if more > 0
        else ("" if alerts else "No open problems."),
    )


def _intro(deps: HomeDeps, company: Company, access: Access, admin: bool) -> str:
    provider = (
        deps.catalog.provider(company_id=company.id, external_id=access.provider)
        if access.provider
        else None
    )
    who = f"You hold {provider.name}'s meetings." if provider else ""
    role = "You are an admin of meetbot here." if admin else ""
    if not (who or role):
        return (
            "meetbot runs the online meetings of this company's bookings. Your own meetings show "
            "here once an admin ties you to a provider: `/meetings provider NAME staff @you`."
        )
    return " ".join(part for part in (who, role) if part)


def _meetings(
    deps: HomeDeps, company: Company, access: Access
) -> tuple[tuple[HomeMeeting, ...], str]:
    if not access.provider:
        return (), ""
    now = deps.clock.now()
    found = deps.home.upcoming(
        company_id=company.id,
        provider_external_id=access.provider,
        since=now,
        limit=MAX_MEETINGS + 1,
    )
    shown = tuple(_meeting(deps, company, meeting, now) for meeting in found[:MAX_MEETINGS])
    if not found:
        return (), "No upcoming online meetings."
    if len(found) > MAX_MEETINGS:
        return shown, "More meetings follow: `/meetings report` lists them all."
    return shown, ""


def _meeting(
    deps: HomeDeps, company: Company, meeting: UpcomingMeeting, now: datetime
) -> HomeMeeting:
    opens = meeting.start - timedelta(minutes=company.open_minutes_before)
    state, start = "", None
    if meeting.payment_pending:
        state = "Awaiting payment: the client's link opens once the booking is paid."
    elif meeting.opened_early or now >= opens:
        state = "Open: clients can join now."
    else:
        start = ActionButton("Start meeting now", START_ACTION, meeting.meeting_id, "primary")
    who = "group class" if meeting.is_class else (meeting.client or "a client")
    return HomeMeeting(
        title=f"{meeting.service} · {who}",
        start=meeting.start,
        end=meeting.end,
        when=format_time_range(meeting.start, meeting.end, company.timezone),
        host_link=deps.urls.host_link(meeting.host_token),
        state=state,
        start_button=start,
    )


def _setup(deps: HomeDeps, company: Company) -> tuple[Fact, ...]:
    providers = len(deps.catalog.providers(company_id=company.id))
    return (*setup_facts(deps, company), Fact("Providers", str(providers)))


def _problem(alert: Alert, timezone: str) -> HomeProblem:
    spec = alert.spec
    since = alert.opened_at.astimezone(ZoneInfo(timezone)).strftime(f"%d %b %Y %H:%M ({timezone})")
    return HomeProblem(
        title=spec.title,
        text=spec.detail + (f"\n{spec.fix}" if spec.fix else ""),
        since=since,
        fix=ActionButton(spec.action_label, spec.action_id, spec.action_value, "primary")
        if spec.action_id
        else None,
    )
