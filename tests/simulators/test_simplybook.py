from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from simulators.simplybook import SimplyBookSimulator, booking_sign

COMPANY = "demoshop"
API_KEY = "key-123"
SECRET = "secret-456"


@pytest.fixture
def sim() -> Iterator[SimplyBookSimulator]:
    sim = SimplyBookSimulator()
    sim.add_company(
        COMPANY,
        api_key=API_KEY,
        api_secret=SECRET,
        name="Demo Shop",
        plugins={"client_login": True},
        users={"admin": "pw"},
    )
    sim.add_service(COMPANY, id=3, name="Consultation", duration=45, price="20.00")
    sim.add_provider(COMPANY, id=7, name="Olena", email="olena@example.com")
    yield sim
    sim.faults.clear()


@pytest.fixture
def url(sim: SimplyBookSimulator, serve: Callable[[Any], str]) -> str:
    return serve(sim.app)


class Rpc:
    def __init__(self, http: httpx.Client, url: str) -> None:
        self.http, self.url = http, url

    def call(self, path: str, method: str, *params: Any, **headers: str) -> dict[str, Any]:
        body = {"jsonrpc": "2.0", "method": method, "params": list(params), "id": 1}
        response = self.http.post(self.url + path, json=body, headers=headers)
        assert response.status_code == 200
        answer: dict[str, Any] = response.json()
        return answer

    def token(self) -> str:
        result = self.call("/login", "getToken", COMPANY, API_KEY)["result"]
        assert isinstance(result, str)
        return result

    def public(self, method: str, *params: Any, token: str | None = None) -> dict[str, Any]:
        headers = {"X-Company-Login": COMPANY, "X-Token": token or self.token()}
        return self.call("/", method, *params, **headers)

    def admin(self, method: str, *params: Any) -> dict[str, Any]:
        user_token = self.call("/login", "getUserToken", COMPANY, "admin", "pw")["result"]
        headers = {"X-Company-Login": COMPANY, "X-User-Token": user_token}
        return self.call("/admin", method, *params, **headers)


@pytest.fixture
def rpc(http: httpx.Client, url: str) -> Rpc:
    return Rpc(http, url)


def add_booking(sim: SimplyBookSimulator, **extra: Any) -> dict[str, Any]:
    return sim.add_booking(
        COMPANY,
        service_id=3,
        provider_id=7,
        client_name="Ivan Petrenko",
        client_email="ivan@example.com",
        client_phone="+380501112233",
        start="2030-05-01 10:00:00",
        end="2030-05-01 10:45:00",
        **extra,
    )


def error_code(answer: dict[str, Any]) -> int:
    assert "result" not in answer
    code = answer["error"]["code"]
    assert isinstance(code, int)
    assert isinstance(answer["error"]["message"], str)
    return code


def test_get_token_then_public_calls(rpc: Rpc) -> None:
    token = rpc.token()
    assert len(token) == 64
    services = rpc.public("getEventList", token=token)["result"]
    assert services["3"]["id"] == "3"
    assert services["3"]["name"] == "Consultation"
    assert services["3"]["duration"] == "45"
    assert services["3"]["is_public"] == "1"
    assert services["3"]["price"] == "20.00"
    units = rpc.public("getUnitList", token=token)["result"]
    assert units == {"7": units["7"]}
    assert units["7"]["email"] == "olena@example.com"
    info = rpc.public("getCompanyInfo", token=token)["result"]
    assert (info["login"], info["name"], info["timezone"]) == (COMPANY, "Demo Shop", "Europe/Kyiv")
    assert rpc.public("isPluginActivated", "client_login", token=token)["result"] is True
    assert rpc.public("isPluginActivated", "kiosk", token=token)["result"] is False


def test_booking_details_with_the_right_sign(sim: SimplyBookSimulator, rpc: Rpc) -> None:
    stored = add_booking(sim, payment_status="paid", invoice_amount="20.00")
    assert len(stored["hash"]) == 32
    sign = booking_sign(stored["id"], stored["hash"], SECRET)
    answer = rpc.public("getBookingDetails", stored["id"], sign)
    assert answer["jsonrpc"] == "2.0" and answer["id"] == 1
    details = answer["result"]
    assert details["id"] == stored["id"] and isinstance(details["id"], str)
    assert details["code"] == stored["code"]
    assert (details["event_id"], details["event_name"]) == ("3", "Consultation")
    assert (details["unit_id"], details["unit_name"]) == ("7", "Olena")
    assert details["client_name"] == "Ivan Petrenko"
    assert details["client_email"] == "ivan@example.com"
    assert details["client_phone"] == "+380501112233"
    assert isinstance(details["client_id"], str)
    assert details["start_date_time"] == "2030-05-01 10:00:00"
    assert details["end_date_time"] == "2030-05-01 10:45:00"
    assert (details["status"], details["is_confirmed"]) == ("confirmed", "1")
    assert details["payment_status"] == "paid" and details["invoice_amount"] == "20.00"
    assert "hash" not in details


def test_booking_details_errors(sim: SimplyBookSimulator, rpc: Rpc) -> None:
    stored = add_booking(sim)
    token = rpc.token()
    assert error_code(rpc.public("getBookingDetails", stored["id"], "0" * 32, token=token)) == (
        -32085
    )
    missing_sign = booking_sign("999", stored["hash"], SECRET)
    assert error_code(rpc.public("getBookingDetails", "999", missing_sign, token=token)) == -32080
    assert error_code(rpc.public("getBookingDetails", stored["id"], token=token)) == -32602


