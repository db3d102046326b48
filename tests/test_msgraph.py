"""Teams meetings through the Microsoft Graph adapter, against the Microsoft simulator over real HTTP.

msal needs an https authority, so the simulator's identity half is served over TLS with a loopback
certificate; Graph is served over plain HTTP. Storage runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import json
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any, TypeVar

import httpx
import pytest
import requests
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from adapters.msgraph.connect import (
    PERSONAL_ACCOUNT,
    ConnectRefused,
    MsConnect,
    MsConnection,
    RefusalKind,
)
from adapters.msgraph.meetings import FORBIDDEN, GraphMeetings
from adapters.msgraph.msal_apps import MsalApps, MsalConfig
from adapters.msgraph.tokens import GraphTokens
from bot.domain import (
    AccountState,
    Actor,
    ChatPlatform,
    MeetingHostRef,
    MeetingPlatform,
    MeetingRequest,
    MsSignInFor,
)
from bot.errors import (
    MeetingAccountRevoked,
    MeetingGone,
    MeetingPlatformRejected,
    OutcomeUnknown,
    RetryLater,
)
from bot.ports import MeetingPlatformPort
from simulators.microsoft import AccountKind, MicrosoftSimulator, MicrosoftUser
from simulators.server import BackgroundServer
from simulators.tls import LoopbackCertificate, loopback_certificate
from storage.crypto import SecretBox, generate_key
from storage.db import make_engine
from storage.ms_accounts import SqlMsAccounts, TokenCacheSnapshot
from storage.ms_sign_ins import SqlMsSignIns
from storage.tables import CompanyRow, MsAccountRow, OAuthStateRow
from tests.simulators.conftest import AppSlot

REDIRECT = "https://meetbot.example/teams/callback"
ADMIN = Actor(ChatPlatform.SLACK, "T1", "U-admin")
PROVIDER = Actor(ChatPlatform.SLACK, "T1", "U-provider")
START = datetime(2030, 5, 1, 7, 0, tzinfo=UTC)
BROWSER = "nonce-in-the-starting-browsers-cookie"

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


class Clock:
    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


class FormPost(HTMLParser):
    """The fields a browser would POST from a form_post answer."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "input" and found.get("type") == "hidden":
            self.fields[found["name"]] = found["value"]


@dataclass
class Cast:
    alice: MicrosoftUser  # work account, the company's tenant
    bob: MicrosoftUser  # work account, the company's tenant
    erin: MicrosoftUser  # work account of another organisation
    pat: MicrosoftUser  # personal Microsoft account


# Servers: one of each for the module; every test plugs in its own simulator.


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> LoopbackCertificate:
    return loopback_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def identity_server(cert: LoopbackCertificate) -> Iterator[tuple[AppSlot, str]]:
    slot = AppSlot()
    with BackgroundServer(slot, name="microsoft-identity", lifespan="off", tls=cert) as server:
        yield slot, server.url
        # A response still alive keeps its keep-alive socket open past Session.close();
        # collect it so stopping the server does not wait on it.
        gc.collect()


@pytest.fixture(scope="module")
def graph_server() -> Iterator[tuple[AppSlot, str]]:
    slot = AppSlot()
    with BackgroundServer(slot, name="microsoft-graph", lifespan="off") as server:
        yield slot, server.url


@pytest.fixture
def sim(
    identity_server: tuple[AppSlot, str], graph_server: tuple[AppSlot, str]
) -> Iterator[MicrosoftSimulator]:
    sim = MicrosoftSimulator(redirect_uris=[REDIRECT])
    identity_server[0].app = graph_server[0].app = sim.app
    yield sim
    sim.faults.clear()
    identity_server[0].app = graph_server[0].app = None


