from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from simulators.slack import SlackSimulator

TOKEN = "xoxb-sim-T0001"
SECRET = "slack-client-secret"
TS = re.compile(r"^\d{10}\.\d{6}$")
METADATA = {"event_type": "meetbot_booking", "event_payload": {"booking_id": "2262"}}


@pytest.fixture
def sim() -> Iterator[SlackSimulator]:
    sim = SlackSimulator()
    sim.add_workspace("T0001")
    sim.add_channel("T0001", name="bookings", id="C0BOOKINGS")
    sim.add_user("T0001", id="U0ADMIN", name="Olena Admin", is_admin=True, is_owner=True)
    sim.add_user("T0001", id="U0STAFF", name="Ivan Staff", tz="Europe/Berlin")
    yield sim
    sim.faults.clear()


@pytest.fixture
def url(sim: SlackSimulator, serve: Callable[[Any], str]) -> str:
    return serve(sim.app)


@pytest.fixture
def client(url: str) -> WebClient:
    return WebClient(token=TOKEN, base_url=url + "/api/")


def error_of(call: Callable[[], Any]) -> str:
    with pytest.raises(SlackApiError) as info:
        call()
    error = info.value.response["error"]
    assert isinstance(error, str)
    return error


def test_auth_test(client: WebClient) -> None:
    answer = client.auth_test()
    assert answer["ok"] is True
    assert (answer["team_id"], answer["user_id"]) == ("T0001", "UBOT0001")
    assert answer["bot_id"].startswith("B")


def test_post_message_with_metadata(sim: SlackSimulator, client: WebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Booking*"}}]
    answer = client.chat_postMessage(
        channel="C0BOOKINGS", text="Booking 2262", blocks=blocks, metadata=METADATA
    )
    assert answer["ok"] is True and answer["channel"] == "C0BOOKINGS"
    assert TS.match(answer["ts"])
    assert answer["message"]["text"] == "Booking 2262"
    stored = sim.messages("C0BOOKINGS")
    assert len(stored) == 1
    assert stored[0]["ts"] == answer["ts"]
    assert stored[0]["blocks"] == blocks
    assert stored[0]["metadata"] == METADATA
    assert stored[0]["thread_ts"] is None and stored[0]["user"] == "UBOT0001"
    history = client.conversations_history(channel="C0BOOKINGS", include_all_metadata=True)
    assert history["messages"][0]["metadata"] == METADATA
    assert history["has_more"] is False
    plain = client.conversations_history(channel="C0BOOKINGS")
    assert "metadata" not in plain["messages"][0]


def test_ts_values_are_unique_and_increasing(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel="C0BOOKINGS", text=str(i))["ts"] for i in range(5)]
    assert stamps == sorted(stamps, key=float)
    assert len(set(stamps)) == 5


def test_history_is_newest_first_and_pages(client: WebClient) -> None:
    for i in range(3):
        client.chat_postMessage(channel="C0BOOKINGS", text=f"m{i}")
    first = client.conversations_history(channel="C0BOOKINGS", limit=2)
    assert [m["text"] for m in first["messages"]] == ["m2", "m1"]
    assert first["has_more"] is True
    cursor = first["response_metadata"]["next_cursor"]
    rest = client.conversations_history(channel="C0BOOKINGS", limit=2, cursor=cursor)
    assert [m["text"] for m in rest["messages"]] == ["m0"]
    oldest = first["messages"][1]["ts"]
    newer = client.conversations_history(channel="C0BOOKINGS", oldest=oldest)
    assert [m["text"] for m in newer["messages"]] == ["m2"]


