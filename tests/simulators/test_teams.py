from __future__ import annotations

import asyncio
import base64
import json
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl

import httpx
import jwt
import msal
import pytest
import requests
from botbuilder.core import (
    ActivityHandler,
    CardFactory,
    MessageFactory,
    TurnContext,
)
from botbuilder.core.teams import TeamsInfo
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)
from botframework.connector.models import ErrorResponseException
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from simulators.server import BackgroundServer
from simulators.teams import (
    CONNECTOR_AUDIENCE,
    DEFAULT_APP_ID,
    DEFAULT_APP_PASSWORD,
    DEFAULT_TENANT_ID,
    DENIED,
    SigningKey,
    TeamsConnectorSimulator,
)
from simulators.tls import LoopbackCertificate, loopback_certificate

APP_ID = DEFAULT_APP_ID
CARD_V1 = {
    "type": "AdaptiveCard",
    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
    "version": "1.5",
    "body": [{"type": "TextBlock", "text": "Booking 2262: consultation at 10:00", "wrap": True}],
    "actions": [{"type": "Action.Submit", "title": "Confirm", "data": {"booking": "2262"}}],
}
CARD_V2 = {**CARD_V1, "body": [{"type": "TextBlock", "text": "Booking 2262: confirmed"}]}
ADAPTIVE = "application/vnd.microsoft.card.adaptive"


# The HTTPS side (login) is one server for the module; each test plugs its simulator in.


class _Slot:
    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> LoopbackCertificate:
    return loopback_certificate(tmp_path_factory.mktemp("teams-tls"))


@pytest.fixture(scope="module")
def login(certificate: LoopbackCertificate) -> Iterator[tuple[_Slot, str]]:
    # botbuilder builds msal apps itself, with no http_client or verify hook: the
    # environment's CA bundle is the only way to make them trust the loopback certificate.
    slot = _Slot()
    with (
        pytest.MonkeyPatch.context() as env,
        BackgroundServer(slot, name="teams-login", lifespan="off", tls=certificate) as server,
    ):
        env.setenv("REQUESTS_CA_BUNDLE", str(certificate.cert_path))
        yield slot, server.url


def _simulator(
    serve: Callable[[Any], str], login: tuple[_Slot, str], **kwargs: Any
) -> TeamsConnectorSimulator:
    sim = TeamsConnectorSimulator(**kwargs)
    sim.url = serve(sim.app)
    slot, sim.login_url = login
    slot.app = sim.app
    return sim


@dataclass
class Shop:
    sim: TeamsConnectorSimulator
    olena: str
    ivan: str
    team: str
    bookings: str


def _shop(sim: TeamsConnectorSimulator) -> Shop:
    olena = sim.add_user(name="Olena Admin", email="olena@demo.example")
    ivan = sim.add_user(name="Ivan Staff", timezone="Europe/Berlin")
    team = sim.add_team(name="Demo Shop", members=[olena, ivan])
    bookings = sim.add_channel(team, name="bookings")
    return Shop(sim, olena, ivan, team, bookings)


@pytest.fixture
def shop(serve: Callable[[Any], str], login: tuple[_Slot, str]) -> Iterator[Shop]:
    sim = _simulator(serve, login)
    yield _shop(sim)
    sim.faults.clear()


@pytest.fixture
def open_shop(serve: Callable[[Any], str], login: tuple[_Slot, str]) -> Iterator[Shop]:
    """A bot registered without an app id: no tokens anywhere."""
    sim = _simulator(serve, login, app_id="")
    yield _shop(sim)
    sim.faults.clear()


# A tiny bot on the real SDK.


class EchoBot(ActivityHandler):
    def __init__(self) -> None:
        self.references: list[ConversationReference] = []

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if activity.value is not None:
            await turn_context.send_activity(f"got {json.dumps(activity.value, sort_keys=True)}")
            return
        text = TurnContext.remove_recipient_mention(activity).strip()
        if text == "who am i":
            member = await TeamsInfo.get_member(turn_context, activity.from_property.id)
            await turn_context.send_activity(f"{member.name} <{member.email}>")
            return
        await turn_context.send_activity(MessageFactory.text(f"echo: {text}"))

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        self.references.append(TurnContext.get_conversation_reference(turn_context.activity))


