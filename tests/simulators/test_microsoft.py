from __future__ import annotations

import base64
import gc
import hashlib
import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import msal
import pytest
import requests

from simulators.microsoft import (
    CONSUMER_TENANT_ID,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_TENANT_ID,
    AccountKind,
    MicrosoftSimulator,
    MicrosoftUser,
)
from simulators.server import BackgroundServer
from simulators.tls import LoopbackCertificate, loopback_certificate
from tests.simulators.conftest import AppSlot

from ..microsoft_platform import FormPost

REDIRECT = "https://meetbot.example/teams/callback"
SCOPES = ["OnlineMeetings.ReadWrite", "User.Read"]
WIRE_SCOPE = "OnlineMeetings.ReadWrite User.Read offline_access openid profile"
SLOT = {"startDateTime": "2030-05-01T10:00:00+03:00", "endDateTime": "2030-05-01T11:00:00+03:00"}


@dataclass
class Cast:
    alice: MicrosoftUser  # work account, company tenant
    bob: MicrosoftUser  # work account, company tenant
    erin: MicrosoftUser  # work account of another organisation
    pat: MicrosoftUser  # personal Microsoft account


@pytest.fixture
def sim() -> Iterator[MicrosoftSimulator]:
    sim = MicrosoftSimulator(redirect_uris=[REDIRECT])
    yield sim
    sim.faults.clear()


@pytest.fixture
def cast(sim: MicrosoftSimulator) -> Cast:
    return Cast(
        alice=sim.add_user("Alice Kovalenko", "alice@contoso.example"),
        bob=sim.add_user("Bob Marsh", "bob@contoso.example"),
        erin=sim.add_user("Erin Other", "erin@fabrikam.example", kind=AccountKind.EXTERNAL),
        pat=sim.add_user("Pat Home", "pat@outlook.example", kind="personal"),
    )


@pytest.fixture
def url(sim: MicrosoftSimulator, cast: Cast, serve: Callable[[Any], str]) -> str:
    return serve(sim.app)


# Raw protocol helpers.


