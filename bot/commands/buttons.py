"""Buttons pressed on meetbot's messages (other than an account sign-in's confirmation)."""

from __future__ import annotations

from bot.commands.accounts import (
    ACTION_DISCONNECT_ZOOM,
    ACTION_REPLACE_ZOOM,
    disconnect_zoom,
    teams_connect_reply,
    zoom_authorize_reply,
)
from bot.commands.authorization import access_of
from bot.commands.deps import AdminDeps
from bot.commands.meetings import start_meeting
from bot.commands.reply import Reply, beside, say
from bot.domain import Actor, Company
from bot.messages import START_ACTION
from bot.usecases.alerts import ACTION_RECONNECT_TEAMS, ACTION_RECONNECT_ZOOM, ACTION_RETRY_JOB


async def run_button(deps: AdminDeps, actor: Actor, action_id: str, value: str = "") -> Reply:
    """A button pressed on one of meetbot's messages."""
    if action_id == START_ACTION:  # staff may press it too: the use case checks the provider
        return start_meeting(deps, actor, meeting_id=value)
    company = deps.companies.company_for_workspace(
        platform=actor.platform.value, workspace_id=actor.workspace_id
    )
    if company is None or not access_of(deps.staff, actor, company).may("press an admin button"):
        return say("Not allowed", "Only a meetbot admin can do this.")
    if action_id in (ACTION_REPLACE_ZOOM, ACTION_RECONNECT_ZOOM):
        return zoom_authorize_reply(deps, actor, company)
    if action_id == ACTION_RECONNECT_TEAMS:
        return await teams_connect_reply(deps, actor, company)
    if action_id == ACTION_RETRY_JOB:
        return _retry_job(deps, actor, company, value)
    if action_id == ACTION_DISCONNECT_ZOOM:
        return disconnect_zoom(deps, actor, company)
    return say("Nothing changed", "")


def _retry_job(deps: AdminDeps, actor: Actor, company: Company, value: str) -> Reply:
    if not value.isdigit() or not deps.requeue(company.id, int(value)):
        return beside(
            say(
                "Nothing to retry",
                "That task is not waiting for a retry any more: it was retried already, or a newer "
                "change of the booking is being handled.",
            )
        )
    deps.audit(company.id, actor, "retried a failed task", f"task {value}")
    return say(
        "Trying again",
        "The task is queued again. You will get a message here when it goes through.",
    )
