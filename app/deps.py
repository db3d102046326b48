"""What each use case is given: its ports, taken from the shared `Core` and from one event loop's
`Integrations`."""

from __future__ import annotations

from adapters.slack.home import SlackHomePublisher
from app.bootstrap import Core, Integrations
from bot.commands import AdminDeps
from bot.outbox import ChatOutbox
from bot.urls import PublicUrls
from bot.usecases.alerts import NoticeDeps
from bot.usecases.home import HomeDeps
from bot.usecases.routine import RoutineDeps
from bot.usecases.sync_deps import SyncDeps


def chat_outbox(core: Core, integrations: Integrations) -> ChatOutbox:
    return ChatOutbox(records=core.outbox, chats=integrations.chats())


def sync_deps(core: Core, integrations: Integrations) -> SyncDeps:
    return SyncDeps(
        companies=core.companies,
        catalog=core.catalog,
        zoom_accounts=core.zoom_accounts,
        booking_records=core.booking_records,
        meetings=core.meetings,
        seats=core.seats,
        outbox=chat_outbox(core, integrations),
        bookings=integrations.simplybook,
        booking_webhooks=core.booking_webhooks,
        platforms=integrations.platforms(),
        links=PublicUrls(core.settings.public_url),
        alerts=core.alerts,
        templates=core.templates,
        clock=core.clock,
        staff=core.staff,
        teams_accounts=core.ms_accounts if integrations.microsoft else None,
    )


def notice_deps(core: Core, integrations: Integrations) -> NoticeDeps:
    return NoticeDeps(alerts=core.alerts, outbox=chat_outbox(core, integrations))


def routine_deps(core: Core, integrations: Integrations) -> RoutineDeps:
    return RoutineDeps(
        companies=core.companies,
        bookings=integrations.simplybook,
        alerts=core.alerts,
        records=core.records,
        outbox=chat_outbox(core, integrations),
        clock=core.clock,
    )


def admin_deps(core: Core, integrations: Integrations) -> AdminDeps:
    return AdminDeps(
        companies=core.companies,
        catalog=core.catalog,
        staff=core.staff,
        zoom_accounts=core.zoom_accounts,
        booking_records=core.booking_records,
        meetings=core.meetings,
        bookings=integrations.simplybook,
        booking_webhooks=core.booking_webhooks,
        zoom=integrations.zoom_directory,
        states=core.states,
        zoom_authorize_url=integrations.zoom_directory.authorize_url,
        urls=PublicUrls(core.settings.public_url),
        alerts=core.alerts,
        records=core.records,
        templates=core.templates,
        requeue=lambda company_id, job_id: core.queue.requeue(job_id=job_id, company_id=company_id),
        chats=integrations.chats(),
        clock=core.clock,
        teams_accounts=core.ms_accounts if integrations.microsoft else None,
        teams_sign_in=integrations.microsoft.sign_in if integrations.microsoft else None,
    )


def home_deps(core: Core, integrations: Integrations) -> HomeDeps:
    return HomeDeps(
        companies=core.companies,
        staff=core.staff,
        catalog=core.catalog,
        zoom_accounts=core.zoom_accounts,
        alerts=core.alerts,
        home=core.home,
        publisher=SlackHomePublisher(integrations.slack),
        urls=PublicUrls(core.settings.public_url),
        clock=core.clock,
        teams_accounts=core.ms_accounts if integrations.microsoft else None,
        booking_webhooks=core.booking_webhooks,
    )
