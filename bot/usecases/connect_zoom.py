"""Connecting Zoom: meetbot's start link, Zoom's OAuth callback, the chat confirmation; and Zoom
telling us the app was removed.

The sign-in is bound to the browser that opened the start link (see `bot.signin`), and the account
it yields hosts nothing until the admin who started it presses Confirm in chat. An account that is
already connected to another company is refused, without naming that company.
"""

from __future__ import annotations

import json
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.commands.authorization import access_of
from bot.commands.deps import AdminDeps, actor_key, problem_solved
from bot.commands.reply import Reply, say
from bot.domain import Actor, AlertKind, ChatTarget, Company, ZoomConnection
from bot.errors import MeetbotError
from bot.messages import ChatMessage
from bot.signin import (
    CONFIRM_SECONDS,
    START_SECONDS,
    ZOOM_CONFIRM,
    ZOOM_START,
    Consent,
    SignInState,
    StateProblem,
    confirmation_message,
    consent_text,
)
from bot.usecases.alerts import zoom_revoked

log = logging.getLogger("meetbot.zoom")

ZOOM_CONNECT = "zoom_connect"  # the purpose of the state carried through Zoom's sign-in
ACTION_CONFIRM_ZOOM = "meetbot_zoom_confirm"
ACTION_DISCARD_ZOOM = "meetbot_zoom_discard"

OTHER_BROWSER = (
    "This sign-in was started in another browser, or this browser did not keep meetbot's cookie. "
    "meetbot finishes a sign-in only in the browser that opened its Connect button: press the "
    "button again and finish in the same browser. Nothing was connected."
)
EXPIRED = "Zoom sign-in links work once and for 15 minutes. Run `/meetings connect zoom` again."
ZOOM_TAKEN = (
    "This Zoom account is already connected to another company on meetbot, and one Zoom account "
    "hosts the meetings of one company only. Nothing was connected. Sign in with your own "
    "company's Zoom account; if this one is yours, disconnect it from meetbot there first."
)
NOTHING_TO_CONFIRM = (
    "This confirmation has expired or was answered already, or it belongs to whoever started the "
    "sign-in. Nothing changed; run `/meetings connect zoom` to start again."
)


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    title: str
    message: str


@dataclass(frozen=True, slots=True)
class Redirect:
    """Where the start link sends the browser, and the nonce its cookie must hold."""

    url: str
    browser_nonce: str

    def __repr__(self) -> str:
        return "Redirect(...)"


async def tell(deps: AdminDeps, actor: Actor, message: ChatMessage, marker: str = "") -> bool:
    """A direct message to `actor`; False when it could not be delivered."""
    chat = deps.chats.get(actor.platform)
    if chat is None:
        return False
    try:
        await chat.post(
            target=ChatTarget(actor.platform, actor.workspace_id, actor.user_id),
            message=message,
            marker=marker or f"account-connect:{uuid.uuid4().hex}",
        )
    except MeetbotError as error:
        log.warning("could not send a direct message to %s: %s", actor.user_id, error)
        return False
    return True


def zoom_consent(deps: AdminDeps, *, start_id: str) -> Consent | Outcome:
    """The chat button's link, opened: what it would connect, before anything is used up."""
    started = deps.states.peek(purpose=ZOOM_START, state=start_id) if start_id else None
    company = started and company_of_sign_in(deps, started.actor, started.company_id)
    if not company:
        return Outcome(False, "This link has expired", EXPIRED)
    return consent_text("Zoom", company.name, f"{company.name}'s online meetings")


def begin_zoom_sign_in(deps: AdminDeps, *, start_id: str) -> Redirect | Outcome:
    """The chat button's link, continued, once: a sign-in bound to this browser."""
    started = deps.states.take(purpose=ZOOM_START, state=start_id) if start_id else None
    if started is None or started.company_id is None:
        return Outcome(False, "This link has expired", EXPIRED)
    nonce = secrets.token_urlsafe(32)
    state = deps.states.issue(
        purpose=ZOOM_CONNECT,
        company_id=started.company_id,
        actor=started.actor,
        ttl_seconds=START_SECONDS,
        browser_nonce=nonce,
    )
    return Redirect(deps.zoom_authorize_url(state), nonce)


async def complete_zoom_connect(
    deps: AdminDeps, *, state: str, code: str, error: str, browser_nonce: str
) -> Outcome:
    issued = (
        deps.states.take_bound(purpose=ZOOM_CONNECT, state=state, browser_nonce=browser_nonce)
        if state
        else StateProblem.EXPIRED
    )
    if issued is StateProblem.OTHER_BROWSER:
        return Outcome(False, "Finish in the browser you started in", OTHER_BROWSER)
    if isinstance(issued, StateProblem) or issued.company_id is None:
        return Outcome(False, "This link has expired", EXPIRED)
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
    if deps.zoom_accounts.zoom_account_elsewhere(
        company_id=issued.company_id, zoom_account_id=connection.zoom_account_id
    ):
        deps.audit(issued.company_id, issued.actor, "was refused a Zoom account of another company")
        return Outcome(False, "This Zoom account is already in use", ZOOM_TAKEN)
    return await _ask_to_confirm(deps, issued, connection)


