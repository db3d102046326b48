"""Connecting a Microsoft work account to host Teams meetings: msal's authorization-code flow.

Wire facts relied on (msal-python 1.3x, Microsoft identity platform v2.0):
- `initiate_auth_code_flow(scopes, redirect_uri, state, prompt, response_mode="form_post")` returns
  a dict (auth_uri, state, redirect_uri, scope, code_verifier, nonce, ...) that must be kept until
  the callback; msal warns unless response_mode is "form_post" is chosen explicitly.
- With form_post the browser POSTs Microsoft's answer to redirect_uri as a form: `code`, `state`,
  `client_info`, `session_state`, or `error` and `error_description` ("AADSTS<code>: ...").
- `acquire_token_by_auth_code_flow(flow, form)` compares the state, redeems the code with the PKCE
  verifier and checks the id token's nonce. It answers `id_token_claims` (tid, oid,
  preferred_username, name) and fills the token cache, or `{"error", "error_description"}`; a
  mismatch it detects itself raises ValueError (state) or RuntimeError (nonce).
- A personal Microsoft account has tid 9188040d-6c67-4c5b-b112-36a304b66dad; the /organizations
  authority refuses it with AADSTS500200. A single-tenant authority refuses an account of another
  directory with AADSTS50020. A declined consent is `access_denied` (AADSTS65004); consent only an
  administrator may give is AADSTS65001, 90094 or 90095. A redeemed code again is AADSTS54005.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

import msal
import requests
from msal.exceptions import MsalServiceError

from adapters.msgraph.msal_apps import (
    CONSUMER_TENANT_ID,
    SCOPES,
    MsalApps,
    aadsts_codes,
    first_line,
)
from bot.domain import MsAccount, MsConnection, MsSignInFor
from bot.domain import MsConnectRefused as ConnectRefused
from bot.errors import MeetingPlatformRejected, RetryLater
from bot.signin import StateProblem


class RefusalKind(StrEnum):
    PERSONAL_ACCOUNT = "personal_account"
    OTHER_ORGANISATION = "other_organisation"
    NO_COMPANY_ACCOUNT = "no_company_account"
    DECLINED = "declined"
    NEEDS_ADMIN_CONSENT = "needs_admin_consent"
    EXPIRED = "expired"
    OTHER_BROWSER = "other_browser"
    MISCONFIGURED = "misconfigured"
    UNREACHABLE = "unreachable"
    FAILED = "failed"


PERSONAL_ACCOUNT = (
    "Teams meetings need a work or school account (Microsoft 365 business). Personal Microsoft "
    "accounts (outlook.com, hotmail.com, live.com) cannot create online meetings through Microsoft "
    "Graph. Sign in with your organisation's account."
)
OTHER_DIRECTORY = (
    "This Microsoft account does not belong to the organisation meetbot signs in to. Sign in with "
    "an account of your organisation, or ask its Microsoft 365 admin to add you."
)
NO_COMPANY_ACCOUNT = (
    "An admin must connect the company's own Teams account first: a provider's own account must "
    "belong to the same Microsoft 365 organisation as the company's."
)
DECLINED = (
    "The Microsoft sign-in was cancelled, or the permissions meetbot asks for (create online "
    "meetings, read your basic profile) were declined, so Teams is not connected. Nothing changed."
)
NEEDS_ADMIN_CONSENT = (
    "Your organisation lets only its administrators approve apps: a Microsoft 365 admin must "
    "approve meetbot (or connect the company's account first), then try again."
)
EXPIRED = (
    "This sign-in link has expired or was already used (links work once, for 15 minutes). "
    "Start connecting Teams again from meetbot."
)
OTHER_BROWSER = (
    "This sign-in was started in another browser, or this browser did not keep meetbot's cookie. "
    "meetbot finishes a sign-in only in the browser that opened its Connect button: press the "
    "button again and finish in the same browser. Nothing was connected."
)
MISCONFIGURED = (
    "Microsoft refused meetbot's app registration: check MEETBOT_MS_CLIENT_ID and "
    "MEETBOT_MS_CLIENT_SECRET (the secret may have expired) and MEETBOT_MS_AUTHORITY."
)
UNREACHABLE = (
    "Microsoft's sign-in service could not be reached; try connecting Teams again in a minute."
)

_ADMIN_CONSENT_CODES = {65001, 90094, 90095}


def other_organisation(company_username: str) -> str:
    domain = company_username.rpartition("@")[2]
    where = f" ({domain})" if domain else ""
    return (
        f"This Microsoft account belongs to another organisation than the company's Teams "
        f"account{where}. Sign in with an account of the company's own Microsoft 365 "
        "organisation; if you have none, an admin of that organisation must create one for you "
        "or invite you."
    )


class PendingFlow(Protocol):
    @property
    def signing_in(self) -> MsSignInFor: ...
    @property
    def flow(self) -> dict[str, Any]: ...


class ConnectStore(Protocol):
    def begin_flow(
        self, *, signing_in: MsSignInFor, flow: dict[str, Any], browser_nonce: str
    ) -> None: ...
    def finish_flow(self, *, state: str, browser_nonce: str) -> PendingFlow | StateProblem: ...
    def account(self, *, company_id: str, provider_external_id: str = "") -> MsAccount | None: ...


@dataclass(frozen=True, slots=True)
class _Redeemed:
    result: dict[str, Any]
    cache: str
    home_account_id: str


class MsConnect:
    def __init__(self, apps: MsalApps, store: ConnectStore, *, redirect_uri: str) -> None:
        self._apps, self._store, self._redirect_uri = apps, store, redirect_uri

    async def authorize_url(
        self, *, signing_in: MsSignInFor, browser_nonce: str, login_hint: str = ""
    ) -> str:
        """Where to send the person signing in; the flow is kept until the callback, which only
        the browser holding `browser_nonce` may bring."""
        state = secrets.token_urlsafe(32)  # msal's own state is 16 letters from `random`
        flow = await self._in_thread(self._initiate, state, login_hint)
        self._store.begin_flow(signing_in=signing_in, flow=flow, browser_nonce=browser_nonce)
        return str(flow["auth_uri"])

    def _initiate(self, state: str, login_hint: str) -> dict[str, Any]:
        app = self._apps.app(msal.SerializableTokenCache())
        flow: dict[str, Any] = app.initiate_auth_code_flow(
            scopes=SCOPES,
            redirect_uri=self._redirect_uri,
            state=state,
            prompt="select_account",  # an admin often has several accounts signed in
            login_hint=login_hint or None,
            response_mode="form_post",
        )
        return flow

    async def complete(
        self, form: Mapping[str, str], *, browser_nonce: str
    ) -> MsConnection | ConnectRefused:
        """Finishes a sign-in from the fields Microsoft POSTed to the redirect URI, in the browser
        that started it."""
        state = form.get("state")
        pending = (
            self._store.finish_flow(state=state, browser_nonce=browser_nonce)
            if state
            else StateProblem.EXPIRED
        )
        if pending is StateProblem.OTHER_BROWSER:
            return ConnectRefused(RefusalKind.OTHER_BROWSER, OTHER_BROWSER)
        if isinstance(pending, StateProblem):
            return ConnectRefused(RefusalKind.EXPIRED, EXPIRED)
        if form.get("error"):
            return self._refused(pending, *_sign_in_error(form))
        try:
            redeemed = await self._in_thread(self._redeem, pending.flow, dict(form))
        except MeetingPlatformRejected:
            return self._refused(pending, RefusalKind.MISCONFIGURED, MISCONFIGURED)
        except RetryLater:
            return self._refused(pending, RefusalKind.UNREACHABLE, UNREACHABLE)
        except (ValueError, RuntimeError):  # msal's state or nonce check, or an unreadable answer
            detail = "Microsoft's answer did not match the sign-in meetbot started"
            return self._refused(pending, RefusalKind.FAILED, _failed(detail))
        if "error" in redeemed.result:
            return self._refused(pending, *_sign_in_error(redeemed.result))
        return self._connection(pending, redeemed)

    def _redeem(self, flow: dict[str, Any], form: dict[str, str]) -> _Redeemed:
        cache = msal.SerializableTokenCache()
        app = self._apps.app(cache)
        result: dict[str, Any] = app.acquire_token_by_auth_code_flow(flow, form)
        accounts = app.get_accounts() if "error" not in result else []
        home = str(accounts[0]["home_account_id"]) if len(accounts) == 1 else ""
        return _Redeemed(result, cache.serialize(), home)

    def _connection(
        self, pending: PendingFlow, redeemed: _Redeemed
    ) -> MsConnection | ConnectRefused:
        claims = redeemed.result.get("id_token_claims") or {}
        tenant_id, object_id = str(claims.get("tid") or ""), str(claims.get("oid") or "")
        if not tenant_id or not object_id:
            detail = "Microsoft did not say which account signed in"
            return self._refused(pending, RefusalKind.FAILED, _failed(detail))
        if tenant_id == CONSUMER_TENANT_ID:
            return self._refused(pending, RefusalKind.PERSONAL_ACCOUNT, PERSONAL_ACCOUNT)
        refusal = self._tenant_refusal(pending, tenant_id)
        if refusal is not None:
            return refusal
        username, who = str(claims.get("preferred_username") or ""), pending.signing_in
        return MsConnection(
            company_id=who.company_id,
            provider_external_id=who.provider_external_id,
            actor=who.actor,
            tenant_id=tenant_id,
            object_id=object_id,
            username=username,
            display_name=str(claims.get("name") or username),
            # msal keys its cache by "{uid}.{utid}" from client_info: the same pair as oid/tid.
            home_account_id=redeemed.home_account_id or f"{object_id}.{tenant_id}",
            token_cache=redeemed.cache,
        )

    def _tenant_refusal(self, pending: PendingFlow, tenant_id: str) -> ConnectRefused | None:
        """A provider's own account must be of the company account's organisation (tenant)."""
        if not pending.signing_in.provider_external_id:
            return None
        company = self._store.account(company_id=pending.signing_in.company_id)
        if company is None:
            return self._refused(pending, RefusalKind.NO_COMPANY_ACCOUNT, NO_COMPANY_ACCOUNT)
        if company.tenant_id != tenant_id:
            reason = other_organisation(company.username)
            return self._refused(pending, RefusalKind.OTHER_ORGANISATION, reason)
        return None

    @staticmethod
    def _refused(pending: PendingFlow, kind: RefusalKind, reason: str) -> ConnectRefused:
        who = pending.signing_in
        return ConnectRefused(kind, reason, who.company_id, who.provider_external_id, who.actor)

    async def _in_thread(self, call: Any, *args: Any) -> Any:
        try:
            return await asyncio.to_thread(call, *args)
        except requests.RequestException as error:
            raise RetryLater(UNREACHABLE) from error
        except MsalServiceError as error:  # a 5xx from the sign-in service
            raise RetryLater(UNREACHABLE) from error


def _sign_in_error(answer: Mapping[str, Any]) -> tuple[RefusalKind, str]:
    """A refusal for Microsoft's error answer, redirected or from the token endpoint."""
    codes, error = aadsts_codes(answer), str(answer.get("error") or "")
    if 500200 in codes:
        return RefusalKind.PERSONAL_ACCOUNT, PERSONAL_ACCOUNT
    if 50020 in codes:
        return RefusalKind.OTHER_ORGANISATION, OTHER_DIRECTORY
    if codes & _ADMIN_CONSENT_CODES:
        return RefusalKind.NEEDS_ADMIN_CONSENT, NEEDS_ADMIN_CONSENT
    if error == "access_denied" or 65004 in codes:
        return RefusalKind.DECLINED, DECLINED
    if error in ("invalid_client", "unauthorized_client"):
        return RefusalKind.MISCONFIGURED, MISCONFIGURED
    if 54005 in codes:
        return RefusalKind.EXPIRED, EXPIRED
    detail = first_line(answer.get("error_description")) or error or "no reason given"
    return RefusalKind.FAILED, _failed(f"Microsoft said: {detail}")


def _failed(detail: str) -> str:
    return f"Teams was not connected ({detail}). Start connecting Teams again from meetbot."