@pytest.fixture
def cast(sim: MicrosoftSimulator) -> Cast:
    return Cast(
        alice=sim.add_user("Alice Kovalenko", "alice@contoso.example"),
        bob=sim.add_user("Bob Marsh", "bob@contoso.example"),
        erin=sim.add_user("Erin Other", "erin@fabrikam.example", kind=AccountKind.EXTERNAL),
        pat=sim.add_user("Pat Home", "pat@outlook.example", kind=AccountKind.PERSONAL),
    )


# meetbot's side.


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def box() -> SecretBox:
    return SecretBox([generate_key()])


@pytest.fixture
def accounts(engine: Engine, box: SecretBox, clock: Clock) -> SqlMsAccounts:
    return SqlMsAccounts(engine, box, clock)


def add_company(engine: Engine, login: str) -> str:
    with Session(engine, expire_on_commit=False) as session, session.begin():
        row = CompanyRow(
            simplybook_login=login,
            api_key_enc="-",
            api_secret_enc="-",
            webhook_token_hash=f"hash-{login}",
            webhook_token_enc="-",
        )
        session.add(row)
    return row.id


@pytest.fixture
def company_id(engine: Engine) -> str:
    return add_company(engine, "contoso")


@pytest.fixture
def make_apps(
    sim: MicrosoftSimulator, identity_server: tuple[AppSlot, str], cert: LoopbackCertificate
) -> Iterator[Callable[..., MsalApps]]:
    made: list[MsalApps] = []

    def make(client_secret: str = sim.client_secret) -> MsalApps:
        apps = MsalApps(
            MsalConfig(
                client_id=sim.client_id,
                client_secret=client_secret,
                authority=f"{identity_server[1]}/organizations",
                ca_bundle=str(cert.cert_path),
                validate_authority=False,
            )
        )
        made.append(apps)
        return apps

    yield make
    for apps in made:
        apps.close()


@pytest.fixture
def apps(make_apps: Callable[..., MsalApps]) -> MsalApps:
    return make_apps()


@pytest.fixture
def connect(
    apps: MsalApps, accounts: SqlMsAccounts, engine: Engine, box: SecretBox, clock: Clock
) -> MsConnect:
    return MsConnect(apps, SqlMsSignIns(engine, box, clock, accounts), redirect_uri=REDIRECT)


@pytest.fixture
def tokens(apps: MsalApps, accounts: SqlMsAccounts) -> GraphTokens:
    return GraphTokens(accounts, apps)


@pytest.fixture
def browser(cert: LoopbackCertificate) -> Iterator[requests.Session]:
    session = requests.Session()
    session.verify = str(cert.cert_path)
    session.trust_env = False  # the environment's CA-bundle variables would override `verify`
    yield session
    session.close()


@dataclass
class SignIn:
    """A person following meetbot's sign-in link in a browser."""

    sim: MicrosoftSimulator
    connect: MsConnect
    browser: requests.Session

    def answer(
        self, user: MicrosoftUser, company_id: str, provider: str = "", actor: Actor = ADMIN
    ) -> dict[str, str]:
        """What Microsoft's form_post page makes the browser POST to the callback."""
        self.sim.signing_in = user
        url = run(
            self.connect.authorize_url(
                signing_in=MsSignInFor(company_id, provider, actor), browser_nonce=BROWSER
            )
        )
        page = self.browser.get(url)
        assert page.status_code == 200, page.text
        return FormPost(page.text).fields

    def __call__(
        self, user: MicrosoftUser, company_id: str, provider: str = "", actor: Actor = ADMIN
    ) -> MsConnection | ConnectRefused:
        answer = self.answer(user, company_id, provider, actor)
        return run(self.connect.complete(answer, browser_nonce=BROWSER))


@pytest.fixture
def sign_in(sim: MicrosoftSimulator, connect: MsConnect, browser: requests.Session) -> SignIn:
    return SignIn(sim, connect, browser)


def save(accounts: SqlMsAccounts, connection: MsConnection | ConnectRefused) -> str:
    assert isinstance(connection, MsConnection), connection
    saved = accounts.save_account(
        connection=connection,
        connected_by=f"{connection.actor.platform}:{connection.actor.user_id}",
    )
    return saved.id