async def _ask_to_confirm(
    deps: AdminDeps, issued: SignInState, connection: ZoomConnection
) -> Outcome:
    company = company_of_sign_in(deps, issued.actor, issued.company_id)
    if company is None:
        return Outcome(False, "Zoom was not connected", EXPIRED)
    token = deps.states.issue(
        purpose=ZOOM_CONFIRM,
        company_id=company.id,
        actor=issued.actor,
        ttl_seconds=CONFIRM_SECONDS,
        payload=_sealable(connection, deps.clock.now()),
    )
    account = f"Zoom account {connection.zoom_account_id} ({connection.email})"
    asked = await tell(
        deps,
        issued.actor,
        confirmation_message(
            "Zoom",
            account,
            f"{company.name}'s meetings",
            token=token,
            confirm=ACTION_CONFIRM_ZOOM,
            discard=ACTION_DISCARD_ZOOM,
        ),
    )
    if not asked:
        return Outcome(
            False,
            "Zoom was not connected",
            "meetbot could not send you the confirmation in chat. Nothing changed; run "
            "`/meetings connect zoom` again.",
        )
    return Outcome(
        True,
        "Confirm in chat",
        f"{account} is signed in. meetbot sent you a message in chat: press Confirm there to let "
        "it host your company's meetings. Until then nothing changes. You can close this tab.",
    )


def company_of_sign_in(deps: AdminDeps, actor: Actor, company_id: str | None) -> Company | None:
    """The actor's company, if it is the one the sign-in was started for."""
    company = deps.companies.company_for_workspace(
        platform=actor.platform.value, workspace_id=actor.workspace_id
    )
    return company if company is not None and company.id == company_id else None


def _sealable(connection: ZoomConnection, now: datetime) -> str:
    expires_at = now + timedelta(seconds=connection.expires_in)
    return json.dumps(
        {
            "zoom_account_id": connection.zoom_account_id,
            "user_id": connection.user_id,
            "email": connection.email,
            "access_token": connection.access_token,
            "refresh_token": connection.refresh_token,
            "expires_at": expires_at.isoformat(),
        }
    )


def _unsealed(payload: str, now: datetime) -> ZoomConnection:
    fields = json.loads(payload)
    left = datetime.fromisoformat(fields["expires_at"]) - now  # time spent waiting counts
    return ZoomConnection(
        zoom_account_id=fields["zoom_account_id"],
        user_id=fields["user_id"],
        email=fields["email"],
        access_token=fields["access_token"],
        refresh_token=fields["refresh_token"],
        expires_in=max(0, int(left.total_seconds())),
    )


async def answer_zoom_confirmation(
    deps: AdminDeps, actor: Actor, *, confirmed: bool, token: str
) -> Reply:
    """Confirm or Cancel, pressed by the admin who signed in, in the company they signed in for."""
    taken = deps.states.take_for(purpose=ZOOM_CONFIRM, state=token, actor=actor) if token else None
    company = company_of_sign_in(deps, actor, taken.company_id) if taken else None
    if taken is None or company is None:
        return say("Nothing to confirm", NOTHING_TO_CONFIRM)
    connection = _unsealed(taken.payload, deps.clock.now())
    if not confirmed:
        deps.audit(company.id, actor, "cancelled connecting Zoom", connection.zoom_account_id)
        return say("Zoom was not connected", "The sign-in is discarded; nothing changed.")
    if not access_of(deps.staff, actor, company).may("connect zoom"):
        return say("Not allowed", "Connecting Zoom needs the *admin* role in meetbot.")
    if deps.zoom_accounts.zoom_account_elsewhere(
        company_id=company.id, zoom_account_id=connection.zoom_account_id
    ):
        return say("This Zoom account is already in use", ZOOM_TAKEN)
    return _activate(deps, actor, company, connection)


def _activate(deps: AdminDeps, actor: Actor, company: Company, connection: ZoomConnection) -> Reply:
    deps.zoom_accounts.save_zoom_account(
        company_id=company.id, connection=connection, connected_by=actor_key(actor)
    )
    account = f"account {connection.zoom_account_id}"
    return now_connected(
        deps,
        company,
        actor,
        platform=("zoom", "Zoom"),
        account=(account, account),
        hosts=f"Zoom {account} (signed in as {connection.email}) now hosts meetings. Map "
        "providers to its users: `/meetings provider NAME zoom EMAIL`.",
    )


def now_connected(
    deps: AdminDeps,
    company: Company,
    actor: Actor,
    *,
    platform: tuple[str, str],
    account: tuple[str, str],
    hosts: str,
) -> Reply:
    """A meeting account is connected: audited, the alert about a revoked one resolved and the
    bookings that waited for it set up. `platform` is the alert's subject and the platform's
    name; `account` names the account in the audit log and in the alert's resolution."""
    (subject, name), (audited, which) = platform, account
    deps.audit(company.id, actor, f"connected {name}", audited)
    solved = f"{name} is connected again ({which}); the waiting bookings are being set up now."
    waiting = problem_solved(deps, company.id, AlertKind.ACCOUNT_REVOKED, subject, solved)
    return say(f"{name} is connected", hosts + waiting)


async def zoom_deauthorized(deps: AdminDeps, *, zoom_account_id: str) -> int:
    """The app was removed from a Zoom account: delete its tokens and alert the company's admins."""
    dropped = deps.zoom_accounts.drop_zoom_account(zoom_account_id=zoom_account_id)
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