def claims_of(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(32)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize(
    http: httpx.Client, url: str, tenant: str = "organizations", **extra: str
) -> httpx.Response:
    params = {
        "client_id": DEFAULT_CLIENT_ID,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": WIRE_SCOPE,
        "state": "st-1",
        "nonce": "nonce-1",
        "client_info": "1",
        **extra,
    }
    return http.get(f"{url}/{tenant}/oauth2/v2.0/authorize", params=params)


def redirect_params(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def token_request(
    http: httpx.Client,
    url: str,
    tenant: str = "organizations",
    secret: str = DEFAULT_CLIENT_SECRET,
    **form: str,
) -> httpx.Response:
    body = {"client_id": DEFAULT_CLIENT_ID, "client_secret": secret, **form}
    return http.post(f"{url}/{tenant}/oauth2/v2.0/token", data=body)


def sign_in(http: httpx.Client, url: str, tenant: str = "organizations") -> dict[str, Any]:
    """The whole code flow over raw HTTP; returns the token answer."""
    verifier, challenge = pkce()
    code = redirect_params(
        authorize(http, url, tenant, code_challenge=challenge, code_challenge_method="S256")
    )["code"]
    answer = token_request(
        http,
        url,
        tenant,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=verifier,
        scope=WIRE_SCOPE,
        client_info="1",
    )
    assert answer.status_code == 200, answer.text
    tokens: dict[str, Any] = answer.json()
    return tokens


def aadsts(response: httpx.Response) -> tuple[str, int]:
    body = response.json()
    return body["error"], body["error_codes"][0]


# Discovery.


def test_discovery_document(url: str, http: httpx.Client) -> None:
    doc = http.get(f"{url}/organizations/v2.0/.well-known/openid-configuration").json()
    assert doc["issuer"] == f"{url}/{{tenantid}}/v2.0"
    assert doc["authorization_endpoint"] == f"{url}/organizations/oauth2/v2.0/authorize"
    assert doc["token_endpoint"] == f"{url}/organizations/oauth2/v2.0/token"
    assert http.get(doc["jwks_uri"]).json() == {"keys": []}
    assert "form_post" in doc["response_modes_supported"]
    single = http.get(f"{url}/{DEFAULT_TENANT_ID}/v2.0/.well-known/openid-configuration").json()
    assert single["issuer"] == f"{url}/{DEFAULT_TENANT_ID}/v2.0"


def test_unknown_tenant(url: str, http: httpx.Client) -> None:
    answer = http.get(
        f"{url}/nowhere/v2.0/.well-known/openid-configuration",
        headers={"client-request-id": "corr-1"},
    )
    assert answer.status_code == 400
    body = answer.json()
    assert (body["error"], body["error_codes"]) == ("invalid_tenant", [90002])
    assert body["error_description"].startswith("AADSTS90002: Tenant 'nowhere' not found.")
    assert "\r\nTrace ID: " in body["error_description"]
    assert body["correlation_id"] == "corr-1"
    assert body["trace_id"] and body["timestamp"].endswith("Z")
    assert body["error_uri"].endswith("?code=90002")
    assert authorize(http, url, "nowhere").status_code == 400


# Signing in.


def test_authorize_query_mode(url: str, http: httpx.Client, cast: Cast) -> None:
    params = redirect_params(authorize(http, url))
    assert params["state"] == "st-1"
    assert params["code"] and params["session_state"]
    assert claims_of("x." + params["client_info"]) == {
        "uid": cast.alice.oid,
        "utid": cast.alice.tid,
    }


def test_authorize_form_post(url: str, http: httpx.Client) -> None:
    answer = authorize(http, url, response_mode="form_post")
    assert answer.status_code == 200
    assert "document.forms[0].submit()" in answer.text
    form = FormPost(answer.text)
    assert form.action == REDIRECT
    assert form.fields["state"] == "st-1" and form.fields["code"]


@pytest.mark.parametrize(
    ("change", "shown"),
    [
        ({"client_id": "someone-else"}, "AADSTS700016"),
        ({"redirect_uri": "https://evil.example/cb"}, "AADSTS50011"),
        ({"response_type": "token"}, "AADSTS700054"),
    ],
)
def test_authorize_errors_stay_on_the_sign_in_page(
    url: str, http: httpx.Client, change: dict[str, str], shown: str
) -> None:
    answer = authorize(http, url, **change)
    assert answer.status_code == 400
    assert "location" not in answer.headers
    assert shown in answer.text


def test_who_signs_in(sim: MicrosoftSimulator, url: str, http: httpx.Client, cast: Cast) -> None:
    assert claims_of(sign_in(http, url)["id_token"])["oid"] == cast.alice.oid
    hinted = redirect_params(authorize(http, url, login_hint="BOB@contoso.example"))
    assert claims_of("x." + hinted["client_info"])["uid"] == cast.bob.oid
    sim.signing_in = cast.erin
    chosen = redirect_params(authorize(http, url, login_hint="bob@contoso.example"))
    assert claims_of("x." + chosen["client_info"])["uid"] == cast.erin.oid


def test_personal_account_refused_on_organizations(
    sim: MicrosoftSimulator, url: str, http: httpx.Client, cast: Cast
) -> None:
    sim.signing_in = cast.pat
    params = redirect_params(authorize(http, url))
    assert params["error"] == "invalid_request"
    assert params["error_description"].startswith(
        "AADSTS500200: User account 'pat@outlook.example' is a personal Microsoft account."
    )
    assert params["state"] == "st-1"
    assert "code" not in params
    form = FormPost(authorize(http, url, response_mode="form_post").text)
    assert form.fields["error"] == "invalid_request"


def test_personal_account_passes_on_common_or_by_switch(
    sim: MicrosoftSimulator, url: str, http: httpx.Client, cast: Cast
) -> None:
    sim.signing_in = cast.pat
    on_common = claims_of(sign_in(http, url, "common")["id_token"])
    assert (on_common["tid"], on_common["oid"]) == (CONSUMER_TENANT_ID, cast.pat.oid)
    assert cast.pat.oid.startswith("00000000-0000-0000-")
    assert on_common["iss"] == f"{url}/{CONSUMER_TENANT_ID}/v2.0"
    sim.personal_accounts_pass = True
    assert claims_of(sign_in(http, url)["id_token"])["tid"] == CONSUMER_TENANT_ID


def test_single_tenant_authority_refuses_other_directories(
    sim: MicrosoftSimulator, url: str, http: httpx.Client, cast: Cast
) -> None:
    assert claims_of(sign_in(http, url, DEFAULT_TENANT_ID)["id_token"])["tid"] == DEFAULT_TENANT_ID
    for outsider in (cast.erin, cast.pat):
        sim.signing_in = outsider
        params = redirect_params(authorize(http, url, DEFAULT_TENANT_ID))
        assert params["error_description"].startswith("AADSTS50020: ")
    sim.signing_in = cast.erin
    assert claims_of(sign_in(http, url)["id_token"])["tid"] == cast.erin.tid


# Tokens.


def test_code_exchange(sim: MicrosoftSimulator, url: str, http: httpx.Client, cast: Cast) -> None:
    tokens = sign_in(http, url)
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == tokens["ext_expires_in"] == 3600
    assert tokens["scope"] == "OnlineMeetings.ReadWrite User.Read openid profile"
    assert tokens["access_token"] and tokens["refresh_token"]
    assert claims_of("x." + tokens["client_info"]) == {
        "uid": cast.alice.oid,
        "utid": cast.alice.tid,
    }
    idt = claims_of(tokens["id_token"])
    assert json.loads(base64.urlsafe_b64decode(tokens["id_token"].split(".")[0] + "==")) == {
        "typ": "JWT",
        "alg": "none",
    }
    assert idt["aud"] == sim.client_id
    assert idt["iss"] == f"{url}/{DEFAULT_TENANT_ID}/v2.0"
    assert idt["nonce"] == "nonce-1"
    assert (idt["tid"], idt["oid"]) == (cast.alice.tid, cast.alice.oid)
    assert (idt["preferred_username"], idt["name"]) == ("alice@contoso.example", "Alice Kovalenko")
    assert idt["nbf"] == idt["iat"] and idt["exp"] > idt["iat"]
    assert len(sim.token_requests) == 1
    assert sim.token_requests[0]["grant_type"] == "authorization_code"


def test_code_is_single_use(url: str, http: httpx.Client) -> None:
    code = redirect_params(authorize(http, url))["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    assert token_request(http, url, **form).status_code == 200
    again = token_request(http, url, **form)
    assert again.status_code == 400
    assert aadsts(again) == ("invalid_grant", 54005)


def test_code_expires(sim: MicrosoftSimulator, url: str, http: httpx.Client) -> None:
    sim.code_seconds = 0
    code = redirect_params(authorize(http, url))["code"]
    answer = token_request(
        http, url, grant_type="authorization_code", code=code, redirect_uri=REDIRECT
    )
    assert aadsts(answer) == ("invalid_grant", 70008)


def test_client_authentication(url: str, http: httpx.Client) -> None:
    wrong = token_request(http, url, secret="nope", grant_type="refresh_token")
    assert wrong.status_code == 401
    assert aadsts(wrong) == ("invalid_client", 7000215)
    missing = token_request(http, url, secret="", grant_type="refresh_token")
    assert (missing.status_code, aadsts(missing)) == (401, ("invalid_client", 7000218))
    stranger = http.post(
        f"{url}/organizations/oauth2/v2.0/token",
        data={"client_id": "other", "client_secret": "x", "grant_type": "refresh_token"},
    )
    assert (stranger.status_code, aadsts(stranger)) == (400, ("unauthorized_client", 700016))
    basic = http.post(
        f"{url}/organizations/oauth2/v2.0/token",
        data={"grant_type": "password"},
        auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
    )
    assert aadsts(basic) == ("unsupported_grant_type", 70003)


def test_code_exchange_checks(url: str, http: httpx.Client) -> None:
    verifier, challenge = pkce()
    fresh = {"code_challenge": challenge, "code_challenge_method": "S256"}

    def redeem(**form: str) -> httpx.Response:
        code = redirect_params(authorize(http, url, **fresh))["code"]
        base = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
        return token_request(http, url, **{**base, **form})

    assert aadsts(redeem(redirect_uri="https://other.example/cb")) == ("invalid_grant", 500112)
    assert aadsts(redeem(code_verifier="not-the-verifier")) == ("invalid_grant", 50148)
    assert aadsts(redeem()) == ("invalid_grant", 50148)  # the verifier is missing
    assert redeem(code_verifier=verifier).status_code == 200
    garbage = token_request(
        http, url, grant_type="authorization_code", code="forged", redirect_uri=REDIRECT
    )
    assert aadsts(garbage) == ("invalid_grant", 9002313)


def test_refresh_rotates(sim: MicrosoftSimulator, url: str, http: httpx.Client) -> None:
    first = sign_in(http, url)
    answer = token_request(
        http, url, grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    assert answer.status_code == 200
    second = answer.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert "nonce" not in claims_of(second["id_token"])
    assert sim.refresh_count == 1
    reused = token_request(
        http, url, grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    assert aadsts(reused) == ("invalid_grant", 70008)
    assert "expired due to inactivity" in reused.json()["error_description"]
    forged = token_request(http, url, grant_type="refresh_token", refresh_token="forged")
    assert aadsts(forged) == ("invalid_grant", 9002313)


def test_refresh_tokens_reusable_like_real_entra(
    sim: MicrosoftSimulator, url: str, http: httpx.Client
) -> None:
    sim.single_use_refresh_tokens = False
    first = sign_in(http, url)
    for _ in range(2):
        again = token_request(
            http, url, grant_type="refresh_token", refresh_token=first["refresh_token"]
        )
        assert again.status_code == 200


def test_expired_refresh_token(sim: MicrosoftSimulator, url: str, http: httpx.Client) -> None:
    tokens = sign_in(http, url)
    sim.expire_refresh_tokens()
    answer = token_request(
        http, url, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert aadsts(answer) == ("invalid_grant", 700082)
    assert "was inactive for 90.00:00:00" in answer.json()["error_description"]


def test_revoke(sim: MicrosoftSimulator, url: str, http: httpx.Client, cast: Cast) -> None:
    tokens = sign_in(http, url)
    bob_tokens = sim.issue_tokens(cast.bob)
    sim.revoke(cast.alice)
    refresh = token_request(
        http, url, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert aadsts(refresh) == ("invalid_grant", 50173)
    me = Graph(http, url, tokens["access_token"])("GET", "/me")
    assert me.status_code == 401
    assert "TokenIssuedBeforeRevocationTimestamp" in me.json()["error"]["message"]
    assert Graph(http, url, bob_tokens["access_token"])("GET", "/me").status_code == 200
    renewed = sign_in(http, url)  # signing in again gives working tokens
    assert Graph(http, url, renewed["access_token"])("GET", "/me").status_code == 200


# msal over HTTPS.


@pytest.fixture(scope="module")
def tls_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[AppSlot, str, LoopbackCertificate]]:
    cert = loopback_certificate(tmp_path_factory.mktemp("tls"))
    slot = AppSlot()
    with BackgroundServer(slot, name="microsoft-tls", lifespan="off", tls=cert) as server:
        yield slot, server.url, cert
        # A response object still alive keeps its keep-alive socket open past
        # Session.close(); collect it so the server is not left waiting on it.
        gc.collect()


@pytest.fixture
def secure_url(
    sim: MicrosoftSimulator, cast: Cast, tls_server: tuple[AppSlot, str, LoopbackCertificate]
) -> Iterator[str]:
    slot, url, _ = tls_server
    slot.app = sim.app
    yield url
    slot.app = None


@pytest.fixture
def browser(tls_server: tuple[AppSlot, str, LoopbackCertificate]) -> Iterator[requests.Session]:
    session = requests.Session()
    session.verify = str(tls_server[2].cert_path)
    # The environment's CA-bundle variables would otherwise override `verify`.
    session.trust_env = False
    yield session
    session.close()


MsalFactory = Callable[..., msal.ConfidentialClientApplication]


@pytest.fixture
def make_msal(sim: MicrosoftSimulator, secure_url: str, browser: requests.Session) -> MsalFactory:
    def make(tenant: str = "organizations") -> msal.ConfidentialClientApplication:
        return msal.ConfidentialClientApplication(
            sim.client_id,
            client_credential=sim.client_secret,
            authority=f"{secure_url}/{tenant}",
            token_cache=msal.SerializableTokenCache(),
            http_client=browser,
            instance_discovery=False,
            validate_authority=False,
        )

    return make


def msal_sign_in(app: msal.ConfidentialClientApplication, browser: requests.Session) -> Any:
    flow = app.initiate_auth_code_flow(
        scopes=SCOPES, redirect_uri=REDIRECT, response_mode="form_post"
    )
    page = browser.get(flow["auth_uri"])
    assert page.status_code == 200, page.text
    form = FormPost(page.text)
    assert form.action == REDIRECT
    return app.acquire_token_by_auth_code_flow(flow, form.fields)


def graph_me(browser: requests.Session, url: str, token: str) -> requests.Response:
    return browser.get(f"{url}/v1.0/me", headers={"Authorization": f"Bearer {token}"})


def test_msal_auth_code_flow(
    sim: MicrosoftSimulator,
    make_msal: MsalFactory,
    browser: requests.Session,
    secure_url: str,
    cast: Cast,
) -> None:
    app = make_msal()
    result = msal_sign_in(app, browser)
    assert "access_token" in result, result
    claims = result["id_token_claims"]
    assert (claims["tid"], claims["oid"]) == (cast.alice.tid, cast.alice.oid)
    assert claims["preferred_username"] == "alice@contoso.example"
    [account] = app.get_accounts()
    assert account["home_account_id"] == cast.alice.home_account_id
    assert account["username"] == "alice@contoso.example"
    assert graph_me(browser, secure_url, result["access_token"]).json()["id"] == cast.alice.oid
    cached = app.acquire_token_silent(SCOPES, account)
    assert cached is not None and cached["access_token"] == result["access_token"]
    assert len(sim.token_requests) == 1
    [redeemed] = sim.token_requests
    assert redeemed["code_verifier"]  # msal used PKCE, and the simulator checked it


def test_msal_refreshes_a_short_lived_token(
    sim: MicrosoftSimulator,
    make_msal: MsalFactory,
    browser: requests.Session,
    secure_url: str,
) -> None:
    # msal treats an access token with under five minutes left as expired.
    sim.access_token_seconds = 120
    app = make_msal()
    first = msal_sign_in(app, browser)
    [account] = app.get_accounts()
    renewed = app.acquire_token_silent(SCOPES, account)
    assert renewed is not None and renewed["access_token"] != first["access_token"]
    assert sim.refresh_count == 1
    assert graph_me(browser, secure_url, renewed["access_token"]).status_code == 200


def test_msal_force_refresh_after_graph_rejects_the_token(
    sim: MicrosoftSimulator,
    make_msal: MsalFactory,
    browser: requests.Session,
    secure_url: str,
) -> None:
    app = make_msal()
    first = msal_sign_in(app, browser)
    sim.expire_access_tokens()
    rejected = graph_me(browser, secure_url, first["access_token"])
    assert rejected.status_code == 401
    [account] = app.get_accounts()
    assert app.acquire_token_silent(SCOPES, account)["access_token"] == first["access_token"]
    renewed = app.acquire_token_silent(SCOPES, account, force_refresh=True)
    assert renewed is not None
    assert graph_me(browser, secure_url, renewed["access_token"]).status_code == 200


def test_msal_personal_account_refused(
    sim: MicrosoftSimulator, make_msal: MsalFactory, browser: requests.Session, cast: Cast
) -> None:
    sim.signing_in = cast.pat
    result = msal_sign_in(make_msal(), browser)
    assert result["error"] == "invalid_request"
    assert "AADSTS500200" in result["error_description"]
    assert sim.token_requests == []


def test_msal_personal_account_reaches_the_client(
    sim: MicrosoftSimulator, make_msal: MsalFactory, browser: requests.Session, cast: Cast
) -> None:
    sim.signing_in = cast.pat
    sim.personal_accounts_pass = True
    result = msal_sign_in(make_msal(), browser)
    assert result["id_token_claims"]["tid"] == CONSUMER_TENANT_ID
    common = msal_sign_in(make_msal("common"), browser)
    assert common["id_token_claims"]["oid"] == cast.pat.oid


def test_msal_revoked_user_must_sign_in_again(
    sim: MicrosoftSimulator, make_msal: MsalFactory, browser: requests.Session, cast: Cast
) -> None:
    app = make_msal()
    msal_sign_in(app, browser)
    [account] = app.get_accounts()
    sim.revoke(cast.alice)
    result = app.acquire_token_silent_with_error(SCOPES, account, force_refresh=True)
    assert result is not None
    assert result["error"] == "invalid_grant"
    assert "AADSTS50173" in result["error_description"]


# Graph.


class Graph:
    def __init__(self, http: httpx.Client, url: str, token: str) -> None:
        self.http, self.url, self.token = http, url, token

    def __call__(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self.http.request(method, f"{self.url}/v1.0{path}", headers=headers, **kwargs)

    def create(self, **body: Any) -> dict[str, Any]:
        response = self(
            "POST", "/me/onlineMeetings", json={"subject": "Consultation", **SLOT, **body}
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


@pytest.fixture
def graph_for(
    sim: MicrosoftSimulator, http: httpx.Client, url: str
) -> Callable[[MicrosoftUser], Graph]:
    def make(user: MicrosoftUser) -> Graph:
        return Graph(http, url, sim.issue_tokens(user)["access_token"])

    return make


@pytest.fixture
def graph(graph_for: Callable[[MicrosoftUser], Graph], cast: Cast) -> Graph:
    return graph_for(cast.alice)


def graph_error(response: httpx.Response) -> tuple[int, str]:
    error = response.json()["error"]
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}
    return response.status_code, error["code"]


def test_me(graph: Graph, cast: Cast) -> None:
    me = graph("GET", "/me").json()
    assert me["id"] == cast.alice.oid
    assert me["displayName"] == "Alice Kovalenko"
    assert me["userPrincipalName"] == me["mail"] == "alice@contoso.example"
    assert (me["givenName"], me["surname"]) == ("Alice", "Kovalenko")


def test_graph_needs_a_valid_token(
    sim: MicrosoftSimulator, graph: Graph, http: httpx.Client
) -> None:
    bare = http.get(graph.url + "/v1.0/me", headers={"client-request-id": "mine"})
    assert graph_error(bare) == (401, "InvalidAuthenticationToken")
    assert bare.json()["error"]["message"] == "Access token is empty."
    assert bare.json()["error"]["innerError"]["client-request-id"] == "mine"
    assert bare.headers["www-authenticate"].startswith("Bearer ")
    assert graph_error(Graph(http, graph.url, "forged")("GET", "/me"))[0] == 401
    assert graph("GET", "/me").status_code == 200
    sim.expire_access_tokens()
    expired = graph("GET", "/me")
    assert graph_error(expired) == (401, "InvalidAuthenticationToken")
    assert expired.json()["error"]["message"] == "Access token has expired or is not yet valid."


def test_create_meeting(
    sim: MicrosoftSimulator, graph: Graph, http: httpx.Client, cast: Cast
) -> None:
    created = graph.create(externalId="booking-2262")
    assert created["subject"] == "Consultation"
    assert created["startDateTime"] == "2030-05-01T07:00:00.0000000Z"
    assert created["endDateTime"] == "2030-05-01T08:00:00.0000000Z"
    assert created["creationDateTime"].endswith("Z")
    assert created["externalId"] == "booking-2262"
    organizer = created["participants"]["organizer"]
    assert organizer["upn"] == "alice@contoso.example"
    assert organizer["identity"]["user"]["id"] == cast.alice.oid
    assert organizer["identity"]["user"]["tenantId"] == cast.alice.tid
    settings = created["joinMeetingIdSettings"]
    assert settings["joinMeetingId"].isdigit() and len(settings["passcode"]) == 6
    decoded = base64.urlsafe_b64decode(created["id"] + "=" * (-len(created["id"]) % 4)).decode()
    assert decoded.startswith(f"1*{cast.alice.oid}*0**19:meeting_")
    join = urlsplit(created["joinWebUrl"])
    assert join.path.startswith("/l/meetup-join/19%3ameeting_") and join.path.endswith(
        "%40thread.v2/0"
    )
    assert f"%22Oid%22%3a%22{cast.alice.oid}%22" in join.query
    page = http.get(created["joinWebUrl"])
    assert page.status_code == 200 and "Consultation" in page.text
    assert sim.created_count() == 1
    assert sim.meeting(created["id"]) == created
    assert sim.meetings_of(cast.alice) == [created]
    assert sim.meetings_of(cast.bob) == []


def test_create_without_times_lasts_an_hour_from_now(sim: MicrosoftSimulator, graph: Graph) -> None:
    moment = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    sim.now = lambda: moment
    created = graph("POST", "/me/onlineMeetings", json={"subject": "Now"}).json()
    assert created["startDateTime"] == "2030-01-02T03:04:05.0000000Z"
    assert created["endDateTime"] == "2030-01-02T04:04:05.0000000Z"
    settings = graph.create(
        lobbyBypassSettings={"scope": "everyone"}, allowedPresenters="organizer"
    )
    assert settings["lobbyBypassSettings"] == {"scope": "everyone"}
    assert settings["allowedPresenters"] == "organizer"


@pytest.mark.parametrize(
    "body",
    [
        {"startDateTime": "2030-05-01T10:00:00"},  # no offset
        {"startDateTime": "tomorrow"},
        {"startDateTime": "2030-05-01"},
        {"endDateTime": "2030-05-01T10:00:00Z"},  # end without start
        {"startDateTime": "2030-05-01T10:00:00Z", "endDateTime": "2030-05-01T09:00:00Z"},
        {"subject": 42},
        {"colour": "blue"},  # no such property
    ],
)
def test_create_validation(graph: Graph, body: dict[str, Any]) -> None:
    answer = graph("POST", "/me/onlineMeetings", json=body)
    assert graph_error(answer) == (400, "BadRequest")


def test_create_needs_a_json_object(graph: Graph) -> None:
    empty = graph("POST", "/me/onlineMeetings", content=b"")
    assert empty.json()["error"]["message"] == "Empty Payload. JSON content expected."
    for raw in (b"{oops", b"[1, 2]"):
        assert graph_error(graph("POST", "/me/onlineMeetings", content=raw)) == (400, "BadRequest")


def test_create_or_get(
    sim: MicrosoftSimulator, graph: Graph, graph_for: Callable[[MicrosoftUser], Graph], cast: Cast
) -> None:
    body = {"externalId": "booking-7", "subject": "First", **SLOT}
    first = graph("POST", "/me/onlineMeetings/createOrGet", json=body)
    assert first.status_code == 201
    again = graph("POST", "/me/onlineMeetings/createOrGet", json={**body, "subject": "Second"})
    assert again.status_code == 200
    assert again.json() == first.json()  # the stored meeting, not updated
    other = graph_for(cast.bob)("POST", "/me/onlineMeetings/createOrGet", json=body)
    assert other.status_code == 201
    assert other.json()["id"] != first.json()["id"]
    assert sim.created_count() == 2
    missing = graph("POST", "/me/onlineMeetings/createOrGet", json={"subject": "x"})
    assert graph_error(missing) == (400, "BadRequest")


def test_create_or_get_after_delete_creates_anew(graph: Graph) -> None:
    body = {"externalId": "booking-8", **SLOT}
    first = graph("POST", "/me/onlineMeetings/createOrGet", json=body).json()
    assert graph("DELETE", f"/me/onlineMeetings/{first['id']}").status_code == 204
    second = graph("POST", "/me/onlineMeetings/createOrGet", json=body)
    assert second.status_code == 201 and second.json()["id"] != first["id"]


def test_get_update_delete(sim: MicrosoftSimulator, graph: Graph, http: httpx.Client) -> None:
    created = graph.create()
    path = f"/me/onlineMeetings/{created['id']}"
    assert graph("GET", path).json() == created
    moved = graph(
        "PATCH",
        path,
        json={
            "startDateTime": "2030-05-02T09:30:00Z",
            "endDateTime": "2030-05-02T10:15:00Z",
            "subject": "Moved",
        },
    )
    assert moved.status_code == 200
    assert (moved.json()["startDateTime"], moved.json()["subject"]) == (
        "2030-05-02T09:30:00.0000000Z",
        "Moved",
    )
    assert moved.json()["joinWebUrl"] == created["joinWebUrl"]
    renamed = graph("PATCH", path, json={"subject": "Renamed"}).json()
    assert renamed["startDateTime"] == "2030-05-02T09:30:00.0000000Z"
    deleted = graph("DELETE", path)
    assert (deleted.status_code, deleted.content) == (204, b"")
    for method in ("GET", "PATCH", "DELETE"):
        answer = graph(method, path, json={"subject": "x"} if method == "PATCH" else None)
        assert graph_error(answer) == (404, "NotFound")
    assert http.get(created["joinWebUrl"]).status_code == 404
    assert sim.meeting(created["id"]) is None
    assert sim.created_count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {"startDateTime": "2030-05-02T09:30:00Z"},  # moving needs both times
        {"startDateTime": "2030-05-02T09:30", "endDateTime": "2030-05-02T10:30"},
        {"startDateTime": "2030-05-02T09:30:00Z", "endDateTime": "2030-05-02T09:00:00Z"},
        {"externalId": "cannot change"},
    ],
)
def test_update_validation(graph: Graph, body: dict[str, Any]) -> None:
    created = graph.create()
    answer = graph("PATCH", f"/me/onlineMeetings/{created['id']}", json=body)
    assert graph_error(answer) == (400, "BadRequest")
    assert graph("GET", f"/me/onlineMeetings/{created['id']}").json() == created


def test_meetings_of_others_are_not_found(
    graph: Graph, graph_for: Callable[[MicrosoftUser], Graph], cast: Cast, http: httpx.Client
) -> None:
    created = graph.create()
    bob = graph_for(cast.bob)
    assert graph_error(bob("GET", f"/me/onlineMeetings/{created['id']}")) == (404, "NotFound")
    assert graph_error(bob("DELETE", f"/me/onlineMeetings/{created['id']}")) == (404, "NotFound")
    assert graph_error(graph("GET", "/me/onlineMeetings/garbage")) == (404, "NotFound")
    assert http.get(graph.url + "/l/meetup-join/19%3ameeting_nope%40thread.v2/0").status_code == 404


def test_online_meetings_denied_by_policy(
    sim: MicrosoftSimulator, graph: Graph, cast: Cast
) -> None:
    sim.deny_online_meetings(cast.alice)
    refused = graph("POST", "/me/onlineMeetings", json=SLOT)
    assert graph_error(refused) == (403, "Forbidden")
    assert graph("GET", "/me").status_code == 200
    sim.deny_online_meetings(cast.alice, denied=False)
    assert graph.create()["subject"] == "Consultation"


def test_personal_accounts_cannot_create_meetings(
    graph_for: Callable[[MicrosoftUser], Graph], cast: Cast
) -> None:
    pat = graph_for(cast.pat)
    assert pat("GET", "/me").json()["id"] == cast.pat.oid
    assert graph_error(pat("POST", "/me/onlineMeetings", json=SLOT)) == (403, "Forbidden")


def test_throttling(sim: MicrosoftSimulator, graph: Graph, http: httpx.Client) -> None:
    sim.throttle(times=2, retry_after=7)
    assert graph_error(http.get(graph.url + "/v1.0/me"))[0] == 401  # authentication comes first
    for _ in range(2):
        throttled = graph("POST", "/me/onlineMeetings", json=SLOT)
        assert graph_error(throttled) == (429, "TooManyRequests")
        assert throttled.headers["retry-after"] == "7"
    assert graph.create()["subject"] == "Consultation"
    assert sim.created_count() == 1


def test_fault_plan(sim: MicrosoftSimulator, graph: Graph) -> None:
    sim.faults.fail(method="POST", path="/onlineMeetings$", status=503)
    assert graph("POST", "/me/onlineMeetings", json=SLOT).status_code == 503
    assert graph.create()["subject"] == "Consultation"
    assert sim.count("POST", "/onlineMeetings$") == 2