def test_update_keeps_history_of_edits(sim: SlackSimulator, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C0BOOKINGS", text="v1", metadata=METADATA)
    updated = client.chat_update(channel="C0BOOKINGS", ts=posted["ts"], text="v2")
    assert updated["ts"] == posted["ts"] and updated["text"] == "v2"
    client.chat_update(channel="C0BOOKINGS", ts=posted["ts"], text="v3")
    stored = sim.messages("C0BOOKINGS")[0]
    assert stored["text"] == "v3"
    assert [e["text"] for e in stored["edits"]] == ["v1", "v2"]
    assert stored["metadata"] == METADATA  # untouched when chat.update does not send it
    history = client.conversations_history(channel="C0BOOKINGS")["messages"][0]
    assert history["text"] == "v3" and "edited" in history
    missing = error_of(lambda: client.chat_update(channel="C0BOOKINGS", ts="1.000001", text="x"))
    assert missing == "message_not_found"


def test_thread_replies(sim: SlackSimulator, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C0BOOKINGS", text="parent")
    reply = client.chat_postMessage(channel="C0BOOKINGS", text="reply", thread_ts=parent["ts"])
    assert reply["message"]["thread_ts"] == parent["ts"]
    assert [m["text"] for m in sim.messages("C0BOOKINGS")] == ["parent", "reply"]
    history = client.conversations_history(channel="C0BOOKINGS")["messages"]
    assert [m["text"] for m in history] == ["parent"]
    assert history[0]["reply_count"] == 1
    thread = client.conversations_replies(channel="C0BOOKINGS", ts=parent["ts"])
    assert [m["text"] for m in thread["messages"]] == ["parent", "reply"]


def test_channel_errors(sim: SlackSimulator, client: WebClient) -> None:
    assert error_of(lambda: client.chat_postMessage(channel="C0NOPE", text="x")) == (
        "channel_not_found"
    )
    quiet = sim.add_channel("T0001", name="quiet", bot_member=False)
    assert error_of(lambda: client.chat_postMessage(channel=quiet, text="x")) == "not_in_channel"
    assert error_of(lambda: client.conversations_history(channel=quiet)) == "not_in_channel"
    sim.remove_bot("C0BOOKINGS")
    assert error_of(lambda: client.chat_postMessage(channel="C0BOOKINGS", text="x")) == (
        "not_in_channel"
    )
    old = sim.add_channel("T0001", name="old", archived=True)
    assert error_of(lambda: client.chat_postMessage(channel=old, text="x")) == "is_archived"
    live = sim.add_channel("T0001", name="live")
    sim.archive_channel(live)
    assert error_of(lambda: client.chat_postMessage(channel=live, text="x")) == "is_archived"
    assert client.conversations_info(channel=live)["channel"]["is_archived"] is True


def test_channels_of_another_workspace_are_not_found(
    sim: SlackSimulator, client: WebClient
) -> None:
    sim.add_workspace("T0002", bot_token="xoxb-sim-T0002", bot_user_id="UBOT0002")
    other = sim.add_channel("T0002", name="elsewhere")
    assert error_of(lambda: client.chat_postMessage(channel=other, text="x")) == (
        "channel_not_found"
    )


def test_auth_errors(sim: SlackSimulator, url: str, http: httpx.Client) -> None:
    bad = WebClient(token="xoxb-wrong", base_url=url + "/api/")
    assert error_of(bad.auth_test) == "invalid_auth"
    missing = http.post(url + "/api/auth.test")
    assert missing.status_code == 200
    assert missing.json() == {"ok": False, "error": "not_authed"}
    sim.revoke_token(TOKEN)
    revoked = WebClient(token=TOKEN, base_url=url + "/api/")
    assert error_of(revoked.auth_test) == "invalid_auth"


def test_unknown_method(client: WebClient) -> None:
    assert error_of(lambda: client.api_call("nothing.here")) == "unknown_method"


def test_form_bodies_and_token_argument(sim: SlackSimulator, url: str, http: httpx.Client) -> None:
    form = {
        "token": TOKEN,
        "channel": "C0BOOKINGS",
        "text": "from a form",
        "metadata": json.dumps(METADATA),
        "blocks": json.dumps([{"type": "divider"}]),
    }
    answer = http.post(url + "/api/chat.postMessage", data=form).json()
    assert answer["ok"] is True
    stored = sim.messages("C0BOOKINGS")[0]
    assert stored["metadata"] == METADATA and stored["blocks"] == [{"type": "divider"}]
    bad = {**form, "metadata": "{not json"}
    assert http.post(url + "/api/chat.postMessage", data=bad).json()["error"] == (
        "invalid_metadata_format"
    )
    empty = {"token": TOKEN, "channel": "C0BOOKINGS"}
    assert http.post(url + "/api/chat.postMessage", data=empty).json()["error"] == "no_text"


def test_direct_messages(sim: SlackSimulator, client: WebClient) -> None:
    opened = client.conversations_open(users="U0STAFF")
    channel = opened["channel"]["id"]
    assert channel.startswith("D")
    again = client.conversations_open(users="U0STAFF")
    assert again["channel"]["id"] == channel and again["already_open"] is True
    client.chat_postMessage(channel=channel, text="hello")
    client.chat_postMessage(channel="U0STAFF", text="by user id")
    assert [m["text"] for m in sim.dm_messages("U0STAFF")] == ["hello", "by user id"]
    assert sim.dm_messages("U0ADMIN") == []
    assert error_of(lambda: client.conversations_open(users="U0NOBODY")) == "user_not_found"


def test_users_and_conversations_info(client: WebClient) -> None:
    admin = client.users_info(user="U0ADMIN")["user"]
    assert admin["is_admin"] is True and admin["is_owner"] is True
    assert admin["tz"] == "Europe/Kyiv" and isinstance(admin["tz_offset"], int)
    staff = client.users_info(user="U0STAFF")["user"]
    assert staff["is_admin"] is False and staff["tz"] == "Europe/Berlin"
    assert error_of(lambda: client.users_info(user="U0NOBODY")) == "user_not_found"
    info = client.conversations_info(channel="C0BOOKINGS")["channel"]
    assert (info["id"], info["name"], info["is_member"]) == ("C0BOOKINGS", "bookings", True)
    assert error_of(lambda: client.conversations_info(channel="C0NOPE")) == "channel_not_found"


def test_views_open(sim: SlackSimulator, client: WebClient) -> None:
    view = {"type": "modal", "callback_id": "connect", "title": {"type": "plain_text", "text": "X"}}
    opened = client.views_open(trigger_id="123.456.abc", view=view)
    assert opened["view"]["id"].startswith("V")
    assert opened["view"]["callback_id"] == "connect"
    assert len(sim.views()) == 1
    sim.expire_trigger("999.1.x")
    assert error_of(lambda: client.views_open(trigger_id="999.1.x", view=view)) == (
        "expired_trigger_id"
    )


HOME_BLOCK = {"type": "section", "text": {"type": "mrkdwn", "text": "*Your meetings*"}}


def _button(action_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": "Start"},
        **extra,
    }


def test_views_publish_replaces_a_users_home(sim: SlackSimulator, client: WebClient) -> None:
    first = client.views_publish(user_id="U0STAFF", view={"type": "home", "blocks": [HOME_BLOCK]})
    again = client.views_publish(
        user_id="U0STAFF", view={"type": "home", "blocks": [HOME_BLOCK, {"type": "divider"}]}
    )

    assert first["view"]["id"] == again["view"]["id"]
    shown = sim.home_view("T0001", "U0STAFF")
    assert shown is not None and len(shown["blocks"]) == 2
    assert sim.home_publications() == [{"team_id": "T0001", "user_id": "U0STAFF"}] * 2
    assert sim.home_view("T0001", "U0ADMIN") is None


@pytest.mark.parametrize(
    ("blocks", "where"),
    [
        ([HOME_BLOCK] * 101, "/view/blocks"),
        ([{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}], "/text/text"),
        ([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}], "/text/text"),
        ([{"type": "actions", "elements": [_button("a", value="v" * 2001)]}], "/value"),
        ([{"type": "actions", "elements": [_button("a", url="https://x/" + "u" * 3000)]}], "/url"),
        ([{"type": "actions", "elements": [_button("same"), _button("same")]}], "/action_id"),
        ([{**HOME_BLOCK, "block_id": "b"}, {**HOME_BLOCK, "block_id": "b"}], "/block_id"),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {**_button("a"), "text": {"type": "plain_text", "text": "x" * 76}}
                    ],
                }
            ],
            "/text/text",
        ),
        ([{"type": "mystery"}], "/type"),
    ],
    ids=[
        "101 blocks",
        "header",
        "section",
        "value",
        "url",
        "action_id",
        "block_id",
        "button",
        "type",
    ],
)
def test_views_publish_refuses_what_breaks_block_kit_limits(
    sim: SlackSimulator, client: WebClient, blocks: list[dict[str, Any]], where: str
) -> None:
    with pytest.raises(SlackApiError) as refused:
        client.views_publish(user_id="U0STAFF", view={"type": "home", "blocks": blocks})

    assert refused.value.response["error"] == "invalid_blocks"
    assert where in " ".join(refused.value.response["response_metadata"]["messages"])
    assert sim.home_view("T0001", "U0STAFF") is None


