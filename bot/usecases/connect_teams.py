"""Connecting Microsoft Teams: the company's account, or a provider's own (S9, S10).

As with Zoom, the sign-in is bound to the browser that opened meetbot's start link, an account
already connected to another company is refused, and nothing is used until the person who signed
in confirms it in chat.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Mapping

from bot.commands.authorization import access_of
from bot.commands.deps import AdminDeps, actor_key
from bot.commands.reply import Reply, say
from bot.domain import Actor, Company, MsConnection, MsSignInFor
from bot.errors import MeetbotError
from bot.signin import (
    CONFIRM_SECONDS,
    MS_CONFIRM,
    MS_START,
    Consent,
    confirmation_message,
    consent_text,
)
from bot.usecases.connect_zoom import Outcome, Redirect, company_of_sign_in, now_connected, tell

ACTION_CONFIRM_TEAMS = "meetbot_teams_confirm"
ACTION_DISCARD_TEAMS = "meetbot_teams_discard"

EXPIRED = (
    "This sign-in link has expired or was already used (links work once, for 15 minutes). "
    "Start connecting Teams again from meetbot."
)
ACCOUNT_TAKEN = (
    "This Microsoft account is already connected to another company on meetbot, and one account "
    "hosts the meetings of one company only. Nothing was connected. Sign in with an account of "
    "your own company; if this one is yours, disconnect it from meetbot there first."
)
NOTHING_TO_CONFIRM = (
    "This confirmation has expired or was answered already, or it belongs to whoever started the "
    "sign-in. Nothing changed; run `/meetings connect teams` to start again."
)
NOT_SET_UP = Outcome(False, "Microsoft Teams is not set up", "Nothing was connected.")
UNREACHABLE = (
    "Microsoft's sign-in could not be started right now ({problem}). Nothing was connected. "
    "Wait a minute, then press Connect in meetbot's message again for a new link."
)


def teams_consent(deps: AdminDeps, *, start_id: str) -> Consent | Outcome:
    """The chat button's link, opened: what it would connect, before anything is used up."""
    if deps.teams_sign_in is None:
        return NOT_SET_UP
    started = deps.states.peek(purpose=MS_START, state=start_id) if start_id else None
    company = started and company_of_sign_in(deps, started.actor, started.company_id)
    if not started or not company:
        return Outcome(False, "This link has expired", EXPIRED)
    provider = str(json.loads(started.payload or "{}").get("provider", ""))
    return consent_text("Microsoft", company.name, _whose(deps, company, provider))


async def begin_teams_sign_in(deps: AdminDeps, *, start_id: str) -> Redirect | Outcome:
    """The chat button's link, continued, once: Microsoft's sign-in, bound to this browser."""
    if deps.teams_sign_in is None:
        return NOT_SET_UP
    started = (
        await asyncio.to_thread(deps.states.take, purpose=MS_START, state=start_id)
        if start_id
        else None
    )  # a write: off the event loop, which other requests share
    if started is None or started.company_id is None:
        return Outcome(False, "This link has expired", EXPIRED)
    nonce = secrets.token_urlsafe(32)
    try:
        provider = str(json.loads(started.payload or "{}").get("provider", ""))
        url = await deps.teams_sign_in.authorize_url(
            signing_in=MsSignInFor(started.company_id, provider, started.actor),
            browser_nonce=nonce,
        )
    except MeetbotError as problem:  # Microsoft unreachable or refusing: a page, never a 5xx
        return Outcome(False, "Microsoft could not be reached", UNREACHABLE.format(problem=problem))
    return Redirect(url, nonce)


async def complete_teams_connect(
    deps: AdminDeps, *, form: Mapping[str, str], browser_nonce: str
) -> Outcome:
    if deps.teams_sign_in is None or deps.teams_accounts is None:
        return NOT_SET_UP
    result = await deps.teams_sign_in.complete(form, browser_nonce=browser_nonce)
    if not isinstance(result, MsConnection):
        return Outcome(False, "Microsoft Teams was not connected", result.reason)
    if deps.teams_accounts.linked_elsewhere(
        company_id=result.company_id, tenant_id=result.tenant_id, object_id=result.object_id
    ):
        deps.audit(result.company_id, result.actor, "was refused a Microsoft account in use")
        return Outcome(False, "This Microsoft account is already in use", ACCOUNT_TAKEN)
    return await _ask_to_confirm(deps, result)