@pytest.fixture
def host(sign_in: SignIn, accounts: SqlMsAccounts, company_id: str, cast: Cast) -> MeetingHostRef:
    """The company's account, connected by Alice."""
    account_id = save(accounts, sign_in(cast.alice, company_id))
    return MeetingHostRef(MeetingPlatform.TEAMS, account_id, cast.alice.oid)


def meeting_request(marker: str = "meetbot:m-1", minutes: int = 45) -> MeetingRequest:
    return MeetingRequest(
        topic="Consultation with Dana",
        start=START,
        duration_minutes=minutes,
        timezone="Europe/Kyiv",
        agenda="Booking 1001",
        marker=marker,
    )


GraphCall = Callable[[GraphMeetings], Coroutine[Any, Any, T]]


@pytest.fixture
def graph(graph_server: tuple[AppSlot, str], tokens: GraphTokens) -> Callable[..., Any]:
    """Runs `call(meetings)` with a fresh Graph client, as one job attempt would."""

    def call(action: GraphCall[T], *, timeout: float = 5.0) -> T:
        async def main() -> T:
            async with httpx.AsyncClient(timeout=timeout) as http:
                meetings = GraphMeetings(http, api_url=f"{graph_server[1]}/v1.0", tokens=tokens)
                port: MeetingPlatformPort = meetings  # what the core will be given
                assert port is meetings
                return await action(meetings)

        return run(main())

    return call


def cache_secrets(state: str) -> list[str]:
    document = json.loads(state)
    return [
        entry["secret"]
        for kind in ("AccessToken", "RefreshToken", "IdToken")
        for entry in document.get(kind, {}).values()
    ]


# Connecting.


def test_company_account_connects(
    sign_in: SignIn, accounts: SqlMsAccounts, engine: Engine, company_id: str, cast: Cast
) -> None:
    connection = sign_in(cast.alice, company_id)
    assert isinstance(connection, MsConnection), connection
    assert (connection.company_id, connection.provider_external_id) == (company_id, "")
    assert connection.actor == ADMIN
    assert (connection.tenant_id, connection.object_id) == (cast.alice.tid, cast.alice.oid)
    assert connection.username == "alice@contoso.example"
    assert connection.display_name == "Alice Kovalenko"
    assert connection.home_account_id == cast.alice.home_account_id
    assert "secret" not in repr(connection) and connection.token_cache not in repr(connection)

    account_id = save(accounts, connection)
    account = accounts.account(company_id=company_id)
    assert account is not None and account.id == account_id
    assert (account.object_id, account.state) == (cast.alice.oid, AccountState.ACTIVE)
    assert accounts.account(company_id="another-company") is None
    assert accounts.account_by_id(company_id="another-company", account_id=account_id) is None


def test_tokens_are_stored_encrypted(
    sign_in: SignIn,
    accounts: SqlMsAccounts,
    engine: Engine,
    box: SecretBox,
    company_id: str,
    cast: Cast,
) -> None:
    answer = sign_in.answer(cast.alice, company_id)
    with Session(engine) as session:
        [pending] = session.scalars(select(OAuthStateRow)).all()
    assert pending.state_hash == hashlib.sha256(answer["state"].encode()).hexdigest()
    connection = run(sign_in.connect.complete(answer, browser_nonce=BROWSER))
    account_id = save(accounts, connection)
    with Session(engine) as session:
        row = session.get(MsAccountRow, account_id)
        used = session.get(OAuthStateRow, pending.state_hash)
    assert row is not None and used is not None
    stored = accounts.token_cache(account_id=account_id).state
    secrets = cache_secrets(stored)
    assert len(secrets) == 3  # access, refresh and id token
    for secret in secrets:
        assert secret not in row.token_cache_enc
    assert '"RefreshToken"' not in row.token_cache_enc
    assert pending.payload_enc and "code_verifier" not in pending.payload_enc
    assert used.used_at is not None and used.payload_enc == ""  # the verifier is gone once used
    with pytest.raises(ValueError):  # bound to its row: useless anywhere else
        box.decrypt(row.token_cache_enc, context="ms_account.token_cache:another-row")