def test_login_errors(rpc: Rpc) -> None:
    assert error_code(rpc.call("/login", "getToken", COMPANY, "wrong")) == -33002
    assert error_code(rpc.call("/login", "getToken", "nobody", API_KEY)) == -33001
    assert error_code(rpc.call("/login", "getUserToken", COMPANY, "admin", "bad")) == -33003
    assert error_code(rpc.call("/login", "getToken", COMPANY)) == -32602
    assert error_code(rpc.call("/login", "noSuchMethod")) == -32601


def test_bad_and_expired_tokens(sim: SimplyBookSimulator, rpc: Rpc) -> None:
    assert error_code(rpc.public("getEventList", token="not-a-token")) == -32600
    headers = {"X-Company-Login": "nobody", "X-Token": rpc.token()}
    assert error_code(rpc.call("/", "getEventList", **headers)) == -32600
    token = rpc.token()
    sim.expire_tokens()
    expired = rpc.public("getEventList", token=token)
    assert error_code(expired) == -32600
    assert expired["error"]["message"] == "Access denied"
    assert "result" in rpc.public("getEventList")  # a fresh login works again


def test_tokens_live_one_hour(serve: Callable[[Any], str], http: httpx.Client) -> None:
    now = [1000.0]
    sim = SimplyBookSimulator(clock=lambda: now[0])
    sim.add_company(COMPANY, api_key=API_KEY, api_secret=SECRET)
    rpc = Rpc(http, serve(sim.app))
    token = rpc.token()
    now[0] += 3500
    assert "result" in rpc.public("getEventList", token=token)
    now[0] += 200
    assert error_code(rpc.public("getEventList", token=token)) == -32600


def test_unknown_method_and_malformed_requests(rpc: Rpc, http: httpx.Client, url: str) -> None:
    assert error_code(rpc.public("getNothing")) == -32601
    parse = http.post(url + "/", content=b"{not json", headers={"X-Company-Login": COMPANY})
    assert parse.status_code == 200
    assert parse.json()["error"]["code"] == -32700 and parse.json()["id"] is None
    invalid = http.post(url + "/login", json={"jsonrpc": "2.0", "id": 5, "params": []})
    assert invalid.json()["error"]["code"] == -32600
    not_array = http.post(url + "/login", json={"method": "getToken", "params": {}, "id": 2})
    assert not_array.json()["error"]["code"] == -32602


def test_admin_service(sim: SimplyBookSimulator, rpc: Rpc) -> None:
    stored = add_booking(sim)
    details = rpc.admin("getBookingDetails", stored["id"])["result"]
    assert details["client_name"] == "Ivan Petrenko"
    assert rpc.admin("isPluginActivated", "client_login")["result"] is True
    assert "3" in rpc.admin("getEventList")["result"]
    assert "7" in rpc.admin("getUnitList")["result"]
    assert rpc.admin("getCompanyInfo")["result"]["timezone"] == "Europe/Kyiv"
    # A public token is no admin token.
    headers = {"X-Company-Login": COMPANY, "X-User-Token": rpc.token()}
    assert error_code(rpc.call("/admin", "getEventList", **headers)) == -32600


def test_update_booking_keeps_hash_and_callback_shape(sim: SimplyBookSimulator, rpc: Rpc) -> None:
    stored = add_booking(sim)
    changed = sim.update_booking(
        COMPANY, stored["id"], start="2030-05-02 09:00:00", status="cancelled"
    )
    assert changed["hash"] == stored["hash"]
    details = rpc.public(
        "getBookingDetails", stored["id"], booking_sign(stored["id"], stored["hash"], SECRET)
    )["result"]
    assert details["start_date_time"] == "2030-05-02 09:00:00"
    assert (details["status"], details["is_confirmed"]) == ("cancelled", "0")
    body = sim.callback(COMPANY, int(stored["id"]), "cancel")
    assert body == {
        "booking_id": stored["id"],
        "booking_hash": stored["hash"],
        "company": COMPANY,
        "notification_type": "cancel",
    }


def test_booking_ids_and_explicit_ids(sim: SimplyBookSimulator) -> None:
    first = add_booking(sim)
    second = add_booking(sim)
    assert first["id"] != second["id"]
    assert first["hash"] != second["hash"]
    explicit = add_booking(sim, id=2262)
    assert explicit["id"] == "2262"


def test_plugins_and_call_counts(sim: SimplyBookSimulator, rpc: Rpc) -> None:
    token = rpc.token()
    sim.set_plugin(COMPANY, "kiosk", True)
    assert rpc.public("isPluginActivated", "kiosk", token=token)["result"] is True
    sim.set_plugin(COMPANY, "kiosk", False)
    assert rpc.public("isPluginActivated", "kiosk", token=token)["result"] is False
    assert sim.calls("getToken") == 1
    assert sim.calls("isPluginActivated") == 2
    assert sim.count("POST", "^/login$") == 1


def test_faults_apply_to_json_rpc(sim: SimplyBookSimulator, rpc: Rpc, http: httpx.Client) -> None:
    sim.faults.fail(path="^/login$", status=503, headers={"Retry-After": "2"})
    response = http.post(rpc.url + "/login", json={"method": "getToken", "params": [], "id": 1})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert isinstance(rpc.token(), str)
    assert sim.calls("getToken") == 1  # the failed request never reached the API