def test_one_action_id_may_repeat_in_different_blocks(client: WebClient) -> None:
    blocks = [{"type": "actions", "elements": [_button("meetbot_start")]}] * 2
    assert client.views_publish(user_id="U0STAFF", view={"type": "home", "blocks": blocks})["ok"]


def test_views_publish_errors(client: WebClient) -> None:
    home = {"type": "home", "blocks": [HOME_BLOCK]}
    assert error_of(lambda: client.views_publish(user_id="U0NOBODY", view=home)) == (
        "user_not_found"
    )
    assert error_of(
        lambda: client.views_publish(user_id="U0STAFF", view={**home, "type": "modal"})
    ) == ("invalid_arguments")
    assert error_of(lambda: client.views_publish(user_id="U0STAFF", view=home, hash="stale")) == (
        "hash_conflict"
    )


def test_oauth_v2_access(sim: SlackSimulator, url: str, http: httpx.Client) -> None:
    anonymous = WebClient(base_url=url + "/api/")
    code = sim.new_oauth_code("T0001", user_id="U0ADMIN", redirect_uri="https://meetbot/cb")
    answer = anonymous.oauth_v2_access(
        client_id="slack-client-id",
        client_secret=SECRET,
        code=code,
        redirect_uri="https://meetbot/cb",
    )
    assert answer["access_token"] == TOKEN and answer["token_type"] == "bot"
    assert answer["team"] == {"id": "T0001", "name": "Demo Shop"}
    assert answer["bot_user_id"] == "UBOT0001"
    assert answer["authed_user"]["id"] == "U0ADMIN"

    def exchange(code: str, secret: str = SECRET, **extra: str) -> Any:
        return anonymous.oauth_v2_access(
            client_id="slack-client-id", client_secret=secret, code=code, **extra
        )

    assert error_of(lambda: exchange(code)) == "invalid_code"  # single use
    fresh = sim.new_oauth_code("T0001")
    assert error_of(lambda: exchange(fresh, secret="wrong")) == "bad_client_secret"
    redirect = http.get(
        url + "/oauth/v2/authorize",
        params={"client_id": "slack-client-id", "redirect_uri": "https://meetbot/cb", "state": "s"},
    )
    assert redirect.status_code == 302
    query = parse_qs(urlsplit(redirect.headers["location"]).query)
    assert query["state"] == ["s"]
    assert error_of(lambda: exchange(query["code"][0])) == "bad_redirect_uri"
    again = http.get(redirect.request.url).headers["location"]
    code_again = parse_qs(urlsplit(again).query)["code"][0]
    assert exchange(code_again, redirect_uri="https://meetbot/cb")["team"]["id"] == "T0001"