def test_provider_connects_own_account(
    sign_in: SignIn, accounts: SqlMsAccounts, host: MeetingHostRef, company_id: str, cast: Cast
) -> None:
    connection = sign_in(cast.bob, company_id, provider="p-7", actor=PROVIDER)
    assert isinstance(connection, MsConnection), connection
    assert (connection.provider_external_id, connection.actor) == ("p-7", PROVIDER)
    assert connection.object_id == cast.bob.oid
    save(accounts, connection)
    listed = accounts.accounts(company_id=company_id)
    assert [(a.provider_external_id, a.username) for a in listed] == [
        ("", "alice@contoso.example"),
        ("p-7", "bob@contoso.example"),
    ]
    assert accounts.account(company_id=company_id, provider_external_id="p-7") is not None


@pytest.mark.parametrize("microsoft_refuses", [True, False])
def test_personal_account_refused(
    sim: MicrosoftSimulator,
    sign_in: SignIn,
    company_id: str,
    cast: Cast,
    engine: Engine,
    microsoft_refuses: bool,
) -> None:
    # Microsoft refuses personal accounts on /organizations (AADSTS500200); should one get
    # through anyway, meetbot refuses it by its tenant.
    sim.personal_accounts_pass = not microsoft_refuses
    refused = sign_in(cast.pat, company_id)
    assert isinstance(refused, ConnectRefused)
    assert refused.kind is RefusalKind.PERSONAL_ACCOUNT
    assert refused.reason == PERSONAL_ACCOUNT
    assert "work or school account" in refused.reason and "outlook.com" in refused.reason
    assert refused.company_id == company_id
    with Session(engine) as session:
        assert session.scalars(select(MsAccountRow)).all() == []


def test_provider_of_another_organisation_refused(
    sign_in: SignIn, accounts: SqlMsAccounts, host: MeetingHostRef, company_id: str, cast: Cast
) -> None:
    refused = sign_in(cast.erin, company_id, provider="p-7", actor=PROVIDER)
    assert isinstance(refused, ConnectRefused)
    assert refused.kind is RefusalKind.OTHER_ORGANISATION
    assert "another organisation" in refused.reason and "contoso.example" in refused.reason
    assert "invite" in refused.reason
    assert accounts.account(company_id=company_id, provider_external_id="p-7") is None


def test_provider_needs_the_company_account_first(
    sign_in: SignIn, company_id: str, cast: Cast
) -> None:
    refused = sign_in(cast.bob, company_id, provider="p-7", actor=PROVIDER)
    assert isinstance(refused, ConnectRefused)
    assert refused.kind is RefusalKind.NO_COMPANY_ACCOUNT


def test_company_account_of_another_organisation_is_fine(
    sign_in: SignIn, company_id: str, cast: Cast
) -> None:
    connection = sign_in(cast.erin, company_id)
    assert isinstance(connection, MsConnection) and connection.tenant_id == cast.erin.tid


def test_declined_sign_in(sign_in: SignIn, company_id: str, cast: Cast) -> None:
    state = sign_in.answer(cast.alice, company_id)["state"]
    declined = {
        "state": state,
        "error": "access_denied",
        "error_description": "AADSTS65004: User declined to consent to access the app.",
    }
    refused = run(sign_in.connect.complete(declined, browser_nonce=BROWSER))
    assert isinstance(refused, ConnectRefused) and refused.kind is RefusalKind.DECLINED
    assert "Nothing changed" in refused.reason