def bot_app(adapter: CloudAdapter, bot: ActivityHandler) -> Starlette:
    async def messages(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return Response(status_code=400)
        activity = Activity().deserialize(body)
        try:
            # Authenticating apart from the turn keeps the bot's own errors 5xx while every
            # way a token can be bad (PermissionError, PyJWT errors, KeyError, IndexError,
            # AttributeError) is a 401. An absent header must be None, not "": with the
            # parameterized settings botbuilder reads "" as a header and crashes on it.
            auth = await adapter.bot_framework_authentication.authenticate_request(
                activity, request.headers.get("authorization")
            )
        except Exception:
            return Response(status_code=401)
        invoke = await adapter.process_activity(auth, activity, bot.on_turn)
        if invoke is not None:
            return JSONResponse(invoke.body, status_code=invoke.status)
        return Response(status_code=200)

    return Starlette(routes=[Route("/api/messages", messages, methods=["POST"])])


@dataclass
class Bot:
    url: str
    adapter: CloudAdapter
    handler: EchoBot


@pytest.fixture
def start_bot() -> Iterator[Callable[[dict[str, str]], Bot]]:
    servers: list[BackgroundServer] = []

    def start(config: dict[str, str]) -> Bot:
        adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(SimpleNamespace(**config)))
        handler = EchoBot()
        server = BackgroundServer(bot_app(adapter, handler), name="echo-bot", lifespan="off")
        servers.append(server)
        return Bot(server.start() + "/api/messages", adapter, handler)

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def bot(shop: Shop, start_bot: Callable[[dict[str, str]], Bot]) -> Bot:
    return start_bot(shop.sim.botbuilder_config())


def texts(sim: TeamsConnectorSimulator, conversation_id: str | None = None) -> list[str | None]:
    return [a["text"] for a in sim.activities(conversation_id)]


# (a) Authenticated: the bot's app id and password are set.


def test_reply_to_a_personal_message_with_a_valid_token(shop: Shop, bot: Bot) -> None:
    sim = shop.sim
    inbound = sim.message(shop.olena, "hello")
    answer = sim.send(bot.url, inbound)
    assert answer.status_code == 200
    chat = sim.personal_conversation(shop.olena)
    [reply] = sim.activities(chat)
    assert reply["text"] == "echo: hello"
    assert reply["reply_to_id"] == inbound["id"]
    assert reply["activity"]["from"]["id"] == sim.bot_id
    assert reply["activity"]["recipient"]["id"] == shop.olena
    # botbuilder fetched the channel keys, then its own token over HTTPS, then replied with it.
    assert sim.count("GET", "/v1/.well-known/keys") <= 1  # cached process-wide for a day
    assert sim.count("POST", "/adfs/oauth2/v2.0/token") == 1
    [posted] = [r for r in sim.requests if r.path.startswith("/teams/v3/")]
    assert posted.path == f"/teams/v3/conversations/{chat}/activities/{inbound['id']}"
    assert posted.headers["authorization"].startswith("Bearer ")


def test_token_request_is_client_credentials_for_the_connector(shop: Shop, bot: Bot) -> None:
    shop.sim.send(bot.url, shop.sim.message(shop.olena, "hello"))
    [token_request] = [r for r in shop.sim.requests if r.path.endswith("/oauth2/v2.0/token")]
    form = dict(parse_qsl(token_request.body.decode()))
    assert form["grant_type"] == "client_credentials"
    assert form["client_id"] == APP_ID
    assert form["scope"] == "https://api.botframework.com/.default"
    assert form["client_secret"] == DEFAULT_APP_PASSWORD


