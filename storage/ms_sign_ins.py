"""Pending Microsoft sign-ins: started from meetbot, finished by the browser that started them.

They live in `oauth_state` rows: the state only as a digest, single use, expiring, with who
started it, and msal's flow dict (it holds the PKCE verifier and nonce) encrypted in `payload_enc`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine

from bot.clock import Clock
from bot.domain import Actor, ChatPlatform, MsAccount, MsSignInFor
from bot.signin import StateProblem
from storage.crypto import SecretBox
from storage.ms_accounts import SqlMsAccounts
from storage.oauth_states import payload_context, same_browser, take_state
from storage.sessions import write_session
from storage.tables import OAuthStateRow
from storage.tokens import token_digest

MS_CONNECT = "ms_connect"
FLOW_SECONDS = 15 * 60


@dataclass(frozen=True, slots=True)
class PendingMsFlow:
    """A sign-in started from meetbot, as it was started."""

    signing_in: MsSignInFor
    flow: dict[str, Any]

    def __repr__(self) -> str:  # the flow holds the PKCE verifier
        return f"PendingMsFlow(signing_in={self.signing_in!r})"


class SqlMsSignIns:
    """Implements `adapters.msgraph.connect.ConnectStore`: the pending sign-ins, and the accounts
    they connect (to see whether the company already has one)."""

    def __init__(
        self, engine: Engine, box: SecretBox, clock: Clock, accounts: SqlMsAccounts
    ) -> None:
        self._engine, self._box, self._clock, self._accounts = engine, box, clock, accounts

    def account(self, *, company_id: str, provider_external_id: str = "") -> MsAccount | None:
        return self._accounts.account(
            company_id=company_id, provider_external_id=provider_external_id
        )

    def begin_flow(
        self,
        *,
        signing_in: MsSignInFor,
        flow: dict[str, Any],
        browser_nonce: str,
        ttl_seconds: float = FLOW_SECONDS,
    ) -> None:
        """Keeps msal's flow dict until the callback; its `state` is what comes back, from the
        browser holding `browser_nonce` only."""
        digest = token_digest(str(flow["state"]))
        payload = json.dumps({"provider": signing_in.provider_external_id, "flow": flow})
        with write_session(self._engine) as session:
            session.add(
                OAuthStateRow(
                    state_hash=digest,
                    purpose=MS_CONNECT,
                    company_id=signing_in.company_id,
                    platform=signing_in.actor.platform.value,
                    workspace_id=signing_in.actor.workspace_id,
                    user_id=signing_in.actor.user_id,
                    expires_at=self._clock.now() + timedelta(seconds=ttl_seconds),
                    payload_enc=self._box.encrypt(payload, context=payload_context(digest)),
                    browser_hash=token_digest(browser_nonce),
                )
            )

    def finish_flow(self, *, state: str, browser_nonce: str) -> PendingMsFlow | StateProblem:
        """The sign-in `state` belongs to, once, for the browser that started it."""
        digest, now = token_digest(state), self._clock.now()
        with write_session(self._engine) as session:
            found = session.get(OAuthStateRow, digest)
            if found is None or found.purpose != MS_CONNECT or found.used_at:
                return StateProblem.EXPIRED
            if found.expires_at > now and not same_browser(found.browser_hash, browser_nonce):
                return StateProblem.OTHER_BROWSER
            row = take_state(session, purpose=MS_CONNECT, state=state, now=now)
            if row is None or row.company_id is None:
                return StateProblem.EXPIRED
            sealed, row.payload_enc = row.payload_enc, ""  # the verifier is needed only once
        payload = json.loads(self._box.decrypt(sealed, context=payload_context(digest)))
        actor = Actor(ChatPlatform(row.platform), row.workspace_id, row.user_id)
        return PendingMsFlow(
            MsSignInFor(row.company_id, str(payload["provider"]), actor), dict(payload["flow"])
        )