def test_used_unknown_or_expired_state(
    sign_in: SignIn, company_id: str, cast: Cast, clock: Clock
) -> None:
    answer = sign_in.answer(cast.alice, company_id)
    assert isinstance(run(sign_in.connect.complete(answer, browser_nonce=BROWSER)), MsConnection)
    for form in (answer, {**answer, "state": "forged"}, {"code": answer["code"]}):
        again = run(sign_in.connect.complete(form, browser_nonce=BROWSER))
        assert isinstance(again, ConnectRefused) and again.kind is RefusalKind.EXPIRED
        assert "expired or was already used" in again.reason
    late = sign_in.answer(cast.alice, company_id)
    clock.offset = timedelta(minutes=16)
    expired = run(sign_in.connect.complete(late, browser_nonce=BROWSER))
    assert isinstance(expired, ConnectRefused) and expired.kind is RefusalKind.EXPIRED


def test_only_the_starting_browser_finishes_the_sign_in(
    sign_in: SignIn, company_id: str, cast: Cast
) -> None:
    answer = sign_in.answer(cast.alice, company_id)
    for nonce in ("", "another-browsers-nonce"):
        refused = run(sign_in.connect.complete(answer, browser_nonce=nonce))
        assert isinstance(refused, ConnectRefused) and refused.kind is RefusalKind.OTHER_BROWSER
        assert "only in the browser that opened its Connect button" in refused.reason
    finished = run(sign_in.connect.complete(answer, browser_nonce=BROWSER))
    assert isinstance(finished, MsConnection), "a wrong browser does not use the state up"


def test_reconnect_replaces_the_account_and_keeps_its_id(
    sign_in: SignIn, accounts: SqlMsAccounts, host: MeetingHostRef, company_id: str, cast: Cast
) -> None:
    account_id = save(accounts, sign_in(cast.bob, company_id))
    assert account_id == host.account_id
    account = accounts.account(company_id=company_id)
    assert account is not None and account.object_id == cast.bob.oid
    assert len(accounts.accounts(company_id=company_id)) == 1
    assert accounts.disconnect(company_id=company_id)
    assert not accounts.disconnect(company_id=company_id)
    assert accounts.account(company_id=company_id) is None
    with pytest.raises(MeetingAccountRevoked, match="disconnected"):
        accounts.token_cache(account_id=account_id)


# Meetings.


def test_create_or_get_makes_one_meeting(
    sim: MicrosoftSimulator, graph: Callable[..., Any], host: MeetingHostRef, cast: Cast
) -> None:
    first = graph(lambda m: m.create_meeting(host=host, request=meeting_request()))
    again = graph(lambda m: m.create_meeting(host=host, request=meeting_request()))
    assert again == first
    assert sim.created_count() == 1
    [stored] = sim.meetings_of(cast.alice)
    assert stored["id"] == first.external_id and stored["joinWebUrl"] == first.join_url
    assert stored["externalId"] == "meetbot:m-1"
    assert stored["subject"] == "Consultation with Dana"
    assert stored["startDateTime"] == "2030-05-01T07:00:00.0000000Z"
    assert stored["endDateTime"] == "2030-05-01T07:45:00.0000000Z"
    found = graph(lambda m: m.find_meeting(host=host, marker="meetbot:m-1", start=START))
    assert found == first and sim.created_count() == 1
    url = graph(lambda m: m.fresh_host_url(host=host, external_id=first.external_id))
    assert url == first.join_url


def test_move_then_delete(
    sim: MicrosoftSimulator, graph: Callable[..., Any], host: MeetingHostRef
) -> None:
    created = graph(lambda m: m.create_meeting(host=host, request=meeting_request()))
    later = START + timedelta(days=1, hours=2)
    graph(
        lambda m: m.move_meeting(
            host=host, external_id=created.external_id, start=later, duration_minutes=30
        )
    )
    moved = sim.meeting(created.external_id)
    assert moved is not None
    assert (moved["startDateTime"], moved["endDateTime"]) == (
        "2030-05-02T09:00:00.0000000Z",
        "2030-05-02T09:30:00.0000000Z",
    )
    graph(lambda m: m.delete_meeting(host=host, external_id=created.external_id))
    assert sim.meeting(created.external_id) is None
    graph(lambda m: m.delete_meeting(host=host, external_id=created.external_id))  # already gone
    with pytest.raises(MeetingGone):
        graph(
            lambda m: m.move_meeting(
                host=host, external_id=created.external_id, start=later, duration_minutes=30
            )
        )
    with pytest.raises(MeetingGone):
        graph(lambda m: m.fresh_host_url(host=host, external_id=created.external_id))


