from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from simulators.zoom import ZoomSimulator

CLIENT = ("zoom-client-id", "zoom-client-secret")
REDIRECT = "https://meetbot.example/zoom/callback"


@pytest.fixture
def sim() -> Iterator[ZoomSimulator]:
    sim = ZoomSimulator()
    sim.add_user(email="host@example.com", first_name="Olena", last_name="K", user_id="u-host")
    sim.add_user(email="second@example.com", user_id="u-second", timezone="Europe/Kyiv")
    sim.add_user(email="basic@example.com", user_id="u-basic", licensed=False)
    sim.add_user(account_id="acct-2", email="stranger@example.com", user_id="u-stranger")
    yield sim
    sim.faults.clear()


@pytest.fixture
def url(sim: ZoomSimulator, serve: Callable[[Any], str]) -> str:
    return serve(sim.app)


class Api:
    def __init__(self, http: httpx.Client, url: str, token: str) -> None:
        self.http, self.url, self.token = http, url, token

    def __call__(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.http.request(method, f"{self.url}/v2{path}", headers=headers, **kwargs)

    def create(self, user: str = "me", **body: Any) -> dict[str, Any]:
        payload = {"topic": "Consultation", "type": 2, "start_time": "2030-05-01T07:00:00Z"}
        response = self("POST", f"/users/{user}/meetings", json={**payload, **body})
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


@pytest.fixture
def api(sim: ZoomSimulator, http: httpx.Client, url: str) -> Api:
    tokens = sim.issue_tokens(account_id="acct-1", user_id="u-host")
    return Api(http, url, tokens["access_token"])


def authorize(http: httpx.Client, url: str, client_id: str = CLIENT[0]) -> httpx.Response:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "state": "st-1",
    }
    return http.get(url + "/oauth/authorize", params=params)


def code_from(response: httpx.Response) -> str:
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["st-1"]
    return query["code"][0]


def token_request(http: httpx.Client, url: str, auth: Any = CLIENT, **form: str) -> httpx.Response:
    return http.post(url + "/oauth/token", data=form, auth=auth)


def test_oauth_code_flow(sim: ZoomSimulator, http: httpx.Client, url: str) -> None:
    code = code_from(authorize(http, url))
    answer = token_request(
        http, url, grant_type="authorization_code", code=code, redirect_uri=REDIRECT
    )
    assert answer.status_code == 200
    tokens = answer.json()
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 3600
    assert tokens["api_url"] == url
    assert tokens["scope"] and tokens["refresh_token"] and tokens["access_token"]
    me = Api(http, url, tokens["access_token"])("GET", "/users/me").json()
    assert me["id"] == "u-host"  # the first user added approves by default
    again = token_request(
        http, url, grant_type="authorization_code", code=code, redirect_uri=REDIRECT
    )
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert len(sim.token_requests) == 2


def test_oauth_errors(sim: ZoomSimulator, http: httpx.Client, url: str) -> None:
    assert authorize(http, url, client_id="other").status_code == 400
    code = code_from(authorize(http, url))
    wrong = token_request(http, url, auth=("zoom-client-id", "nope"), grant_type="refresh_token")
    assert wrong.status_code == 401
    assert wrong.json() == {
        "reason": "Invalid client_id or client_secret",
        "error": "invalid_client",
    }
    assert token_request(http, url, auth=None, grant_type="refresh_token").status_code == 401
    mismatch = token_request(
        http, url, grant_type="authorization_code", code=code, redirect_uri="https://evil"
    )
    assert mismatch.status_code == 400
    unsupported = token_request(http, url, grant_type="password")
    assert unsupported.status_code == 400
    assert unsupported.json()["error"] == "unsupported_grant_type"


def test_authorize_as_chosen_user(sim: ZoomSimulator, http: httpx.Client, url: str) -> None:
    sim.authorizing_user = ("acct-1", "u-second")
    code = code_from(authorize(http, url))
    tokens = token_request(
        http, url, grant_type="authorization_code", code=code, redirect_uri=REDIRECT
    ).json()
    me = Api(http, url, tokens["access_token"])("GET", "/users/me").json()
    assert me["email"] == "second@example.com"


