"""The job table: which handler runs each kind of job, and how the shell queues the jobs it
owns (company routines, chat commands that outlast the platform's wait)."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from adapters.slack.app import answer_later
from app.bootstrap import Core, Integrations, admin_deps, notice_deps, sync_deps
from bot.commands import run_command
from bot.domain import Actor, ChatPlatform, ChatTarget, Job
from bot.usecases.alerts import notify_admins
from bot.usecases.routine import ROUTINE, RoutineDeps, next_run, run_routine
from bot.usecases.sync_booking import SYNC_BOOKING, remind, sync_booking
from bot.worker import JobHandler
from storage.alerts import NOTIFY_ADMINS
from storage.booking_jobs import MEETING_REMINDER_JOB as MEETING_REMINDER
from storage.job_secrets import SqlJobSecrets

log = logging.getLogger("meetbot")


CHAT_COMMAND = "chat_command"


def job_handlers(core: Core, integrations: Integrations) -> dict[str, JobHandler]:
    deps = sync_deps(core, integrations)

    async def run_sync(job: Job) -> str:
        assert job.company_id is not None
        return await sync_booking(
            deps,
            company_id=job.company_id,
            booking_id=job.payload["booking_id"],
            booking_hash=job.payload["booking_hash"],
            take_turn=lambda key: core.queue.hold(job=job, key=key),
        )

    async def run_chat_command(job: Job) -> str:
        payload = job.payload
        actor = Actor(
            ChatPlatform(payload["platform"]),
            payload["workspace_id"],
            payload["user_id"],
            payload["is_admin"] == "1",
            payload["channel_id"],
        )
        reply = await run_command(admin_deps(core, integrations), actor, payload["text"])
        response_url = job_secrets(core).open(payload.get("response_url_id", ""))
        if response_url:  # Slack: where the slash command said to answer
            await answer_later(response_url, reply)
        else:  # elsewhere: the person's own chat with meetbot, as private as Slack's answer
            inbox = ChatTarget(actor.platform, actor.workspace_id, actor.user_id)
            await integrations.chats()[actor.platform].post(
                target=inbox, message=reply.message, marker=f"{CHAT_COMMAND}:{job.id}"
            )
        return f"answered {reply.message.title!r}"

    notices = notice_deps(core, integrations)

    async def run_notice(job: Job) -> str:
        assert job.company_id is not None
        company = core.companies.company(company_id=job.company_id)
        return await notify_admins(
            notices, company_id=company.id, key=job.payload["key"], timezone=company.timezone
        )

    routine = RoutineDeps(
        companies=core.companies,
        bookings=integrations.simplybook,
        alerts=core.alerts,
        records=core.records,
        notices=notices,
        clock=core.clock,
    )

    async def run_company_routine(job: Job) -> str:
        assert job.company_id is not None
        schedule_routine(core, job.company_id, later=True)  # first: a failing run keeps the chain
        return await run_routine(routine, company_id=job.company_id)

    async def run_reminder(job: Job) -> str:
        assert job.company_id is not None
        return await remind(
            deps,
            company_id=job.company_id,
            meeting_id=job.payload["meeting_id"],
            start=job.payload["start"],
        )

    return {
        SYNC_BOOKING: run_sync,
        MEETING_REMINDER: run_reminder,
        CHAT_COMMAND: run_chat_command,
        NOTIFY_ADMINS: run_notice,
        ROUTINE: run_company_routine,
    }


def schedule_routine(core: Core, company_id: str, *, later: bool = False) -> None:
    """Queues the company's hourly routine: now, or at its next full hour."""
    now = core.clock.now()
    run_at = now
    if later:
        run_at = next_run(now, core.companies.company(company_id=company_id).timezone)
    core.queue.enqueue(
        kind=ROUTINE,
        dedupe_key=f"{ROUTINE}:{company_id}",
        payload={},
        company_id=company_id,
        run_at=run_at,
    )


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
    core.queue.enqueue(
        kind=CHAT_COMMAND,
        dedupe_key=f"{CHAT_COMMAND}:{uuid.uuid4().hex}",
        payload={
            "platform": actor.platform.value,
            "workspace_id": actor.workspace_id,
            "user_id": actor.user_id,
            "is_admin": "1" if actor.is_workspace_admin else "0",
            "channel_id": actor.channel_id,
            "text": text,
            "response_url_id": response_url_id,
        },
    )
