"""Buttons pressed on meetbot's messages: the account confirmations, then everything else."""

from __future__ import annotations

from bot.commands import AdminDeps, Reply, run_button
from bot.domain import Actor
from bot.usecases.connect_teams import (
    ACTION_CONFIRM_TEAMS,
    ACTION_DISCARD_TEAMS,
    answer_teams_confirmation,
)
from bot.usecases.connect_zoom import (
    ACTION_CONFIRM_ZOOM,
    ACTION_DISCARD_ZOOM,
    answer_zoom_confirmation,
)


async def run_action(deps: AdminDeps, actor: Actor, action_id: str, value: str = "") -> Reply:
    # A confirmation is answered by whoever started the sign-in (a provider's own Teams account is
    # connected by staff, not only admins), so it comes before the admins-only buttons.
    if action_id in (ACTION_CONFIRM_ZOOM, ACTION_DISCARD_ZOOM):
        confirmed = action_id == ACTION_CONFIRM_ZOOM
        return await answer_zoom_confirmation(deps, actor, confirmed=confirmed, token=value)
    if action_id in (ACTION_CONFIRM_TEAMS, ACTION_DISCARD_TEAMS):
        confirmed = action_id == ACTION_CONFIRM_TEAMS
        return await answer_teams_confirmation(deps, actor, confirmed=confirmed, token=value)
    return await run_button(deps, actor, action_id, value)
