"""Finishing Zoom's OAuth, and Zoom telling us the app was removed."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.domain import Actor, AlertKind, ChatTarget
from bot.errors import MeetbotError
from bot.messages import ChatMessage
from bot.usecases.admin import ZOOM_CONNECT, AdminDeps, actor_key, resumed
from bot.usecases.alerts import zoom_revoked

log = logging.getLogger("meetbot.zoom")


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    title: str
    message: str


async def tell(deps: AdminDeps, actor: Actor, message: ChatMessage) -> None:
    chat = deps.chats.get(actor.platform)
    if chat is None:
        return
    try:  # the web page already says it; a chat hiccup must not undo the connection
        await chat.post(
            target=ChatTarget(actor.platform, actor.workspace_id, actor.user_id),
            message=message,
            marker=f"zoom-connect:{actor.user_id}",
        )
    except MeetbotError as error:
        log.warning("could not send a direct message to %s: %s", actor.user_id, error)


async def complete_zoom_connect(deps: AdminDeps, *, state: str, code: str, error: str) -> Outcome:
    issued = deps.states.consume(purpose=ZOOM_CONNECT, state=state) if state else None
    if issued is None or issued[0] is None:
        return Outcome(
            False,
            "This link has expired",
            "Zoom sign-in links work once and for 15 minutes. Run `/meetings connect zoom` again.",
        )
    company_id, actor = issued
    assert company_id is not None  # checked above
    if error or not code:
        return Outcome(
            False,
            "Zoom was not connected",
            "Zoom did not give meetbot access (the request was declined). Nothing changed.",
        )
    try:
        connection = await deps.zoom.exchange_code(code=code)
    except MeetbotError as failure:
        return Outcome(
            False, "Zoom was not connected", f"{failure}. Run `/meetings connect zoom` again."
        )
    deps.store.save_zoom_account(
        company_id=company_id, connection=connection, connected_by=actor_key(actor)
    )
    deps.audit(company_id, actor, "connected Zoom", f"account {connection.zoom_account_id}")
    deps.alerts.resolve(
        company_id=company_id,
        kind=AlertKind.ACCOUNT_REVOKED,
        subject="zoom",
        resolution=f"Zoom is connected again (account {connection.zoom_account_id}); the waiting "
        "bookings are being set up now.",
    )
    waiting = resumed(deps, company_id)
    await tell(
        deps,
        actor,
        ChatMessage(
            title="Zoom is connected",
            summary="Zoom is connected",
            text=f"Zoom account {connection.zoom_account_id} (signed in as {connection.email}) now hosts "
            "meetings. Map providers to its users: `/meetings provider NAME zoom EMAIL`." + waiting,
        ),
    )
    return Outcome(True, "Zoom is connected", "You can close this tab and go back to chat.")


async def zoom_deauthorized(deps: AdminDeps, *, zoom_account_id: str) -> int:
    """The app was removed from a Zoom account: delete its tokens and alert the company's admins."""
    dropped = deps.store.drop_zoom_account(zoom_account_id=zoom_account_id)
    for company_id, _connected_by in dropped:
        deps.records.record(
            company_id=company_id,
            actor="Zoom",
            action="removed meetbot from the Zoom account",
            detail=zoom_account_id,
        )
        deps.alerts.raise_alert(
            company_id=company_id,
            spec=zoom_revoked(
                "meetbot was removed from the company's Zoom account, so its access is deleted"
            ),
        )
    return len(dropped)