def test_channel_mention_is_answered_in_its_thread(shop: Shop, bot: Bot) -> None:
    sim = shop.sim
    inbound = sim.message(shop.ivan, "ping", conversation_id=shop.bookings, mention_bot=True)
    assert inbound["text"] == "<at>meetbot</at> ping"
    assert inbound["entities"][0]["mentioned"]["id"] == sim.bot_id
    thread = f"{shop.bookings};messageid={inbound['id']}"
    assert inbound["conversation"]["id"] == thread
    assert inbound["channelData"]["team"]["id"] == shop.team
    assert sim.send(bot.url, inbound).status_code == 200
    [reply] = sim.activities(thread)
    assert reply["text"] == "echo: ping"
    assert reply["thread_id"] == inbound["id"]
    assert texts(sim, shop.bookings) == ["echo: ping"]
    assert sim.activities(shop.team) == []


def test_team_member_lookup_through_teams_info(shop: Shop, bot: Bot) -> None:
    inbound = shop.sim.message(
        shop.olena, "who am i", conversation_id=shop.bookings, mention_bot=True
    )
    assert shop.sim.send(bot.url, inbound).status_code == 200
    assert texts(shop.sim, shop.bookings) == ["Olena Admin <olena@demo.example>"]
    assert shop.sim.count("GET", r"/members/29:") == 1


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


BAD_HEADERS: dict[str, Callable[[TeamsConnectorSimulator], str | None]] = {
    "missing": lambda sim: None,
    "bearer without a token": lambda sim: "Bearer",
    "three words": lambda sim: "Bearer x y",
    "not a jwt": lambda sim: "Bearer not-a-jwt",
    "undecodable jwt": lambda sim: "Bearer a.b.c",
    "basic scheme": lambda sim: "Basic dXNlcjpwYXNz",
    "another app id": lambda sim: f"Bearer {sim.channel_token(audience='another-app-id')}",
    "expired": lambda sim: f"Bearer {sim.channel_token(lifetime=-600)}",
    "other serviceUrl": lambda sim: (
        f"Bearer {sim.channel_token(service_url='https://attacker.example/')}"
    ),
    "other issuer": lambda sim: f"Bearer {sim.channel_token(issuer='https://attacker.example')}",
    "unknown key id": lambda sim: f"Bearer {sim.channel_token(kid='unknown')}",
    "forged signature": lambda sim: (
        f"Bearer {sim.channel_token(key=SigningKey(), kid=sim.key.kid)}"
    ),
    "no issuer": lambda sim: f"Bearer {_b64({'alg': 'RS256'})}.{_b64({'aud': APP_ID})}.sig",
    "unsigned": lambda sim: "Bearer {}.{}.".format(
        _b64({"alg": "none"}),
        _b64({"iss": "https://api.botframework.com", "aud": APP_ID, "serviceurl": "x"}),
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_HEADERS))
def test_inbound_without_a_valid_token_is_401(shop: Shop, bot: Bot, case: str) -> None:
    sim = shop.sim
    answer = sim.send(bot.url, sim.message(shop.olena, "hi"), authorization=BAD_HEADERS[case](sim))
    assert answer.status_code == 401
    assert sim.activities() == []
    assert sim.count("POST", "/oauth2/") == 0


AUTH_FAILURES: dict[
    str, tuple[type[Exception], Callable[[TeamsConnectorSimulator], str | None]]
] = {
    "missing": (PermissionError, lambda sim: None),
    "empty": (AttributeError, lambda sim: ""),
    "not a jwt": (jwt.DecodeError, lambda sim: "Bearer not-a-jwt"),
    "expired": (
        jwt.ExpiredSignatureError,
        lambda sim: f"Bearer {sim.channel_token(lifetime=-600)}",
    ),
    "unknown key id": (IndexError, lambda sim: f"Bearer {sim.channel_token(kid='unknown')}"),
    "no issuer": (KeyError, BAD_HEADERS["no issuer"]),
}


@pytest.mark.parametrize("case", sorted(AUTH_FAILURES))
def test_botbuilder_auth_failures_are_not_all_permission_errors(shop: Shop, case: str) -> None:
    # Why the bot route maps every exception of authenticate_request to 401.
    expected, header = AUTH_FAILURES[case]
    config = SimpleNamespace(**shop.sim.botbuilder_config())
    auth = ConfigurationBotFrameworkAuthentication(config)
    activity = Activity().deserialize(shop.sim.message(shop.olena, "hi"))
    with pytest.raises(expected):
        _run(auth.authenticate_request(activity, header(shop.sim)))