def test_throttled_retries_after_what_graph_says(
    sim: MicrosoftSimulator, graph: Callable[..., Any], host: MeetingHostRef
) -> None:
    sim.throttle(times=1, retry_after=7)
    with pytest.raises(RetryLater) as caught:
        graph(lambda m: m.create_meeting(host=host, request=meeting_request()))
    assert caught.value.after_seconds == 7
    assert "limiting" in str(caught.value)
    assert graph(lambda m: m.create_meeting(host=host, request=meeting_request()))
    assert sim.created_count() == 1


def test_outages(sim: MicrosoftSimulator, graph: Callable[..., Any], host: MeetingHostRef) -> None:
    sim.faults.fail(method="PATCH", path="/onlineMeetings/", status=503)
    created = graph(lambda m: m.create_meeting(host=host, request=meeting_request()))
    with pytest.raises(RetryLater) as caught:
        graph(
            lambda m: m.move_meeting(
                host=host, external_id=created.external_id, start=START, duration_minutes=30
            )
        )
    assert type(caught.value) is RetryLater and "503" in str(caught.value)


def test_lost_answer_to_create_is_outcome_unknown_then_found(
    sim: MicrosoftSimulator, graph: Callable[..., Any], host: MeetingHostRef
) -> None:
    sim.faults.hang_after_effect(method="POST", path="/createOrGet$", seconds=5)
    with pytest.raises(OutcomeUnknown):
        graph(lambda m: m.create_meeting(host=host, request=meeting_request()), timeout=0.5)
    assert sim.created_count() == 1  # it was made; only the answer was lost
    found = graph(lambda m: m.find_meeting(host=host, marker="meetbot:m-1", start=START))
    assert found is not None and sim.meeting(found.external_id) is not None
    assert sim.created_count() == 1


def test_expired_access_token_is_refreshed_once(
    sim: MicrosoftSimulator,
    graph: Callable[..., Any],
    host: MeetingHostRef,
    accounts: SqlMsAccounts,
) -> None:
    before = accounts.token_cache(account_id=host.account_id)
    sim.expire_access_tokens()
    assert graph(lambda m: m.create_meeting(host=host, request=meeting_request()))
    assert sim.refresh_count == 1
    after = accounts.token_cache(account_id=host.account_id)
    assert after.version != before.version  # the refreshed cache was stored
    assert graph(lambda m: m.create_meeting(host=host, request=meeting_request("meetbot:m-2")))
    assert sim.refresh_count == 1  # ... and used: no second refresh


def test_revoked_account_needs_reconnecting(
    sim: MicrosoftSimulator,
    graph: Callable[..., Any],
    host: MeetingHostRef,
    accounts: SqlMsAccounts,
    sign_in: SignIn,
    company_id: str,
    cast: Cast,
) -> None:
    sim.revoke(cast.alice)
    with pytest.raises(MeetingAccountRevoked) as caught:
        graph(lambda m: m.create_meeting(host=host, request=meeting_request()))
    assert str(caught.value).startswith(
        "Microsoft refused meetbot's access (the sign-in was revoked"
    )
    assert str(caught.value).endswith("an admin must reconnect Teams")
    account = accounts.account(company_id=company_id)
    assert account is not None and account.state is AccountState.NEEDS_RECONNECT
    assert "revoked" in account.state_reason
    token_requests = len(sim.token_requests)
    with pytest.raises(MeetingAccountRevoked, match="needs to be renewed"):
        graph(lambda m: m.create_meeting(host=host, request=meeting_request()))
    assert len(sim.token_requests) == token_requests  # no more asking Microsoft in vain
    assert save(accounts, sign_in(cast.alice, company_id)) == host.account_id
    assert graph(lambda m: m.create_meeting(host=host, request=meeting_request()))


