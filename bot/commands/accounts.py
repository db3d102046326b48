"""Connecting and disconnecting the company's accounts from chat: SimplyBook.me (a form), Zoom and
Microsoft Teams (a one-time sign-in button to meetbot's own start link)."""

from __future__ import annotations

import json

from bot.commands.authorization import access_of
from bot.commands.catalog import TEAMS_NOT_CONFIGURED
from bot.commands.deps import AdminDeps
from bot.commands.kinds import Connect, Disconnect
from bot.commands.reply import SIMPLYBOOK_FORM, Reply, say
from bot.commands.webhooks import connect_webhook, disconnect_webhook
from bot.domain import Actor, Company
from bot.messages import ActionButton, ChatMessage, LinkButton
from bot.signin import MS_START, START_SECONDS, ZOOM_START

ACTION_REPLACE_ZOOM = "meetbot_zoom_replace"
ACTION_DISCONNECT_ZOOM = "meetbot_zoom_disconnect"
ACTION_CANCEL = "meetbot_cancel"


async def connect(
    deps: AdminDeps, actor: Actor, company: Company | None, command: Connect
) -> Reply:
    if command.target == "simplybook":
        return Reply(
            ChatMessage(
                title="Connect SimplyBook.me",
                summary="Connect SimplyBook.me",
                text="A form opens for the company login, API key and API secret.",
            ),
            form=SIMPLYBOOK_FORM,
        )
    if command.target == "webhook":
        return await connect_webhook(deps, actor, company)
    assert company is not None  # the authorization table: only a booking source comes first
    if command.target == "teams":
        return await teams_connect_reply(deps, actor, company)
    existing = deps.zoom_accounts.zoom_account(company_id=company.id)
    if existing is not None:
        return say(
            "Replace the connected Zoom account?",
            f"Zoom account {existing.zoom_account_id} is connected. A company has one Zoom account; "
            "connecting another replaces it and its host mappings may need updating.",
            actions=(
                ActionButton("Replace it", ACTION_REPLACE_ZOOM, style="danger"),
                ActionButton("Keep it", ACTION_CANCEL),
            ),
        )
    return zoom_authorize_reply(deps, actor, company)


async def teams_connect_reply(deps: AdminDeps, actor: Actor, company: Company) -> Reply:
    """An admin connects the company's account (the default host); staff tied to a provider
    connect that provider's own account, which then hosts their meetings (S10)."""
    if deps.teams_sign_in is None:
        return TEAMS_NOT_CONFIGURED
    provider_id, whose = "", "the company's Microsoft account, the default host of Teams meetings"
    access = access_of(deps.staff, actor, company)
    if access.own_provider_only("connect teams"):
        if not access.provider:
            return say(
                "Not allowed",
                "Connecting Teams needs the *admin* role, or staff tied to a provider (to connect "
                "that provider's own account). Ask an admin: `/meetings provider NAME staff @you`.",
            )
        provider_id = access.provider
        names = {p.external_id: p.name for p in deps.catalog.providers(company_id=company.id)}
        whose = f"{names.get(provider_id, 'your provider')}'s own Microsoft account"
    start_id = deps.states.issue(
        purpose=MS_START,
        company_id=company.id,
        actor=actor,
        ttl_seconds=START_SECONDS,
        payload=json.dumps({"provider": provider_id}),
    )
    return say(
        "Connect Microsoft Teams",
        f"Sign in with {whose}. It must be a work or school account of your organisation "
        "(personal outlook.com or hotmail.com accounts cannot host Teams meetings); then confirm "
        "the account here. The button works once and for 15 minutes.",
        buttons=(
            LinkButton(
                "Connect Microsoft Teams", deps.urls.microsoft_start(start_id), primary=True
            ),
        ),
    )


def zoom_authorize_reply(deps: AdminDeps, actor: Actor, company: Company) -> Reply:
    """A button to meetbot's own start link, which binds the sign-in to the browser opening it."""
    start_id = deps.states.issue(
        purpose=ZOOM_START, company_id=company.id, actor=actor, ttl_seconds=START_SECONDS
    )
    return say(
        "Connect Zoom",
        "Sign in to Zoom with the account whose users will host the meetings, and allow meetbot; "
        "then confirm the account here. The button works once and for 15 minutes.",
        buttons=(LinkButton("Connect Zoom", deps.urls.zoom_start(start_id), primary=True),),
    )


async def disconnect(deps: AdminDeps, actor: Actor, company: Company, command: Disconnect) -> Reply:
    if command.target == "teams":
        return _disconnect_teams(deps, actor, company)
    if command.target == "webhook":
        return await disconnect_webhook(deps, actor, company)
    existing = deps.zoom_accounts.zoom_account(company_id=company.id)
    if existing is None:
        return say("Zoom is not connected", "There is nothing to disconnect.")
    return say(
        "Disconnect Zoom?",
        f"New bookings will get no Zoom meeting until a Zoom account is connected again "
        f"(account {existing.zoom_account_id}).",
        actions=(
            ActionButton("Disconnect", ACTION_DISCONNECT_ZOOM, style="danger"),
            ActionButton("Keep it", ACTION_CANCEL),
        ),
    )


def _disconnect_teams(deps: AdminDeps, actor: Actor, company: Company) -> Reply:
    if deps.teams_accounts is None:
        return TEAMS_NOT_CONFIGURED
    if not deps.teams_accounts.disconnect(company_id=company.id):
        return say("Teams is not connected", "There is nothing to disconnect.")
    deps.audit(company.id, actor, "disconnected Microsoft Teams")
    return say(
        "Microsoft Teams is disconnected",
        "Its tokens are deleted. Providers on Teams without an account of their own get no "
        "meeting until `/meetings connect teams` is run again.",
    )


def disconnect_zoom(deps: AdminDeps, actor: Actor, company: Company) -> Reply:
    """The Disconnect button of `/meetings disconnect zoom`."""
    deps.zoom_accounts.disconnect_zoom(company_id=company.id)
    deps.audit(company.id, actor, "disconnected Zoom")
    return say(
        "Zoom is disconnected",
        "Its tokens are deleted. Connect again with `/meetings connect zoom`.",
    )