def test_botbuilder_sends_its_token_to_whatever_service_url_it_is_given(
    shop: Shop, bot: Bot
) -> None:
    # Inbound tokens pin serviceUrl, but a stored reference is trusted as is: the product
    # must allow-list service URL hosts before continuing a conversation.
    seen: list[str] = []

    async def capture(request: Request) -> Response:
        seen.append(request.headers.get("authorization", ""))
        return JSONResponse({"id": "1"}, status_code=201)

    elsewhere = Starlette(routes=[Route("/{path:path}", capture, methods=["POST"])])
    sim = shop.sim
    sim.send(bot.url, sim.bot_added_to_team(shop.team, by_user=shop.olena))
    [reference] = bot.handler.references
    with BackgroundServer(elsewhere, name="elsewhere", lifespan="off") as server:
        reference.service_url = server.url + "/"

        async def say(turn_context: TurnContext) -> None:
            await turn_context.send_activity("hello")

        _run(bot.adapter.continue_conversation(reference, say, APP_ID))
    [header] = seen
    claims = json.loads(base64.urlsafe_b64decode(header.split(".")[1] + "=="))
    assert claims["aud"] == CONNECTOR_AUDIENCE and claims["appid"] == APP_ID


def test_wrong_app_password_fails_the_reply_with_aadsts7000215(
    shop: Shop, start_bot: Callable[[dict[str, str]], Bot]
) -> None:
    bot = start_bot({**shop.sim.botbuilder_config(), "APP_PASSWORD": "stale-secret"})
    answer = shop.sim.send(bot.url, shop.sim.message(shop.olena, "hello"))
    assert answer.status_code == 500  # the turn raised PermissionError from the token call
    [token_request] = [r for r in shop.sim.requests if r.path.endswith("/token")]
    assert token_request.status == 401
    assert shop.sim.activities() == []


# (b) Unauthenticated: no app id, no tokens.


def test_without_app_id_no_token_is_needed_or_sent(
    open_shop: Shop, start_bot: Callable[[dict[str, str]], Bot]
) -> None:
    sim = open_shop.sim
    config = sim.botbuilder_config()
    assert config == {"APP_ID": "", "APP_PASSWORD": ""}
    bot = start_bot(config)
    inbound = sim.message(open_shop.olena, "hello")
    assert sim.send(bot.url, inbound).status_code == 200  # no app id: no header
    [reply] = sim.activities(sim.personal_conversation(open_shop.olena))
    assert reply["text"] == "echo: hello" and reply["reply_to_id"] == inbound["id"]
    posted = [r for r in sim.requests if r.path.startswith("/teams/v3/")]
    assert [("authorization" in r.headers) for r in posted] == [False]
    assert sim.count(path_regex="well-known|oauth2") == 0


def test_authenticated_connector_refuses_an_unauthenticated_bot(
    shop: Shop, start_bot: Callable[[dict[str, str]], Bot]
) -> None:
    bot = start_bot({"APP_ID": "", "APP_PASSWORD": ""})
    answer = shop.sim.send(bot.url, shop.sim.message(shop.olena, "hello"), authorization=None)
    assert answer.status_code == 500  # the reply got 401 and botbuilder raised
    assert [r.status for r in shop.sim.requests if r.path.startswith("/teams/")] == [401]


# (c) Proactive: a card into a channel, then edited in place.


