"""The sandbox's Microsoft side: Teams as the chat (the simulated Bot Connector) and as the meeting
platform (the simulated Graph) for a second provider of the demo studio, so `meetbot sandbox`
shows a booking becoming a Teams meeting and a card in a Teams channel."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.bootstrap import Core, build_integrations
from app.sandbox import Demo, SandboxWorld
from bot.commands.deps import actor_key
from bot.domain import (
    Actor,
    CatalogEntry,
    ChatPlatform,
    ChatTarget,
    MeetingPlatform,
    MsConnection,
    MsSignInFor,
)
from simulators.microsoft import MicrosoftUser
from simulators.server import BackgroundServer
from simulators.teams import CHANNEL_ISSUER, CONNECTOR_AUDIENCE, TeamsConnectorSimulator

TEAMS_PROVIDER_ID, TEAMS_PROVIDER = "2", "Taras Bondar"
TEAMS_CHANNEL = "taras-bookings"
_BROWSER_NONCE = "sandbox-browser"  # the one browser the sandbox signs in with


@dataclass
class TeamsDemo:
    """The simulated Teams tenant: its admin, one team and the provider's channel."""

    sim: TeamsConnectorSimulator
    ca_bundle: str
    admin: str  # the admin's Teams user id
    admin_aad: str
    team: str
    channel: str
    owner: MicrosoftUser | None = None  # whose Microsoft account hosts the Teams meetings

    def settings(self) -> dict[str, Any]:
        """meetbot pointed at the simulated Teams, as an operator would set MEETBOT_TEAMS_*."""
        assert self.sim.url is not None and self.sim.login_url is not None
        return {
            "teams_app_id": self.sim.app_id,
            "teams_app_password": self.sim.app_password,
            "teams_service_url_hosts": urlsplit(self.sim.url).netloc,
            "teams_openid_metadata_url": self.sim.openid_metadata_url,
            "teams_token_issuer": CHANNEL_ISSUER,
            "teams_login_url": f"{self.sim.login_url}/adfs",
            "teams_oauth_scope": CONNECTOR_AUDIENCE,
            "teams_ca_bundle": self.ca_bundle,
        }


@contextlib.contextmanager
def teams_running(world: SandboxWorld) -> Iterator[TeamsDemo]:
    """The Bot Connector over HTTP and its login over HTTPS (the world's loopback certificate)."""
    assert world.certificate is not None
    sim = TeamsConnectorSimulator()
    plain = BackgroundServer(sim.app, name="teams", lifespan="off")
    secure = BackgroundServer(sim.app, name="teams_login", lifespan="off", tls=world.certificate)
    with plain, secure:
        sim.url, sim.login_url = plain.url, secure.url
        admin_aad = "5d6e7f80-91a2-4b3c-8d4e-5f6a7b8c9d0e"
        admin = sim.add_user(name="Olena Koval", aad_object_id=admin_aad, email="olena@studio.test")
        team = sim.add_team(name="Demo Yoga Studio", members=[admin])
        channel = sim.add_channel(team, name=TEAMS_CHANNEL)
        yield TeamsDemo(sim, str(world.certificate.cert_path), admin, admin_aad, team, channel)


def seed_teams_provider(core: Core, world: SandboxWorld, demo: Demo, teams: TeamsDemo) -> None:
    """A second provider whose meetings are on Teams and whose bookings go to a Teams channel of
    the studio's team (admin notices stay with the studio's owner in Slack)."""
    email = "taras@studio.example"
    world.simplybook.add_provider(
        demo.login, id=TEAMS_PROVIDER_ID, name=TEAMS_PROVIDER, email=email
    )
    entry = CatalogEntry(TEAMS_PROVIDER_ID, TEAMS_PROVIDER, email=email)
    core.catalog.merge_catalog(company_id=demo.company_id, services=[], providers=[entry])
    tenant = teams.sim.tenant_id
    core.workspaces.bind(
        company_id=demo.company_id, platform="teams", external_id=tenant, name="Demo Yoga Studio"
    )
    core.catalog.map_provider(
        company_id=demo.company_id,
        external_id=TEAMS_PROVIDER_ID,
        platform=MeetingPlatform.TEAMS,
        channel=ChatTarget(ChatPlatform.TEAMS, tenant, teams.channel),
    )


def install_in_team(teams: TeamsDemo, meetbot_url: str) -> None:
    """meetbot added to the team, as Teams tells a bot: from then on it may post in its channels."""
    added = teams.sim.bot_added_to_team(teams.team, by_user=teams.admin)
    answer = teams.sim.send(f"{meetbot_url}/api/messages", added)
    answer.raise_for_status()


class _FormPost(HTMLParser):
    """The fields Microsoft's sign-in page makes the browser POST back to meetbot."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "input" and found.get("type") == "hidden":
            self.fields[found["name"]] = found["value"]


async def connect_microsoft(core: Core, world: SandboxWorld, demo: Demo, teams: TeamsDemo) -> None:
    """The studio's Microsoft account connected through the real sign-in (msal, the simulated
    identity platform), as the admin's "connect teams" would; the sandbox plays the browser."""
    owner = world.microsoft.add_user("Studio Owner", "owner@studio.example")
    world.microsoft.signing_in = teams.owner = owner
    actor = Actor(ChatPlatform.TEAMS, teams.sim.tenant_id, teams.admin_aad)
    integrations = build_integrations(core)
    try:
        assert integrations.microsoft is not None, "the sandbox configures Microsoft"
        sign_in = integrations.microsoft.sign_in
        url = await sign_in.authorize_url(
            signing_in=MsSignInFor(demo.company_id, "", actor), browser_nonce=_BROWSER_NONCE
        )
        trusted = ssl.create_default_context(cafile=teams.ca_bundle)
        async with httpx.AsyncClient(verify=trusted, trust_env=False) as browser:
            page = await browser.get(url)
        connection = await sign_in.complete(
            _FormPost(page.text).fields, browser_nonce=_BROWSER_NONCE
        )
    finally:
        await integrations.aclose()
    assert isinstance(connection, MsConnection), connection
    core.ms_accounts.save_account(connection=connection, connected_by=actor_key(actor))