def test_online_meetings_denied(
    sim: MicrosoftSimulator, graph: Callable[..., Any], host: MeetingHostRef, cast: Cast
) -> None:
    sim.deny_online_meetings(cast.alice)
    with pytest.raises(MeetingPlatformRejected) as caught:
        graph(lambda m: m.create_meeting(host=host, request=meeting_request()))
    assert str(caught.value) == FORBIDDEN
    assert "Teams licence" in FORBIDDEN and "admin" in FORBIDDEN


def test_error_texts_carry_no_tokens(
    sim: MicrosoftSimulator,
    graph: Callable[..., Any],
    host: MeetingHostRef,
    accounts: SqlMsAccounts,
    cast: Cast,
) -> None:
    secrets = cache_secrets(accounts.token_cache(account_id=host.account_id).state)
    sim.revoke(cast.alice)
    with pytest.raises(MeetingAccountRevoked) as caught:
        graph(lambda m: m.create_meeting(host=host, request=meeting_request()))
    assert not any(secret in str(caught.value) for secret in secrets)


# Two workers.


class ReadBeforeTheOtherWorker(SqlMsAccounts):
    """The store as seen by a worker whose first read happened before another worker's write."""

    def __init__(self, inner: SqlMsAccounts, early: TokenCacheSnapshot) -> None:
        self.__dict__.update(inner.__dict__)
        self._early: TokenCacheSnapshot | None = early

    def token_cache(self, *, account_id: str) -> TokenCacheSnapshot:
        early, self._early = self._early, None
        return early or super().token_cache(account_id=account_id)


def test_worker_with_a_stale_cache_takes_the_other_workers_refresh(
    sim: MicrosoftSimulator,
    host: MeetingHostRef,
    accounts: SqlMsAccounts,
    make_apps: Callable[..., MsalApps],
    company_id: str,
) -> None:
    # The simulator kills a refresh token once it is used (stricter than Entra): the slow
    # worker's refresh is refused, and it must pick up the other's cache, not give up.
    early = accounts.token_cache(account_id=host.account_id)
    stale = GraphTokens(accounts, make_apps())
    first_token = run(stale.access_token(host.account_id))
    sim.expire_access_tokens()
    fast = run(GraphTokens(accounts, make_apps()).refreshed(host.account_id, stale=first_token))
    assert sim.refresh_count == 1
    slow_store = ReadBeforeTheOtherWorker(accounts, early)
    slow = run(GraphTokens(slow_store, make_apps()).refreshed(host.account_id, stale=first_token))
    assert slow == fast
    assert sim.refresh_count == 1
    refreshes = [r for r in sim.token_requests if r["grant_type"] == "refresh_token"]
    assert len(refreshes) == 2  # the slow worker's refresh was refused, then it re-read
    account = accounts.account_by_id(company_id=company_id, account_id=host.account_id)
    assert account is not None and account.state is AccountState.ACTIVE


def test_two_workers_refresh_at_once(
    sim: MicrosoftSimulator,
    host: MeetingHostRef,
    accounts: SqlMsAccounts,
    make_apps: Callable[..., MsalApps],
) -> None:
    sim.single_use_refresh_tokens = False  # as Entra does: used refresh tokens stay valid
    first_token = run(GraphTokens(accounts, make_apps()).access_token(host.account_id))
    sim.expire_access_tokens()
    sim.faults.latency = 0.2  # both refreshes in flight together
    start = threading.Barrier(2)
    results: list[str] = []

    def worker() -> None:
        tokens = GraphTokens(accounts, make_apps())
        start.wait()
        results.append(run(tokens.refreshed(host.account_id, stale=first_token)))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    sim.faults.latency = 0
    assert len(results) == 2 and first_token not in results
    kept = run(GraphTokens(accounts, make_apps()).access_token(host.account_id))
    assert kept in results  # one worker's cache was stored whole, and it works
    assert sim.refresh_count in (1, 2)  # 1 when one worker read the other's cache in time