def _run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_proactive_card_in_a_channel_is_updated_in_place(shop: Shop, bot: Bot) -> None:
    sim = shop.sim
    added = sim.bot_added_to_team(shop.team, by_user=shop.olena)
    assert added["membersAdded"] == [{"id": sim.bot_id}]
    assert sim.send(bot.url, added).status_code == 200
    [reference] = bot.handler.references
    assert reference.conversation.id == shop.team and reference.service_url == sim.service_url

    posted: list[str] = []

    async def post_then_edit(turn_context: TurnContext) -> None:
        card = MessageFactory.attachment(CardFactory.adaptive_card(CARD_V1))
        response = await turn_context.send_activity(card)
        posted.append(response.id)
        edited = MessageFactory.attachment(CardFactory.adaptive_card(CARD_V2))
        edited.id = response.id
        await turn_context.update_activity(edited)

    _run(bot.adapter.continue_conversation(reference, post_then_edit, APP_ID))

    [card] = sim.activities(shop.team)
    assert card["id"] == posted[0]
    assert card["thread_id"] == card["id"]  # a proactive post in a channel starts a thread
    assert card["attachments"] == [{"contentType": ADAPTIVE, "content": CARD_V2}]
    [before] = card["edits"]
    assert before["attachments"] == [{"contentType": ADAPTIVE, "content": CARD_V1}]
    assert sim.count("PUT", f"/activities/{card['id']}$") == 1

    # Pressing the card's button comes back to the bot as a message with a value.
    submit = sim.card_submit(shop.ivan, {"booking": "2262"}, reply_to_id=card["id"])
    assert submit["conversation"]["id"] == f"{shop.team};messageid={card['id']}"
    assert sim.send(bot.url, submit).status_code == 200
    assert texts(sim, f"{shop.team};messageid={card['id']}")[-1] == 'got {"booking": "2262"}'


def test_continue_conversation_needs_the_bot_app_id(shop: Shop, bot: Bot) -> None:
    sim = shop.sim
    sim.send(bot.url, sim.bot_added_to_team(shop.team, by_user=shop.olena))
    [reference] = bot.handler.references

    async def say(turn_context: TurnContext) -> None:
        await turn_context.send_activity("never")

    with pytest.raises(Exception, match="Invalid app_id"):
        _run(bot.adapter.continue_conversation(reference, say))
    assert sim.activities() == []


def test_new_thread_and_personal_chat_through_create_conversation(shop: Shop, bot: Bot) -> None:
    sim = shop.sim
    sim.send(bot.url, sim.bot_added_to_team(shop.team, by_user=shop.olena))
    [reference] = bot.handler.references
    results: list[tuple[ConversationReference, str]] = []

    async def start_thread(turn_context: TurnContext) -> None:
        first = MessageFactory.text("New booking: 2262")
        results.append(
            await TeamsInfo.send_message_to_teams_channel(
                turn_context, first, shop.bookings, bot_app_id=APP_ID
            )
        )

    _run(bot.adapter.continue_conversation(reference, start_thread, APP_ID))
    [(thread_ref, first_id)] = results
    assert thread_ref.conversation.id == f"{shop.bookings};messageid={first_id}"

    async def follow_up(turn_context: TurnContext) -> None:
        await turn_context.send_activity("Client joined")

    _run(bot.adapter.continue_conversation(thread_ref, follow_up, APP_ID))
    assert texts(sim, thread_ref.conversation.id) == ["New booking: 2262", "Client joined"]

    async def direct_message(turn_context: TurnContext) -> None:
        await turn_context.send_activity("Your booking is confirmed")

    parameters = ConversationParameters(
        is_group=False,
        bot=ChannelAccount(id=sim.bot_id),
        members=[ChannelAccount(id=shop.ivan)],
        tenant_id=DEFAULT_TENANT_ID,
        channel_data={"tenant": {"id": DEFAULT_TENANT_ID}},
    )
    _run(
        bot.adapter.create_conversation(
            APP_ID, direct_message, parameters, "msteams", sim.service_url, None
        )
    )
    assert texts(sim, sim.personal_conversation(shop.ivan)) == ["Your booking is confirmed"]
    created = sim.created_conversations()
    assert [c["response"]["id"] for c in created] == [
        thread_ref.conversation.id,
        sim.personal_conversation(shop.ivan),
    ]


