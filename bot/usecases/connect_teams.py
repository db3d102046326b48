"""Finishing Microsoft's sign-in: the company's account, or a provider's own (S9, S10)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.domain import AlertKind, MsConnection
from bot.messages import ChatMessage
from bot.usecases.admin import AdminDeps, actor_key, resumed
from bot.usecases.connect_zoom import Outcome, tell


async def complete_teams_connect(deps: AdminDeps, *, form: Mapping[str, str]) -> Outcome:
    if deps.teams_sign_in is None or deps.teams_accounts is None:
        return Outcome(False, "Microsoft Teams is not set up", "Nothing was connected.")
    result = await deps.teams_sign_in.complete(form)
    if not isinstance(result, MsConnection):
        return Outcome(False, "Microsoft Teams was not connected", result.reason)
    account = deps.teams_accounts.save_account(
        company_id=result.company_id,
        provider_external_id=result.provider_external_id,
        tenant_id=result.tenant_id,
        object_id=result.object_id,
        username=result.username,
        display_name=result.display_name,
        home_account_id=result.home_account_id,
        token_cache=result.token_cache,
        connected_by=actor_key(result.actor),
    )
    whose = (
        "the company's account" if not account.provider_external_id else "a provider's own account"
    )
    deps.audit(
        result.company_id, result.actor, "connected Microsoft Teams", f"{account.username}, {whose}"
    )
    deps.alerts.resolve(
        company_id=result.company_id,
        kind=AlertKind.ACCOUNT_REVOKED,
        subject="teams",
        resolution=f"Microsoft Teams is connected again ({account.username}); the waiting bookings "
        "are being set up now.",
    )
    waiting = resumed(deps, result.company_id)
    await tell(
        deps,
        result.actor,
        ChatMessage(
            title="Microsoft Teams is connected",
            summary="Microsoft Teams is connected",
            text=f"{account.username} ({whose}) now hosts Teams meetings. Move a provider to Teams "
            "with `/meetings provider NAME teams`." + waiting,
        ),
    )
    return Outcome(
        True, "Microsoft Teams is connected", "You can close this tab and go back to chat."
    )