def test_sign_in_service_outage_is_passing(
    sim: MicrosoftSimulator,
    graph: Callable[..., Any],
    host: MeetingHostRef,
    accounts: SqlMsAccounts,
    company_id: str,
) -> None:
    sim.expire_access_tokens()
    sim.faults.fail(method="POST", path="/oauth2/v2.0/token$", status=503)
    with pytest.raises(RetryLater, match="sign-in service"):
        graph(lambda m: m.create_meeting(host=host, request=meeting_request()))
    account = accounts.account(company_id=company_id)
    assert account is not None and account.state is AccountState.ACTIVE
    assert graph(lambda m: m.create_meeting(host=host, request=meeting_request()))  # next attempt


def test_wrong_client_secret_is_not_the_accounts_fault(
    sim: MicrosoftSimulator,
    host: MeetingHostRef,
    accounts: SqlMsAccounts,
    make_apps: Callable[..., MsalApps],
    company_id: str,
) -> None:
    wrong = make_apps(client_secret="not-the-secret")
    token = run(GraphTokens(accounts, wrong).access_token(host.account_id))  # from the cache
    with pytest.raises(MeetingPlatformRejected, match="MEETBOT_MS_CLIENT_SECRET"):
        run(GraphTokens(accounts, wrong).refreshed(host.account_id, stale=token))
    account = accounts.account(company_id=company_id)
    assert account is not None and account.state is AccountState.ACTIVE


def test_provider_account_hosts_its_own_meetings(
    sim: MicrosoftSimulator,
    sign_in: SignIn,
    accounts: SqlMsAccounts,
    graph: Callable[..., Any],
    host: MeetingHostRef,
    company_id: str,
    cast: Cast,
) -> None:
    bob_id = save(accounts, sign_in(cast.bob, company_id, provider="p-7", actor=PROVIDER))
    bob = MeetingHostRef(MeetingPlatform.TEAMS, bob_id, cast.bob.oid)
    for_bob = graph(lambda m: m.create_meeting(host=bob, request=meeting_request()))
    for_alice = graph(lambda m: m.create_meeting(host=host, request=meeting_request()))
    assert for_bob != for_alice  # the same marker, but each organizer has their own meeting
    assert [m["id"] for m in sim.meetings_of(cast.bob)] == [for_bob.external_id]
    assert [m["id"] for m in sim.meetings_of(cast.alice)] == [for_alice.external_id]
    sim.revoke(cast.bob)
    with pytest.raises(MeetingAccountRevoked):
        graph(lambda m: m.create_meeting(host=bob, request=meeting_request("meetbot:m-2")))
    assert graph(lambda m: m.create_meeting(host=host, request=meeting_request("meetbot:m-2")))
    states = {a.provider_external_id: a.state for a in accounts.accounts(company_id=company_id)}
    assert states == {"": AccountState.ACTIVE, "p-7": AccountState.NEEDS_RECONNECT}


def test_teams_has_no_registrations(
    sim: MicrosoftSimulator, graph: Callable[..., Any], host: MeetingHostRef
) -> None:
    created = graph(lambda m: m.create_meeting(host=host, request=meeting_request()))
    registered = graph(
        lambda m: m.add_registrant(
            host=host, external_id=created.external_id, name="Dana", email="dana@example.com"
        )
    )
    assert registered is None
    graph(
        lambda m: m.cancel_registrant(
            host=host, external_id=created.external_id, registrant_id="", email="dana@example.com"
        )
    )
    assert sim.meeting(created.external_id) is not None
