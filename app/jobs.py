"""The job table: which handler runs each type of job (declared in `bot.jobs`), and how the shell
queues the jobs it owns (company routines, chat commands that outlast the platform's wait, and a
Home refresh with each routine).

Each handler is built with only the dependencies it names, and gets the job already decoded.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import TypeVar

from adapters.slack.app import answer_later
from app.bootstrap import Core, Integrations
from app.deps import admin_deps, home_deps, notice_deps, routine_deps, sync_deps
from bot import jobs
from bot.commands import AdminDeps, run_command
from bot.domain import Actor, ChatPlatform, ChatTarget, Job
from bot.jobs import (
    ChatCommand,
    CompanyRoutine,
    JobType,
    MeetingReminder,
    NotifyAdmins,
    RefreshHome,
    SyncBooking,
)
from bot.ports import ChatSender, Companies, JobQueue
from bot.usecases.alerts import NoticeDeps, notify_admins
from bot.usecases.home import HomeDeps, refresh_homes
from bot.usecases.reminders import remind
from bot.usecases.routine import RoutineDeps, next_run, run_routine
from bot.usecases.sync_booking import sync_booking
from bot.usecases.sync_deps import SyncDeps
from bot.worker import JobHandler
from storage.job_secrets import SqlJobSecrets
from storage.sessions import one_connection

log = logging.getLogger("meetbot")

Declared = TypeVar(
    "Declared", SyncBooking, MeetingReminder, ChatCommand, NotifyAdmins, CompanyRoutine, RefreshHome
)
TypedHandler = Callable[[Declared, Job], Awaitable[str]]


def job_handlers(core: Core, integrations: Integrations) -> dict[str, JobHandler]:
    """The worker's handlers by job kind."""
    syncing = sync_deps(core, integrations)
    answering = admin_deps(core, integrations), job_secrets(core), integrations.chats()
    table: dict[type[JobType], JobHandler] = {
        SyncBooking: _decoded(SyncBooking, _syncing(syncing, core.queue)),
        MeetingReminder: _decoded(MeetingReminder, _reminding(syncing)),
        ChatCommand: _decoded(ChatCommand, _answering(*answering)),
        NotifyAdmins: _decoded(
            NotifyAdmins, _notifying(notice_deps(core, integrations), core.companies)
        ),
        CompanyRoutine: _decoded(
            CompanyRoutine,
            _routine(
                routine_deps(core, integrations),
                lambda company_id: schedule_routine(core, company_id, later=True),
                lambda company_id: core.home.refresh_soon(company_id=company_id),
            ),
        ),
        RefreshHome: _decoded(RefreshHome, _refreshing(home_deps(core, integrations))),
    }
    return {job_type.kind: _on_one_connection(core, handler) for job_type, handler in table.items()}


def _on_one_connection(core: Core, handler: JobHandler) -> JobHandler:
    async def run(job: Job) -> str | None:
        with one_connection(core.engine):
            return await handler(job)

    return run


def _decoded(job_type: type[Declared], handler: TypedHandler[Declared]) -> JobHandler:
    async def run(job: Job) -> str:
        declared = jobs.decode(job)
        assert isinstance(declared, job_type)
        return await handler(declared, job)

    return run


def _syncing(deps: SyncDeps, queue: JobQueue) -> TypedHandler[SyncBooking]:
    async def run(sync: SyncBooking, job: Job) -> str:
        assert job.company_id is not None
        return await sync_booking(
            deps,
            company_id=job.company_id,
            booking_id=sync.booking_id,
            booking_hash=sync.booking_hash,
            take_turn=lambda key: queue.hold(job=job, key=key),
        )

    return run


def _reminding(deps: SyncDeps) -> TypedHandler[MeetingReminder]:
    async def run(reminder: MeetingReminder, job: Job) -> str:
        assert job.company_id is not None
        return await remind(
            deps, company_id=job.company_id, meeting_id=reminder.meeting_id, start=reminder.start
        )

    return run


def _answering(
    deps: AdminDeps, secrets: SqlJobSecrets, chats: Mapping[ChatPlatform, ChatSender]
) -> TypedHandler[ChatCommand]:
    async def run(command: ChatCommand, job: Job) -> str:
        actor = Actor(
            ChatPlatform(command.platform),
            command.workspace_id,
            command.user_id,
            command.is_admin,
            command.channel_id,
        )
        reply = await run_command(deps, actor, command.text)
        response_url = secrets.open(command.response_url_id)
        if response_url:  # Slack: where the slash command said to answer
            await answer_later(response_url, reply)
        else:  # elsewhere: the person's own chat with meetbot, as private as Slack's answer
            inbox = ChatTarget(actor.platform, actor.workspace_id, actor.user_id)
            await chats[actor.platform].post(
                target=inbox, message=reply.message, marker=f"{ChatCommand.kind}:{job.id}"
            )
        return f"answered {reply.message.title!r}"

    return run


def _notifying(deps: NoticeDeps, companies: Companies) -> TypedHandler[NotifyAdmins]:
    async def run(notice: NotifyAdmins, job: Job) -> str:
        assert job.company_id is not None
        company = companies.company(company_id=job.company_id)
        return await notify_admins(
            deps, company_id=company.id, key=notice.key, timezone=company.timezone
        )

    return run


def _routine(
    deps: RoutineDeps, schedule_next: Callable[[str], None], refresh_home: Callable[[str], None]
) -> TypedHandler[CompanyRoutine]:
    async def run(_routine: CompanyRoutine, job: Job) -> str:
        assert job.company_id is not None
        schedule_next(job.company_id)  # first: a failing run keeps the chain
        refresh_home(job.company_id)  # meetings that ended leave the Home views
        return await run_routine(deps, company_id=job.company_id)

    return run


def _refreshing(deps: HomeDeps) -> TypedHandler[RefreshHome]:
    async def run(_refresh: RefreshHome, job: Job) -> str:
        assert job.company_id is not None
        return await refresh_homes(deps, company_id=job.company_id)

    return run


def schedule_routine(core: Core, company_id: str, *, later: bool = False) -> None:
    """Queues the company's hourly routine: now, or at its next full hour."""
    now = core.clock.now()
    run_at = now
    if later:
        run_at = next_run(now, core.companies.company(company_id=company_id).timezone)
    core.queue.defer(CompanyRoutine(), company_id=company_id, run_at=run_at)


# Slack takes answers on a response_url for 30 minutes; one that has expired answers by DM.
RESPONSE_URL_LIFETIME = timedelta(minutes=30)


def job_secrets(core: Core) -> SqlJobSecrets:
    return SqlJobSecrets(core.engine, core.box, core.clock)


def defer_command(core: Core, actor: Actor, text: str, response_url: str) -> None:
    """A chat command that needs longer than the platform waits: redone by a worker. The
    response_url works like a password for half an hour, so the payload names it, encrypted."""
    response_url_id = (
        job_secrets(core).seal(response_url, company_id=None, ttl=RESPONSE_URL_LIFETIME)
        if response_url
        else ""
    )
    core.queue.defer(
        ChatCommand(
            platform=actor.platform.value,
            workspace_id=actor.workspace_id,
            user_id=actor.user_id,
            is_admin=actor.is_workspace_admin,
            channel_id=actor.channel_id,
            text=text,
            response_url_id=response_url_id,
        )
    )
