"""Talking to meetbot as Microsoft Teams does, for tests: the simulated Teams (Connector,
channel token metadata, login) and helpers that send activities and read what meetbot posted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from adapters.teams.cards import activity_cards, card_text
from app.bootstrap import Core
from app.sandbox import Demo
from bot.domain import Actor, ChatPlatform
from simulators.teams import (
    CHANNEL_ISSUER,
    CONNECTOR_AUDIENCE,
    DEFAULT_TENANT_ID,
    TeamsConnectorSimulator,
)
from simulators.tls import LoopbackCertificate

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT.parent / "shared" / "schemas"
OLENA_AAD = "0f6c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f"
IVAN_AAD = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
LOGIN, API_KEY, API_SECRET = "teams-studio", "teams-studio-api-key-0123", "teams-studio-secret-4567"

# The simulated Teams: one HTTP server (Connector, channel metadata) and one HTTPS server (login)
# for the module; each test plugs its own simulator in.


class _Slot:
    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@dataclass
class Servers:
    http: _Slot
    http_url: str
    login: _Slot
    login_url: str
    certificate: LoopbackCertificate


@dataclass
class Tenant:
    sim: TeamsConnectorSimulator
    olena: str  # the installer, who becomes the first admin
    ivan: str
    team: str
    bookings: str  # a channel of the team
    certificate: LoopbackCertificate

    def settings(self) -> dict[str, Any]:
        """meetbot pointed at the simulator, as an operator would set MEETBOT_TEAMS_*."""
        connector = urlsplit(self.sim.url).netloc  # the allow-list checks the port too
        if not self.sim.app_id:
            return {"teams_allow_unauthenticated": True, "teams_service_url_hosts": connector}
        return {
            "teams_app_id": self.sim.app_id,
            "teams_app_password": self.sim.app_password,
            "teams_service_url_hosts": connector,
            "teams_openid_metadata_url": self.sim.openid_metadata_url,
            "teams_token_issuer": CHANNEL_ISSUER,
            "teams_login_url": f"{self.sim.login_url}/adfs",
            "teams_oauth_scope": CONNECTOR_AUDIENCE,
            "teams_ca_bundle": str(self.certificate.cert_path),
        }


def _tenant(servers: Servers, **kwargs: Any) -> Tenant:
    sim = TeamsConnectorSimulator(**kwargs)
    sim.url, sim.login_url = servers.http_url, servers.login_url
    servers.http.app = servers.login.app = sim.app
    olena = sim.add_user(name="Olena Koval", aad_object_id=OLENA_AAD, email="olena@studio.test")
    ivan = sim.add_user(name="Ivan Staff", aad_object_id=IVAN_AAD)
    team = sim.add_team(name="Teams Yoga Studio", members=[olena, ivan])
    bookings = sim.add_channel(team, name="olena-bookings")
    return Tenant(sim, olena, ivan, team, bookings, servers.certificate)


@dataclass
class Meetbot:
    core: Core
    url: str

    @property
    def bot(self) -> str:
        return f"{self.url}/api/messages"


# Talking to meetbot as Teams does.


def send(tenant: Tenant, meetbot: Meetbot, activity: dict[str, Any]) -> None:
    answer = tenant.sim.send(meetbot.bot, activity)
    assert answer.status_code == 200, answer.text


def new_posts(tenant: Tenant, conversation: str, act: Callable[[], None]) -> list[dict[str, Any]]:
    before = {post["id"] for post in tenant.sim.activities(conversation)}
    act()
    return [post for post in tenant.sim.activities(conversation) if post["id"] not in before]


def text_of(post: dict[str, Any]) -> str:
    return "\n".join(card_text(card) for card in activity_cards(post["activity"]))


def ask(tenant: Tenant, meetbot: Meetbot, user: str, text: str) -> list[dict[str, Any]]:
    """A message in the person's 1:1 chat with meetbot; what meetbot posted there."""
    chat = tenant.sim.personal_conversation(user)
    return new_posts(tenant, chat, lambda: send(tenant, meetbot, tenant.sim.message(user, text)))


def ask_in_channel(
    tenant: Tenant,
    meetbot: Meetbot,
    user: str,
    text: str,
    *,
    mention: tuple[str, str] | None = None,
) -> list[dict[str, Any]]:
    """@meetbot in the bookings channel (optionally mentioning a person); posts in the channel."""
    activity = tenant.sim.message(user, text, conversation_id=tenant.bookings, mention_bot=True)
    if mention is not None:
        person, name = mention
        activity["entities"].append(
            {
                "type": "mention",
                "text": f"<at>{name}</at>",
                "mentioned": {"id": person, "name": name},
            }
        )
    return new_posts(tenant, tenant.bookings, lambda: send(tenant, meetbot, activity))


def install(tenant: Tenant, meetbot: Meetbot) -> None:
    send(tenant, meetbot, tenant.sim.bot_added_to_team(tenant.team, by_user=tenant.olena))


def chat_in_teams(core: Core, demo: Demo) -> None:
    """The demo company's chat is the simulated Teams tenant, with Olena as its admin."""
    core.workspaces.bind(
        company_id=demo.company_id, platform="teams", external_id=DEFAULT_TENANT_ID, name="Teams"
    )
    admin = Actor(ChatPlatform.TEAMS, DEFAULT_TENANT_ID, OLENA_AAD)
    core.staff.set_role(company_id=demo.company_id, actor=admin, user_id=OLENA_AAD, role="admin")


def bookings_channel_in_teams(tenant: Tenant, meetbot: Meetbot) -> None:
    """meetbot installed, and Olena's bookings set to go to the team's bookings channel."""
    install(tenant, meetbot)
    mapped = ask_in_channel(tenant, meetbot, tenant.olena, "provider olena channel")
    assert "bookings go to" in "\n".join(text_of(post) for post in mapped)
