"""Hostile requests for every public route, as hypothesis strategies.

Shared by the short fuzz test (tests/test_fuzz_edges.py) and `make fuzz` (bench/fuzz.py). Every
request is plain data (`FuzzRequest`) that prints as the exact request, so a finding replays.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import re
import socket
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from hypothesis import strategies as st
from slack_sdk.signature import SignatureVerifier


@dataclass(frozen=True)
class Targets:
    """What a stranger might know or guess: real tokens and secrets make some requests genuine."""

    webhook_token: str
    slack_signing_secret: str
    zoom_webhook_secret: str
    slack_team_id: str
    teams_service_url: str = "https://smba.trafficmanager.net/emea/"
    slack_response_url: str = "https://hooks.slack.com/commands/T0/1/fuzz"  # where Slack answers
    link_tokens: tuple[str, ...] = ()


@dataclass(frozen=True)
class FuzzRequest:
    method: str
    target: str  # path and query, exactly as sent
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    shape: str = field(default="", compare=False)

    def replay(self) -> str:
        """The request as JSON (body in base64), for `python -m bench.fuzz --replay`."""
        return json.dumps(
            {
                "method": self.method,
                "target": self.target,
                "headers": list(self.headers),
                "body_base64": base64.b64encode(self.body).decode(),
                "shape": self.shape,
            }
        )

    @staticmethod
    def from_replay(text: str) -> FuzzRequest:
        data = json.loads(text)
        return FuzzRequest(
            data["method"],
            data["target"],
            tuple((name, value) for name, value in data["headers"]),
            base64.b64decode(data["body_base64"]),
            data.get("shape", ""),
        )


# Bodies: every shape a stranger can send.

_json_leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    _json_leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)


@st.composite
def deep_nesting(draw: st.DrawFn) -> bytes:
    depth = draw(st.integers(min_value=30, max_value=200_000))
    opener, closer = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}"), (b'[{"a":', b"}]")]))
    closed = draw(st.booleans())
    return opener * depth + b"1" + (closer * depth if closed else b"")


@st.composite
def huge_numbers(draw: st.DrawFn) -> bytes:
    digits = b"9" * draw(st.integers(min_value=20, max_value=60_000))
    number = draw(
        st.sampled_from(
            [digits, b"-" + digits, b"1." + digits, b"1e" + digits, digits + b"e-99999"]
        )
    )
    template = draw(
        st.sampled_from(
            [b"%s", b"[%s]", b'{"booking_id": %s, "booking_hash": %s}', b'{"payload": {"x": %s}}']
        )
    )
    return template.replace(b"%s", number)


wrong_encodings = st.sampled_from(
    [
        '{"a": "\u00e9"}'.encode("utf-16"),
        '{"a": "x"}'.encode("utf-32"),
        b'{"a": "\xff\xfe"}',
        b'{"a": "\xc0\xaf"}',  # overlong UTF-8
        b'{"a": "\xed\xa0\x80"}',  # an encoded surrogate
        b'{"a": "\\ud800"}',  # a lone surrogate, as an escape
        b'{"a": "\\u0000"}',
        b'{"a": "x\x00y"}',
        b"\xef\xbb\xbf{}",  # a byte order mark
        b'{"a": NaN, "b": Infinity}',
        b'{"a": 1, "a": 2}',
    ]
)


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


bodies = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(str.encode),
    deep_nesting(),
    huge_numbers(),
    wrong_encodings,
    json_values.map(_json),
    st.dictionaries(st.text(max_size=10), st.text(max_size=30), max_size=6).map(
        lambda pairs: urlencode(pairs).encode()
    ),
    st.integers(min_value=1, max_value=300_000).map(lambda n: b'{"a": "' + b"x" * n + b'"}'),
)


# Paths and queries.

path_texts = st.one_of(
    st.text(max_size=60).map(lambda text: quote(text, safe="")),
    st.binary(max_size=40).map(lambda raw: quote(raw, safe="")),
    st.sampled_from(["%00", "a%00b", "%ff%fe", "..%2f..%2fetc", "%c0%af", "x" * 5000, "", "%"]),
)


def queries(names: list[str]) -> st.SearchStrategy[str]:
    values = st.one_of(
        path_texts,
        st.text(max_size=80).map(lambda text: quote(text, safe="")),
        st.integers(min_value=1, max_value=10_000).map(lambda n: "9" * n),
    )  # httpx sends no URL over 64 KiB; meetbot's server refuses a head over 16 KiB anyway
    pairs = st.lists(st.tuples(st.sampled_from([*names, "x"]), values), max_size=5)
    return pairs.map(lambda items: "&".join(f"{name}={value}" for name, value in items))


# Headers.

content_types = st.sampled_from(
    [
        "application/json",
        "application/x-www-form-urlencoded",
        "text/plain",
        "application/json; charset=utf-16",
        "multipart/form-data; boundary=x",
        "",
    ]
)


def slack_headers(secret: str, body: bytes, mode: str) -> list[tuple[str, str]]:
    now = int(time.time())
    if mode == "none":
        return []
    if mode == "garbage":
        return [("X-Slack-Request-Timestamp", "ab²"), ("X-Slack-Signature", "v0=zz")]
    stamp = str(now - 3600) if mode == "stale" else str(now)
    if mode == "wrong":
        signature = "v0=" + hashlib.sha256(body).hexdigest()
    else:
        text = body.decode("utf-8", "replace")
        signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=text) or ""
    return [("X-Slack-Request-Timestamp", stamp), ("X-Slack-Signature", signature)]


def zoom_headers(secret: str, body: bytes, mode: str) -> list[tuple[str, str]]:
    now = str(int(time.time()))
    if mode == "none":
        return []
    if mode == "garbage":
        return [("x-zm-request-timestamp", "12x"), ("x-zm-signature", "v0=\u00ff")]
    message = f"v0:{now}:{body.decode('utf-8', 'replace')}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    if mode == "wrong":
        digest = digest[::-1]
    return [("x-zm-request-timestamp", now), ("x-zm-signature", f"v0={digest}")]


signature_modes = st.sampled_from(["none", "garbage", "stale", "wrong", "valid", "valid"])
bearer = st.one_of(
    st.none(),
    st.just("Bearer "),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", max_size=300).map(
        lambda token: f"Bearer {token}"
    ),
    st.just(
        "Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6IngifQ.eyJpc3MiOiJodHRwczovL2FwaS5ib3RmcmFtZXdvcmsu"
        "Y29tIiwiYXVkIjoieCJ9.c2ln"
    ),
)


def _header_text(text: str) -> str:
    """Any text as a header value can carry it: UTF-8 bytes read as latin-1, no line breaks."""
    raw = text.encode("utf-8").decode("latin-1")
    printable = "".join(char if char >= " " and char != "\x7f" else " " for char in raw)
    return printable.strip(" \t") or "en"


# Slack's own shapes, with anything inside.


def _response_urls(targets: Targets) -> st.SearchStrategy[Any]:
    return st.sampled_from([targets.slack_response_url, "http://127.0.0.1:9/nowhere"])


def slack_interactions(targets: Targets) -> st.SearchStrategy[Any]:
    team_id = targets.slack_team_id
    anything = json_values
    identity = st.one_of(anything, st.fixed_dictionaries({"id": st.just(team_id) | anything}))
    action = st.one_of(
        anything,
        st.fixed_dictionaries(
            {
                "action_id": st.sampled_from(
                    ["meetbot_retry", "meetbot_start", "meetbot_connect_zoom", "link_x"]
                )
                | anything,
                "value": anything,
            }
        ),
    )
    view = st.one_of(
        anything,
        st.fixed_dictionaries(
            {
                "callback_id": st.just("meetbot_simplybook") | anything,
                "state": st.one_of(
                    anything,
                    st.fixed_dictionaries(
                        {"values": st.dictionaries(st.text(max_size=8), anything, max_size=3)}
                    ),
                ),
            }
        ),
    )
    return st.fixed_dictionaries(
        {
            "type": st.sampled_from(["block_actions", "view_submission", "shortcut"]) | anything,
            "team": identity,
            "user": identity,
        },
        optional={
            "actions": st.lists(action, max_size=3) | anything,
            "view": view,
            "channel": identity,
            "enterprise": anything,
            "authorizations": anything,
            "response_url": _response_urls(targets) | anything,
            "response_urls": anything,
            "is_enterprise_install": anything,
        },
    )


def slack_commands(targets: Targets) -> st.SearchStrategy[dict[str, str]]:
    team_id = targets.slack_team_id
    text = st.one_of(
        st.text(max_size=200),
        st.sampled_from(["help", "status", "report", "connect zoom", "providers", "audit"]),
        st.integers(min_value=1, max_value=120_000).map(lambda n: "." * n),
        st.integers(min_value=1, max_value=30_000).map(lambda n: "a@" * n),
        st.integers(min_value=1, max_value=30_000).map(lambda n: "<@a|" * n),
        st.integers(min_value=1, max_value=30_000).map(lambda n: "<http://a|" * n),
    )
    return st.fixed_dictionaries(
        {
            "command": st.just("/meetings") | st.text(max_size=10),
            "team_id": st.just(team_id) | st.text(max_size=10),
            "user_id": st.text(min_size=1, max_size=10),
            "text": text,
        },
        optional={
            "trigger_id": st.text(max_size=10),
            "channel_id": st.text(max_size=10),
            "response_url": _response_urls(targets) | st.text(max_size=20),
            "authorizations": st.text(max_size=5),
        },
    )


def slack_event_callbacks(team_id: str) -> st.SearchStrategy[Any]:
    event = st.one_of(
        json_values,
        st.fixed_dictionaries(
            {"type": st.sampled_from(["app_uninstalled", "tokens_revoked", "message"])},
            optional={"tokens": json_values | st.just({"bot": ["U1"], "oauth": ["U2"]})},
        ),
    )
    return st.fixed_dictionaries(
        {"type": st.just("event_callback") | json_values, "event": event},
        optional={
            "team_id": st.just(team_id) | json_values,
            "api_app_id": json_values,
            "event_id": json_values,
            "authorizations": json_values,
            "enterprise_id": json_values,
        },
    )


# The requests.


@st.composite
def slack_events(draw: st.DrawFn, targets: Targets) -> FuzzRequest:
    kind = draw(st.sampled_from(["body", "command", "interaction", "interaction", "json", "event"]))
    content_type = "application/x-www-form-urlencoded"
    if kind == "command":
        body = urlencode(draw(slack_commands(targets))).encode()
    elif kind == "interaction":
        payload = draw(slack_interactions(targets))
        body = urlencode({"payload": json.dumps(payload)}).encode()
    elif kind == "json":
        body, content_type = draw(json_values.map(_json)), "application/json"
    elif kind == "event":
        body = _json(draw(slack_event_callbacks(targets.slack_team_id)))
        content_type = "application/json"
    else:
        body, content_type = draw(bodies), draw(content_types)
    mode = draw(signature_modes)
    headers = [
        ("Content-Type", content_type),
        *slack_headers(targets.slack_signing_secret, body, mode),
    ]
    return FuzzRequest("POST", "/slack/events", tuple(headers), body, f"slack {kind} {mode}")


@st.composite
def simplybook_webhooks(draw: st.DrawFn, targets: Targets) -> FuzzRequest:
    token = draw(st.just(targets.webhook_token) | path_texts)
    shaped = st.fixed_dictionaries(
        {
            "booking_id": json_values | st.integers(),
            "booking_hash": st.just("0123456789abcdef0123456789abcdef") | json_values,
            "company": json_values,
            "notification_type": st.sampled_from(["create", "change", "cancel"]) | json_values,
        }
    ).map(_json)
    body = draw(st.one_of(bodies, shaped))
    headers = (("Content-Type", draw(content_types)),)
    return FuzzRequest("POST", f"/webhooks/simplybook/{token}", headers, body, "simplybook")


@st.composite
def zoom_webhooks(draw: st.DrawFn, targets: Targets) -> FuzzRequest:
    shaped = st.fixed_dictionaries(
        {
            "event": st.sampled_from(["endpoint.url_validation", "app_deauthorized"]) | json_values,
            "payload": st.one_of(
                json_values,
                st.fixed_dictionaries({"plainToken": json_values, "account_id": json_values}),
            ),
        }
    ).map(_json)
    body = draw(st.one_of(bodies, shaped))
    mode = draw(signature_modes)
    headers = [
        ("Content-Type", "application/json"),
        *zoom_headers(targets.zoom_webhook_secret, body, mode),
    ]
    return FuzzRequest("POST", "/webhooks/zoom", tuple(headers), body, f"zoom {mode}")


@st.composite
def teams_activities(draw: st.DrawFn, targets: Targets) -> FuzzRequest:
    shaped = st.fixed_dictionaries(
        {
            "type": st.sampled_from(["message", "invoke", "conversationUpdate"]) | json_values,
            "serviceUrl": st.just(targets.teams_service_url) | json_values,
            "channelId": st.just("msteams") | json_values,
        },
        optional={
            "text": st.text(max_size=100) | json_values,
            "from": json_values | st.fixed_dictionaries({"id": st.text(max_size=20)}),
            "conversation": json_values
            | st.fixed_dictionaries(
                {"id": st.text(max_size=20)},
                optional={"conversationType": json_values, "tenantId": json_values},
            ),
            "recipient": json_values | st.fixed_dictionaries({"id": st.text(max_size=20)}),
            "value": json_values,
            "channelData": json_values,
        },
    ).map(_json)
    account = st.fixed_dictionaries(
        {"id": st.text(max_size=20)},
        optional={"aadObjectId": json_values, "name": json_values, "role": json_values},
    )
    well_formed = st.fixed_dictionaries(
        {
            "type": st.sampled_from(["message", "invoke", "conversationUpdate", "messageReaction"]),
            "serviceUrl": st.just(targets.teams_service_url),
            "channelId": st.just("msteams"),
            "from": account,
            "recipient": account,
            "conversation": st.fixed_dictionaries(
                {"id": st.text(max_size=30)},
                optional={"conversationType": json_values, "tenantId": json_values},
            ),
        },
        optional={
            "text": st.text(max_size=200),
            "value": json_values,
            "channelData": st.dictionaries(
                st.sampled_from(["tenant", "team", "channel"]), json_values
            ),
            "entities": st.lists(st.dictionaries(st.text(max_size=8), json_values), max_size=2),
            "membersAdded": json_values,
            "replyToId": json_values,
            "name": json_values,
        },
    ).map(_json)
    body = draw(st.one_of(bodies, shaped, well_formed))
    headers = [("Content-Type", "application/json")]
    token = draw(bearer)
    if token is not None:
        headers.append(("Authorization", token))
    return FuzzRequest("POST", "/api/messages", tuple(headers), body, "teams")


@st.composite
def oauth_callbacks(draw: st.DrawFn, targets: Targets) -> FuzzRequest:
    path = draw(
        st.sampled_from(
            [
                "/oauth/zoom/callback",
                "/oauth/microsoft/callback",
                "/slack/oauth_redirect",
                "/slack/install",
                "/oauth/zoom/start",
                "/oauth/microsoft/start",
            ]
        )
    )
    query = draw(queries(["state", "code", "error", "id", "error_description"]))
    if path == "/oauth/microsoft/callback" and draw(st.booleans()):
        form = draw(st.one_of(bodies, queries(["state", "code", "error"]).map(str.encode)))
        headers = (("Content-Type", "application/x-www-form-urlencoded"),)
        return FuzzRequest("POST", f"{path}?{query}", headers, form, "oauth form")
    return FuzzRequest("GET", f"{path}?{query}", (), b"", "oauth")


@st.composite
def link_pages(draw: st.DrawFn, targets: Targets) -> FuzzRequest:
    prefix = draw(st.sampled_from(["/m/", "/h/"]))
    token = (
        draw(st.sampled_from(targets.link_tokens) | path_texts)
        if targets.link_tokens
        else draw(path_texts)
    )
    language = draw(st.sampled_from(["uk", "en-US,en;q=0.9", "\u00ff", "*"]) | st.text(max_size=30))
    headers = (("Accept-Language", _header_text(language)),)
    return FuzzRequest("GET", f"{prefix}{token}", headers, b"", "link")


@st.composite
def anything_else(draw: st.DrawFn, targets: Targets) -> FuzzRequest:
    method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH"]))
    path = draw(
        st.sampled_from(
            [
                "/healthz",
                "/",
                "/slack/events",
                "/api/messages",
                "/webhooks/zoom",
                f"/webhooks/simplybook/{targets.webhook_token}",
                "/m/",
                "/h/x/y",
            ]
        )
        | path_texts.map(lambda text: f"/{text}")
    )
    body = draw(bodies) if method not in ("GET", "HEAD") else b""
    return FuzzRequest(method, path, (("Content-Type", draw(content_types)),), body, "other")


RAW = "RAW"  # the body is the whole request, bytes on the wire, malformed HTTP included


@st.composite
def raw_http(draw: st.DrawFn, targets: Targets) -> FuzzRequest:
    method = draw(st.sampled_from([b"GET", b"POST", b"G\x00T", b"PRI"]) | st.binary(max_size=8))
    target = draw(
        st.sampled_from([b"/healthz", b"/m/\xff", b"/slack/events", b"*", b"http://x/y"])
        | st.binary(max_size=60).map(lambda raw: b"/" + raw)
    )
    version = draw(st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/9.9", b"HTTP/1.1x", b""]))
    header_lines = draw(
        st.lists(
            st.sampled_from(
                [
                    b"Host: meetbot",
                    b"Content-Length: 5",
                    b"Content-Length: -1",
                    b"Content-Length: 99999999999999999999",
                    b"Transfer-Encoding: chunked",
                    b"Transfer-Encoding: gzip, chunked",
                    b"Expect: 100-continue",
                    b"Connection: upgrade",
                    b"Upgrade: websocket",
                    b"X-Slack-Signature: v0=\xff",
                    b"Content-Type: application/json; charset=\xff",
                ]
            )
            | st.binary(max_size=40),
            max_size=6,
        )
    )
    body = draw(
        st.binary(max_size=200) | st.sampled_from([b"0\r\n\r\n", b"zz\r\nx\r\n", b"5\r\nhello"])
    )
    wire = b"%s %s %s\r\n%s\r\n\r\n%s" % (method, target, version, b"\r\n".join(header_lines), body)
    return FuzzRequest(RAW, "", (), wire, "raw")


def requests(targets: Targets) -> st.SearchStrategy[FuzzRequest]:
    return st.one_of(
        raw_http(targets),
        slack_events(targets),
        slack_events(targets),
        simplybook_webhooks(targets),
        zoom_webhooks(targets),
        teams_activities(targets),
        oauth_callbacks(targets),
        link_pages(targets),
        anything_else(targets),
    )


@dataclass(frozen=True)
class RawAnswer:
    status_code: int  # 0: the server closed the connection without an answer


def send_raw(base_url: str, request: FuzzRequest, timeout: float) -> RawAnswer:
    """Bytes on the wire, then the end of the stream: the server answers or closes."""
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as connection:
        with contextlib.suppress(OSError):  # the server may answer and close before the end
            connection.sendall(request.body)
            connection.shutdown(socket.SHUT_WR)
        received = b""
        with contextlib.suppress(ConnectionResetError):
            while final_status(received) is None:
                chunk = connection.recv(4096)
                if not chunk:
                    break
                received += chunk
    return RawAnswer(final_status(received) or 0)


def final_status(received: bytes) -> int | None:
    """The status of the answer after any interim ones (100 Continue)."""
    for status in re.findall(rb"(?:^|\r\n\r\n)HTTP/1\.[01] (\d{3})", received):
        if not status.startswith(b"1"):
            return int(status)
    return None


def send(client: Any, base_url: str, request: FuzzRequest) -> Any:
    """Sends `request` exactly; `client` is an httpx.Client (raw requests go on a socket)."""
    if request.method == RAW:
        return send_raw(base_url, request, timeout=client.timeout.read or 20.0)
    # latin-1, as HTTP carries header bytes: httpx would refuse text that is not ASCII.
    headers = [
        (name, value.strip(" \t").encode("latin-1", "replace"))
        for name, value in request.headers
        if value.strip(" \t")
    ]
    return client.request(
        request.method, f"{base_url}{request.target}", headers=headers, content=request.body
    )