def _whose(deps: AdminDeps, company: Company, provider_external_id: str) -> str:
    if not provider_external_id:
        return f"{company.name}'s Teams meetings (the company's account)"
    names = {p.external_id: p.name for p in deps.catalog.providers(company_id=company.id)}
    provider = names.get(provider_external_id, "your provider")
    return f"{provider}'s Teams meetings at {company.name} (their own account)"


async def _ask_to_confirm(deps: AdminDeps, connection: MsConnection) -> Outcome:
    company = company_of_sign_in(deps, connection.actor, connection.company_id)
    if company is None:
        return Outcome(False, "Microsoft Teams was not connected", EXPIRED)
    token = deps.states.issue(
        purpose=MS_CONFIRM,
        company_id=company.id,
        actor=connection.actor,
        ttl_seconds=CONFIRM_SECONDS,
        payload=_sealable(connection),
    )
    account = f"Microsoft account {connection.display_name} ({connection.username})"
    asked = await tell(
        deps,
        connection.actor,
        confirmation_message(
            "Microsoft",
            account,
            _whose(deps, company, connection.provider_external_id),
            token=token,
            confirm=ACTION_CONFIRM_TEAMS,
            discard=ACTION_DISCARD_TEAMS,
        ),
    )
    if not asked:
        return Outcome(
            False,
            "Microsoft Teams was not connected",
            "meetbot could not send you the confirmation in chat. Nothing changed; start "
            "connecting Teams again from meetbot.",
        )
    return Outcome(
        True,
        "Confirm in chat",
        f"{account} is signed in. meetbot sent you a message in chat: press Confirm there to let "
        "it host Teams meetings. Until then nothing changes. You can close this tab.",
    )


_KEPT = ("provider_external_id", "tenant_id", "object_id", "username", "display_name")


def _sealable(connection: MsConnection) -> str:
    fields = {name: getattr(connection, name) for name in _KEPT}
    return json.dumps(
        {
            **fields,
            "home_account_id": connection.home_account_id,
            "token_cache": connection.token_cache,
        }
    )


def _unsealed(payload: str, company_id: str, actor: Actor) -> MsConnection:
    fields = json.loads(payload)
    return MsConnection(
        company_id=company_id,
        actor=actor,
        **{name: str(fields[name]) for name in (*_KEPT, "home_account_id", "token_cache")},
    )


async def answer_teams_confirmation(
    deps: AdminDeps, actor: Actor, *, confirmed: bool, token: str
) -> Reply:
    """Confirm or Cancel, pressed by the person who signed in, in the company they signed in for."""
    taken = deps.states.take_for(purpose=MS_CONFIRM, state=token, actor=actor) if token else None
    company = company_of_sign_in(deps, actor, taken.company_id) if taken else None
    if taken is None or company is None or deps.teams_accounts is None:
        return say("Nothing to confirm", NOTHING_TO_CONFIRM)
    connection = _unsealed(taken.payload, company.id, actor)
    if not confirmed:
        deps.audit(company.id, actor, "cancelled connecting Microsoft Teams", connection.username)
        return say(
            "Microsoft Teams was not connected", "The sign-in is discarded; nothing changed."
        )
    if not connection.provider_external_id and access_of(
        deps.staff, actor, company
    ).own_provider_only("connect teams"):
        return say("Not allowed", "Connecting the company's Teams account needs the *admin* role.")
    if deps.teams_accounts.linked_elsewhere(
        company_id=company.id, tenant_id=connection.tenant_id, object_id=connection.object_id
    ):
        return say("This Microsoft account is already in use", ACCOUNT_TAKEN)
    return _activate(deps, company, connection)


def _activate(deps: AdminDeps, company: Company, result: MsConnection) -> Reply:
    assert deps.teams_accounts is not None
    account = deps.teams_accounts.save_account(
        connection=result, connected_by=actor_key(result.actor)
    )
    whose = (
        "the company's account" if not account.provider_external_id else "a provider's own account"
    )
    return now_connected(
        deps,
        company,
        result.actor,
        platform=("teams", "Microsoft Teams"),
        account=(f"{account.username}, {whose}", account.username),
        hosts=f"{account.username} ({whose}) now hosts Teams meetings. Move a provider to Teams "
        "with `/meetings provider NAME teams`.",
    )