def test_removed_bot_gets_bot_not_in_conversation_roster(shop: Shop, bot: Bot) -> None:
    sim = shop.sim
    sim.send(bot.url, sim.bot_added_to_team(shop.team, by_user=shop.olena))
    [reference] = bot.handler.references
    sim.remove_bot(shop.team)

    async def say(turn_context: TurnContext) -> None:
        await turn_context.send_activity("anyone there?")

    with pytest.raises(ErrorResponseException) as refusal:
        _run(bot.adapter.continue_conversation(reference, say, APP_ID))
    assert refusal.value.error.error.code == "BotNotInConversationRoster"
    assert refusal.value.response.status_code == 403
    [refused] = [r for r in sim.requests if r.path.startswith("/teams/")]
    assert refused.status == 403
    sim.send(bot.url, sim.bot_added_to_team(shop.team, by_user=shop.olena))
    _run(bot.adapter.continue_conversation(reference, say, APP_ID))
    assert texts(sim, shop.team) == ["anyone there?"]


def test_adaptive_card_execute_is_an_invoke(shop: Shop) -> None:
    invoke = shop.sim.card_execute(shop.olena, "confirm", {"booking": "2262"}, reply_to_id="17")
    assert invoke["type"] == "invoke" and invoke["name"] == "adaptiveCard/action"
    assert invoke["value"]["action"] == {
        "type": "Action.Execute",
        "verb": "confirm",
        "data": {"booking": "2262"},
    }
    assert invoke["conversation"]["conversationType"] == "personal"
    assert "text" not in invoke


# The Connector's answers, straight over HTTP.