def test_refresh_rotates_the_refresh_token(
    sim: ZoomSimulator, http: httpx.Client, url: str
) -> None:
    first = sim.issue_tokens(account_id="acct-1", user_id="u-host")
    answer = token_request(
        http, url, grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    assert answer.status_code == 200
    second = answer.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert sim.refresh_count == 1
    reused = token_request(
        http, url, grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    assert reused.status_code == 400
    assert reused.json() == {"reason": "Invalid Token!", "error": "invalid_grant"}
    ok = token_request(http, url, grant_type="refresh_token", refresh_token=second["refresh_token"])
    assert ok.status_code == 200
    assert sim.refresh_count == 2


def test_account_credentials_grant(http: httpx.Client, url: str) -> None:
    answer = token_request(http, url, grant_type="account_credentials", account_id="acct-1")
    assert answer.status_code == 200
    assert "refresh_token" not in answer.json()


def test_api_needs_a_valid_access_token(sim: ZoomSimulator, api: Api, http: httpx.Client) -> None:
    invalid = {"code": 124, "message": "Invalid access token."}
    bare = http.get(api.url + "/v2/users/me")
    assert (bare.status_code, bare.json()) == (401, invalid)
    assert Api(http, api.url, "bogus")("GET", "/users/me").status_code == 401
    assert api("GET", "/users/me").status_code == 200
    sim.expire_access_tokens()
    expired = api("GET", "/users/me")
    assert (expired.status_code, expired.json()) == (401, invalid)


def test_expired_access_token_can_be_refreshed(
    sim: ZoomSimulator, http: httpx.Client, url: str
) -> None:
    tokens = sim.issue_tokens(account_id="acct-1", user_id="u-host")
    sim.expire_access_tokens()
    refreshed = token_request(
        http, url, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    ).json()
    assert Api(http, url, refreshed["access_token"])("GET", "/users/me").status_code == 200


def test_revoked_account(sim: ZoomSimulator, http: httpx.Client, url: str) -> None:
    tokens = sim.issue_tokens(account_id="acct-1", user_id="u-host")
    sim.revoke_account("acct-1")
    assert Api(http, url, tokens["access_token"])("GET", "/users/me").json()["code"] == 124
    refresh = token_request(
        http, url, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert refresh.json()["error"] == "invalid_grant"


def test_users_list_and_paging(api: Api) -> None:
    first = api("GET", "/users", params={"page_size": 2}).json()
    assert first["total_records"] == 3  # the other account's user is not visible
    assert first["page_size"] == 2 and len(first["users"]) == 2
    assert first["next_page_token"]
    user = first["users"][0]
    for key in ("id", "email", "display_name", "first_name", "last_name", "type", "status"):
        assert key in user
    assert user["display_name"] == "Olena K"
    second = api("GET", "/users", params={"next_page_token": first["next_page_token"]}).json()
    assert [u["id"] for u in second["users"]] == ["u-basic"]
    assert second["next_page_token"] == ""
    assert api("GET", "/users", params={"page_size": 1000}).json()["page_size"] == 300
    assert api("GET", "/users").json()["page_size"] == 30


def test_get_user(api: Api) -> None:
    assert api("GET", "/users/me").json()["email"] == "host@example.com"
    assert api("GET", "/users/u-second").json()["timezone"] == "Europe/Kyiv"
    assert api("GET", "/users/basic@example.com").json()["type"] == 1
    missing = api("GET", "/users/u-stranger")
    assert missing.status_code == 404
    assert missing.json() == {"code": 1001, "message": "User does not exist: u-stranger."}


def test_create_meeting(api: Api, sim: ZoomSimulator) -> None:
    created = api.create(
        duration=45,
        timezone="Europe/Kyiv",
        agenda="meetbot:booking=2262",
        settings={"join_before_host": True, "waiting_room": True},
    )
    assert isinstance(created["id"], int) and created["id"] >= 80_000_000_000
    assert created["uuid"] and created["password"]
    assert created["host_id"] == "u-host" and created["host_email"] == "host@example.com"
    assert (created["topic"], created["type"], created["duration"]) == ("Consultation", 2, 45)
    assert created["start_time"] == "2030-05-01T07:00:00Z"
    assert created["timezone"] == "Europe/Kyiv"
    assert created["agenda"] == "meetbot:booking=2262"
    assert created["created_at"].endswith("Z")
    assert created["join_url"].startswith(f"{api.url}/j/{created['id']}")
    assert created["start_url"].startswith(f"{api.url}/s/{created['id']}?zak=")
    # A waiting room disables join-before-host, as on Zoom.
    assert created["settings"]["waiting_room"] is True
    assert created["settings"]["join_before_host"] is False
    assert sim.created_count() == 1
    assert sim.meeting(created["id"])["topic"] == "Consultation"  # type: ignore[index]


def test_local_start_time_uses_the_timezone(api: Api) -> None:
    created = api.create(start_time="2030-05-01T10:00:00", timezone="Europe/Kyiv")
    assert created["start_time"] == "2030-05-01T07:00:00Z"


def test_create_for_another_user_of_the_account(api: Api, sim: ZoomSimulator) -> None:
    created = api.create(user="second@example.com")
    assert created["host_id"] == "u-second"
    assert [m["id"] for m in sim.live_meetings("u-second")] == [created["id"]]
    assert sim.live_meetings("u-host") == []


def test_create_errors(api: Api) -> None:
    too_long = api("POST", "/users/me/meetings", json={"topic": "x", "agenda": "a" * 2001})
    assert too_long.status_code == 400
    assert too_long.json()["code"] == 300
    assert too_long.json()["errors"][0]["field"] == "agenda"
    unknown = api("POST", "/users/nobody@example.com/meetings", json={"topic": "x"})
    assert (unknown.status_code, unknown.json()["code"]) == (404, 1001)
    not_json = api("POST", "/users/me/meetings", content=b"{oops")
    assert (not_json.status_code, not_json.json()["code"]) == (400, 300)
    assert api.create(agenda="a" * 2000)["agenda"] == "a" * 2000


def test_list_meetings(api: Api) -> None:
    ids = [api.create(agenda=f"marker-{i}")["id"] for i in range(3)]
    api.create(start_time="2001-01-01T00:00:00Z", agenda="past")
    listed = api("GET", "/users/me/meetings", params={"type": "scheduled", "page_size": 2}).json()
    assert listed["total_records"] == 4 and len(listed["meetings"]) == 2
    meeting = listed["meetings"][0]
    for key in ("id", "uuid", "host_id", "topic", "type", "start_time", "duration", "agenda"):
        assert key in meeting
    assert "start_url" not in meeting
    rest = api(
        "GET", "/users/me/meetings", params={"next_page_token": listed["next_page_token"]}
    ).json()
    assert len(rest["meetings"]) == 2
    upcoming = api("GET", "/users/me/meetings", params={"type": "upcoming"}).json()
    assert sorted(m["id"] for m in upcoming["meetings"]) == sorted(ids)
    assert {m["agenda"] for m in upcoming["meetings"]} == {"marker-0", "marker-1", "marker-2"}


def test_get_meeting_gives_a_fresh_start_url(api: Api, http: httpx.Client) -> None:
    created = api.create()
    first = api("GET", f"/meetings/{created['id']}").json()
    second = api("GET", f"/meetings/{created['id']}").json()
    assert first["start_url"] != second["start_url"] != created["start_url"]
    assert first["join_url"] == created["join_url"]
    started = http.get(first["start_url"])
    assert started.status_code == 200 and str(created["id"]) in started.text
    joined = http.get(created["join_url"])
    assert joined.status_code == 200 and "Consultation" in joined.text
    assert http.get(f"{api.url}/s/{created['id']}?zak=forged").status_code == 403


def test_start_url_expires_after_two_hours(
    api: Api, sim: ZoomSimulator, http: httpx.Client
) -> None:
    created = api.create()
    later = datetime.now(UTC) + timedelta(hours=2, minutes=1)
    sim.now = lambda: later
    assert http.get(created["start_url"]).status_code == 403
    fresh = api("GET", f"/meetings/{created['id']}").json()["start_url"]
    assert http.get(fresh).status_code == 200


def test_update_and_delete(api: Api, sim: ZoomSimulator, http: httpx.Client) -> None:
    created = api.create()
    path = f"/meetings/{created['id']}"
    patched = api("PATCH", path, json={"topic": "Moved", "start_time": "2030-05-02T08:00:00Z"})
    assert (patched.status_code, patched.content) == (204, b"")
    got = api("GET", path).json()
    assert (got["topic"], got["start_time"]) == ("Moved", "2030-05-02T08:00:00Z")
    assert api("PATCH", path, json={"agenda": "a" * 2001}).json()["code"] == 300
    deleted = api("DELETE", path)
    assert (deleted.status_code, deleted.content) == (204, b"")
    gone = {"code": 3001, "message": f"Meeting does not exist: {created['id']}."}
    for method in ("GET", "PATCH", "DELETE"):
        answer = api(method, path, json={} if method == "PATCH" else None)
        assert (answer.status_code, answer.json()) == (404, gone)
    assert http.get(created["join_url"]).status_code == 404
    assert sim.meeting(created["id"]) is None
    assert sim.live_meetings() == []
    assert sim.created_count() == 1


def test_meetings_of_other_accounts_are_invisible(
    api: Api, sim: ZoomSimulator, http: httpx.Client
) -> None:
    created = api.create()
    stranger = sim.issue_tokens(account_id="acct-2", user_id="u-stranger")["access_token"]
    assert Api(http, api.url, stranger)("GET", f"/meetings/{created['id']}").status_code == 404


def test_registrants(api: Api, sim: ZoomSimulator, http: httpx.Client) -> None:
    created = api.create(settings={"approval_type": 0})
    assert created["registration_url"].startswith(api.url)
    path = f"/meetings/{created['id']}/registrants"
    seats = []
    for email in ("ivan@example.com", "maria@example.com"):
        answer = api("POST", path, json={"first_name": "A", "last_name": "B", "email": email})
        assert answer.status_code == 201
        seats.append(answer.json())
    assert seats[0]["join_url"] != seats[1]["join_url"]
    assert seats[0]["id"] == created["id"]
    assert seats[0]["registrant_id"] and seats[0]["topic"] == "Consultation"
    assert seats[0]["start_time"] == created["start_time"]
    assert http.get(seats[0]["join_url"]).status_code == 200
    listed = api("GET", path).json()
    assert {r["email"] for r in listed["registrants"]} == {"ivan@example.com", "maria@example.com"}
    cancel = {"action": "cancel", "registrants": [{"id": seats[0]["registrant_id"]}]}
    assert api("PUT", path + "/status", json=cancel).status_code == 204
    assert [r["email"] for r in api("GET", path).json()["registrants"]] == ["maria@example.com"]
    assert http.get(seats[0]["join_url"]).status_code == 403
    stored = sim.meeting(created["id"])
    assert stored is not None and len(stored["registrants"]) == 2


def test_registration_not_enabled(api: Api) -> None:
    created = api.create()
    answer = api(
        "POST",
        f"/meetings/{created['id']}/registrants",
        json={"first_name": "A", "email": "a@example.com"},
    )
    assert answer.status_code == 404
    assert answer.json() == {
        "code": 404,
        "message": f"Registration has not been enabled for this meeting: {created['id']}.",
    }
    basic = api.create(user="u-basic", settings={"approval_type": 0})
    assert basic["settings"]["approval_type"] == 2  # an unlicensed host cannot register people


def test_registrant_validation(api: Api) -> None:
    created = api.create(settings={"approval_type": 0})
    path = f"/meetings/{created['id']}/registrants"
    assert api("POST", path, json={"first_name": "A", "email": "bad"}).json()["code"] == 300
    host = api("POST", path, json={"first_name": "A", "email": "host@example.com"})
    assert (host.status_code, host.json()["code"]) == (400, 3027)
    bad_action = api("PUT", path + "/status", json={"action": "explode", "registrants": []})
    assert bad_action.status_code == 400


def test_daily_limit_per_host(sim: ZoomSimulator, api: Api) -> None:
    sim.daily_meeting_limit = 3
    day = datetime(2030, 1, 1, 23, 50, tzinfo=UTC)
    sim.now = lambda: day
    first = api.create()
    api.create()
    assert api("PATCH", f"/meetings/{first['id']}", json={"topic": "x"}).status_code == 204
    refused = api("POST", "/users/me/meetings", json={"topic": "one too many"})
    assert refused.status_code == 429
    assert refused.json()["code"] == 429
    assert "daily rate limit (3)" in refused.json()["message"]
    assert refused.headers["x-ratelimit-type"] == "Daily-limit"
    assert refused.headers["retry-after"] == "2030-01-02T00:00:00Z"
    assert api("PATCH", f"/meetings/{first['id']}", json={"topic": "y"}).status_code == 429
    assert api.create(user="u-second")["host_id"] == "u-second"  # per host user
    next_day = datetime(2030, 1, 2, 0, 1, tzinfo=UTC)
    sim.now = lambda: next_day
    assert api.create()["host_id"] == "u-host"


def test_hang_after_effect_keeps_the_meeting(sim: ZoomSimulator, api: Api) -> None:
    sim.faults.hang_after_effect(method="POST", path="/meetings$", seconds=5)
    with pytest.raises(httpx.ReadTimeout):
        api("POST", "/users/me/meetings", json={"topic": "lost answer"}, timeout=0.3)
    assert sim.faults.wait_for_hang(2.0)
    assert [m["topic"] for m in sim.live_meetings()] == ["lost answer"]