def test_rate_limit_per_channel(sim: SlackSimulator, client: WebClient) -> None:
    now = [100.0]
    sim.clock = lambda: now[0]
    sim.rate_limit_per_channel = True
    client.chat_postMessage(channel="C0BOOKINGS", text="first")
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="C0BOOKINGS", text="too soon")
    assert info.value.response.status_code == 429
    assert info.value.response.headers["Retry-After"] == "1"
    assert info.value.response["error"] == "ratelimited"
    other = sim.add_channel("T0001", name="other")
    client.chat_postMessage(channel=other, text="another channel is fine")
    now[0] += 1.0
    client.chat_postMessage(channel="C0BOOKINGS", text="a second later")
    assert [m["text"] for m in sim.messages("C0BOOKINGS")] == ["first", "a second later"]


def test_response_url(sim: SlackSimulator, url: str, http: httpx.Client) -> None:
    target = sim.new_response_url(url, channel_id="C0BOOKINGS")
    assert target.startswith(url + "/response/")
    answer = http.post(target, json={"text": "working on it", "response_type": "ephemeral"})
    assert (answer.status_code, answer.text) == (200, "ok")
    http.post(target, json={"text": "done", "response_type": "in_channel"})
    assert [p["payload"]["text"] for p in sim.response_posts()] == ["working on it", "done"]
    assert [m["text"] for m in sim.messages("C0BOOKINGS")] == ["done"]
    for _ in range(3):
        assert http.post(target, json={"text": "more"}).status_code == 200
    assert http.post(target, json={"text": "sixth"}).status_code == 404
    assert http.post(url + "/response/unknown", json={}).status_code == 404


def test_hang_after_effect_keeps_the_message(sim: SlackSimulator, url: str) -> None:
    sim.faults.hang_after_effect(path="chat.postMessage", seconds=5)
    impatient = WebClient(token=TOKEN, base_url=url + "/api/", timeout=1)
    with pytest.raises(TimeoutError):
        impatient.chat_postMessage(channel="C0BOOKINGS", text="posted anyway")
    assert sim.faults.wait_for_hang(2.0)
    assert [m["text"] for m in sim.messages("C0BOOKINGS")] == ["posted anyway"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_async_web_client(sim: SlackSimulator, url: str) -> None:
    client = AsyncWebClient(token=TOKEN, base_url=url + "/api/")
    posted = await client.chat_postMessage(channel="C0BOOKINGS", text="async", metadata=METADATA)
    assert TS.match(posted["ts"])
    history = await client.conversations_history(channel="C0BOOKINGS", include_all_metadata=True)
    assert history["messages"][0]["metadata"] == METADATA
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel="C0NOPE", text="x")