class Connector:
    def __init__(self, sim: TeamsConnectorSimulator, http: httpx.Client) -> None:
        self.sim, self.http = sim, http
        self.token: str | None = sim.connector_token()

    def __call__(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        url = self.sim.service_url + "v3/conversations" + path
        return self.http.request(method, url, headers=headers, **kwargs)

    def send(self, conversation_id: str, text: str = "hi") -> httpx.Response:
        return self(
            "POST", f"/{conversation_id}/activities", json={"type": "message", "text": text}
        )


@pytest.fixture
def api(shop: Shop, http: httpx.Client) -> Connector:
    return Connector(shop.sim, http)


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


def test_connector_auth_errors(shop: Shop, api: Connector) -> None:
    chat = shop.sim.personal_conversation(shop.olena)
    assert api.send(chat).status_code == 201
    for token in (None, "garbage", shop.sim.connector_token(lifetime=-10)):
        api.token = token
        answer = api.send(chat)
        assert (answer.status_code, answer.json()) == (401, DENIED)
    api.token = SigningKey().sign({"aud": CONNECTOR_AUDIENCE, "appid": APP_ID, "exp": 2**40})
    assert api.send(chat).status_code == 401
    api.token = shop.sim.connector_token(app_id="another-bot")
    answer = api.send(chat)
    assert (answer.status_code, error_code(answer)) == (401, "BotNotRegistered")
    assert texts(shop.sim) == ["hi"]


def test_send_reply_update_delete(shop: Shop, api: Connector) -> None:
    chat = shop.sim.personal_conversation(shop.olena)
    first = api.send(chat, "v1").json()["id"]
    reply = api("POST", f"/{chat}/activities/{first}", json={"type": "message", "text": "r"})
    assert reply.status_code == 201
    edit = {"type": "message", "text": "v2"}
    assert api("PUT", f"/{chat}/activities/{first}", json=edit).json() == {"id": first}
    assert api("DELETE", f"/{chat}/activities/{reply.json()['id']}").status_code == 200
    stored = shop.sim.activities(chat)
    assert [(a["text"], a["deleted"]) for a in stored] == [("v2", False), ("r", True)]
    assert [e["text"] for e in stored[0]["edits"]] == ["v1"]
    assert stored[1]["reply_to_id"] == first
    ids = [int(a["id"]) for a in stored]
    assert ids == sorted(ids) and len(set(ids)) == 2


def test_not_found_answers(shop: Shop, api: Connector) -> None:
    chat = shop.sim.personal_conversation(shop.olena)
    unknown = api.send("a:1nothere")
    assert (unknown.status_code, error_code(unknown)) == (404, "ConversationNotFound")
    for method in ("PUT", "DELETE"):
        answer = api(method, f"/{chat}/activities/1234", json={"type": "message", "text": "x"})
        assert (answer.status_code, error_code(answer)) == (404, "ActivityNotFoundInConversation")
    # A proactive turn replies to its continuation activity's random id: that is posted.
    stray = api("POST", f"/{chat}/activities/4b1c-random", json={"type": "message", "text": "p"})
    assert stray.status_code == 201
    assert api("GET", f"/{chat}/members/29:nobody").status_code == 404


def test_removed_bot_is_not_in_the_roster(shop: Shop, api: Connector) -> None:
    chat = shop.sim.personal_conversation(shop.olena)
    shop.sim.remove_bot(chat)
    for answer in (api.send(chat), api("GET", f"/{chat}/members")):
        assert (answer.status_code, error_code(answer)) == (403, "BotNotInConversationRoster")
    shop.sim.remove_bot(shop.team)
    thread = f"{shop.bookings};messageid=1"
    assert error_code(api.send(thread)) == "BotNotInConversationRoster"
    shop.sim.restore_bot(chat)
    assert api.send(chat).status_code == 201


def test_members(shop: Shop, api: Connector) -> None:
    members = api("GET", f"/{shop.bookings}/members").json()
    assert [m["name"] for m in members] == ["Olena Admin", "Ivan Staff"]
    assert members[0]["email"] == "olena@demo.example"
    assert members[0]["tenantId"] == DEFAULT_TENANT_ID
    one = api("GET", f"/{shop.sim.personal_conversation(shop.ivan)}/members/{shop.ivan}").json()
    assert one["name"] == "Ivan Staff" and one["aadObjectId"]


def test_create_conversation_shapes(shop: Shop, api: Connector) -> None:
    personal = {"members": [{"id": shop.olena}], "tenantId": DEFAULT_TENANT_ID}
    first = api("POST", "", json=personal)
    assert first.status_code == 201 and first.json()["id"].startswith("a:")
    assert api("POST", "", json=personal).json() == first.json()  # the same chat again
    thread = {
        "isGroup": True,
        "channelData": {"channel": {"id": shop.bookings}},
        "activity": {"type": "message", "text": "New booking"},
    }
    created = api("POST", "", json=thread).json()
    assert created["id"] == f"{shop.bookings};messageid={created['activityId']}"
    group = {"isGroup": True, "members": [{"id": shop.olena}, {"id": shop.ivan}]}
    assert (api("POST", "", json=group).status_code, error_code(api("POST", "", json=group))) == (
        400,
        "BadSyntax",
    )
    stranger = {"members": [{"id": "29:stranger"}], "tenantId": DEFAULT_TENANT_ID}
    assert api("POST", "", json=stranger).status_code == 400
    assert api("POST", "", json={"members": [{"id": shop.olena}]}).status_code == 400


def test_throttled_and_transient_failures(shop: Shop, api: Connector) -> None:
    sim = shop.sim
    chat = sim.personal_conversation(shop.olena)
    other = sim.personal_conversation(shop.ivan)
    sim.throttle(retry_after=3, conversation_id=chat)
    throttled = api.send(chat)
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "3"
    assert error_code(throttled) == "Throttled"
    assert api.send(other).status_code == 201
    assert api.send(chat).status_code == 201
    for status, code in ((412, "PreconditionFailed"), (502, "ServiceError")):
        sim.fail_transiently(status)
        answer = api.send(chat)
        assert (answer.status_code, error_code(answer)) == (status, code)
    assert texts(sim) == ["hi", "hi"]


def test_per_thread_rate_limits(shop: Shop, api: Connector) -> None:
    sim = shop.sim
    now = [1000.0]
    sim.clock = lambda: now[0]
    sim.enforce_rate_limits = True
    chat = sim.personal_conversation(shop.olena)
    assert [api.send(chat).status_code for _ in range(8)] == [201] * 7 + [429]
    assert api.send(sim.personal_conversation(shop.ivan)).status_code == 201
    now[0] += 1.0
    assert api.send(chat).status_code == 201  # 8 in 2 s
    limited = api.send(chat)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
    # Four sends a second stay under 7/s and 8/2s; the 61st within 30 s is refused.
    for _ in range(15):
        now[0] += 1.0
        assert [api.send(shop.bookings).status_code for _ in range(4)] == [201] * 4
    now[0] += 1.0
    answer = api.send(shop.bookings)
    assert (answer.status_code, answer.headers["retry-after"]) == (429, "15")


def test_message_size_limit(shop: Shop, api: Connector) -> None:
    chat = shop.sim.personal_conversation(shop.olena)
    answer = api.send(chat, "x" * 30_000)
    assert (answer.status_code, error_code(answer)) == (413, "MessageSizeTooBig")


# The token authority.


def test_channel_openid_metadata_and_keys(shop: Shop, http: httpx.Client) -> None:
    metadata = http.get(shop.sim.openid_metadata_url).json()
    assert metadata["issuer"] == "https://api.botframework.com"
    [key] = http.get(metadata["jwks_uri"]).json()["keys"]
    assert key["kid"] == shop.sim.key.kid and key["kty"] == "RSA"
    assert key["endorsements"] == ["msteams"]


def _token_form(**overrides: str) -> dict[str, str]:
    form = {
        "grant_type": "client_credentials",
        "client_id": APP_ID,
        "client_secret": DEFAULT_APP_PASSWORD,
        "scope": "https://api.botframework.com/.default",
    }
    return {**form, **overrides}


def test_login_errors_have_the_aadsts_shape(
    shop: Shop, certificate: LoopbackCertificate, login: tuple[_Slot, str]
) -> None:
    url = f"{login[1]}/botframework.com/oauth2/v2.0/token"
    trust = ssl.create_default_context(cafile=str(certificate.cert_path))
    with httpx.Client(verify=trust) as client:
        ok = client.post(url, data=_token_form())
        assert ok.status_code == 200 and ok.json()["token_type"] == "Bearer"
        bad = client.post(url, data=_token_form(client_secret="wrong"))
        body = bad.json()
        assert bad.status_code == 401 and body["error"] == "invalid_client"
        assert body["error_codes"] == [7000215]
        assert body["error_description"].startswith("AADSTS7000215: Invalid client secret")
        assert "Trace ID: " in body["error_description"]
        unknown = client.post(url, data=_token_form(client_id="someone"))
        assert (unknown.status_code, unknown.json()["error_codes"]) == (400, [700016])
        scope = client.post(url, data=_token_form(scope="https://graph.microsoft.com/.default"))
        assert scope.json()["error"] == "invalid_resource"


def test_msal_gets_a_token_the_connector_accepts(
    shop: Shop, certificate: LoopbackCertificate, login: tuple[_Slot, str], http: httpx.Client
) -> None:
    # The shape a product would use with its own msal app: a tenant authority and no
    # instance discovery (only botbuilder's own msal apps need the ADFS form).
    session = requests.Session()
    session.verify = str(certificate.cert_path)
    session.trust_env = False
    app = msal.ConfidentialClientApplication(
        APP_ID,
        client_credential=DEFAULT_APP_PASSWORD,
        authority=f"{login[1]}/botframework.com",
        http_client=session,
        instance_discovery=False,
    )
    result = app.acquire_token_for_client(["https://api.botframework.com/.default"])
    session.close()
    assert "access_token" in result, result
    connector = Connector(shop.sim, http)
    connector.token = result["access_token"]
    assert connector.send(shop.sim.personal_conversation(shop.olena)).status_code == 201
    assert shop.sim.count("GET", "/botframework.com/v2.0/.well-known/openid-configuration") == 1


def test_simulator_needs_its_urls() -> None:
    sim = TeamsConnectorSimulator()
    with pytest.raises(RuntimeError):
        _ = sim.service_url
    sim.url = "http://127.0.0.1:9"
    with pytest.raises(RuntimeError):
        sim.botbuilder_config()
    assert sim.service_url == "http://127.0.0.1:9/teams/"
