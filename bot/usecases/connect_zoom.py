"""Finishing Zoom's OAuth, and Zoom telling us the app was removed."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.domain import Actor, ChatPlatform, ChatTarget
from bot.errors import MeetbotError
from bot.messages import ChatMessage
from bot.usecases.admin import ZOOM_CONNECT, AdminDeps, resumed

log = logging.getLogger("meetbot.zoom")


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    title: str
    message: str


async def _tell(deps: AdminDeps, actor: Actor, message: ChatMessage) -> None:
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
    waiting = resumed(deps, company_id)
    await _tell(
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


def actor_key(actor: Actor) -> str:
    return f"{actor.platform.value}:{actor.workspace_id}:{actor.user_id}"


def actor_from_key(key: str) -> Actor | None:
    parts = key.split(":", 2)
    if len(parts) != 3:
        return None
    try:
        return Actor(ChatPlatform(parts[0]), parts[1], parts[2])
    except ValueError:
        return None


async def zoom_deauthorized(deps: AdminDeps, *, zoom_account_id: str) -> int:
    """The app was removed from a Zoom account: delete its tokens and tell the company's admins."""
    dropped = deps.store.drop_zoom_account(zoom_account_id=zoom_account_id)
    for company_id, connected_by in dropped:
        admins = {actor_from_key(connected_by)} | {
            Actor(member.platform, member.workspace_id, member.user_id)
            for member in deps.store.staff(company_id=company_id)
            if member.role == "admin"
        }
        for actor in admins - {None}:
            assert actor is not None
            await _tell(
                deps,
                actor,
                ChatMessage(
                    title="Zoom was disconnected",
                    summary="Zoom was disconnected",
                    text="meetbot was removed from the company's Zoom account, so its access is deleted. "
                    "New bookings get no Zoom meeting until an admin runs `/meetings connect zoom`.",
                ),
            )
    return len(dropped)
