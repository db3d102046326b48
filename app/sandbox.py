"""`meetbot sandbox`: the whole product on one machine, against simulated platforms (X4).

`SandboxWorld` and `seed_demo` are also what the end-to-end tests and the benchmark build on, so
the demo a newcomer sees is the flow the tests prove.
"""

from __future__ import annotations

import contextlib
import gc
import html
import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from app.bootstrap import Core, build_core
from app.settings import Settings
from app.web import build_web_app
from app.worker import WorkerThread
from bot.domain import CatalogEntry, ChatPlatform, ChatTarget, MeetingPlatform
from bot.urls import CLIENT_PATH, HOST_PATH, PublicUrls
from simulators.microsoft import MicrosoftSimulator
from simulators.server import BackgroundServer
from simulators.simplybook import SimplyBookSimulator
from simulators.slack import SlackSimulator
from simulators.tls import LoopbackCertificate, loopback_certificate
from simulators.zoom import ZoomSimulator
from storage.crypto import generate_key

ZOOM_CLIENT_ID = "sandbox-zoom-client"
ZOOM_CLIENT_SECRET = "sandbox-zoom-client-secret"  # noqa: S105  (a simulator's, not a real secret)


@dataclass
class SandboxWorld:
    simplybook: SimplyBookSimulator = field(default_factory=SimplyBookSimulator)
    zoom: ZoomSimulator = field(
        default_factory=lambda: ZoomSimulator(
            client_id=ZOOM_CLIENT_ID, client_secret=ZOOM_CLIENT_SECRET
        )
    )
    slack: SlackSimulator = field(default_factory=SlackSimulator)
    microsoft: MicrosoftSimulator = field(default_factory=MicrosoftSimulator)
    servers: dict[str, BackgroundServer] = field(default_factory=dict)
    certificate: LoopbackCertificate | None = None  # the identity stand-in speaks HTTPS (msal)
    secret_key: str = field(
        default_factory=generate_key
    )  # one key: every process shares the database

    def url(self, name: str) -> str:
        return self.servers[name].url

    def settings(self, *, database_url: str, public_url: str, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "public_url": public_url,
            "secret_keys": self.secret_key,
            "simplybook_api_url": self.url("simplybook"),
            "zoom_api_url": f"{self.url('zoom')}/v2",
            "zoom_oauth_url": self.url("zoom"),
            "zoom_client_id": ZOOM_CLIENT_ID,
            "zoom_client_secret": ZOOM_CLIENT_SECRET,
            "slack_api_url": f"{self.url('slack')}/api",
            "ms_client_id": self.microsoft.client_id,
            "ms_client_secret": self.microsoft.client_secret,
            "ms_authority": f"{self.url('microsoft_login')}/organizations",
            "graph_api_url": f"{self.url('microsoft_graph')}/v1.0",
            "ms_ca_bundle": str(self.certificate.cert_path) if self.certificate else None,
            "ms_simulated_authority": True,
            "worker_idle_poll_seconds": 0.2,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)


@contextlib.contextmanager
def simulators_running() -> Iterator[SandboxWorld]:
    world = SandboxWorld()
    apps = {
        "simplybook": world.simplybook.app,
        "zoom": world.zoom.app,
        "slack": world.slack.app,
        "microsoft_graph": world.microsoft.app,
    }
    folder = Path(tempfile.mkdtemp(prefix="meetbot-tls-"))
    world.certificate = loopback_certificate(folder)
    try:
        for name, app in apps.items():
            world.servers[name] = BackgroundServer(app, name=name, lifespan="off")
            world.servers[name].start()
        world.servers["microsoft_login"] = BackgroundServer(
            world.microsoft.app, name="microsoft_login", lifespan="off", tls=world.certificate
        )
        world.servers["microsoft_login"].start()
        yield world
    finally:
        gc.collect()  # msal's keep-alive sockets would otherwise hold the HTTPS server open
        for server in world.servers.values():
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class Demo:
    company_id: str
    login: str
    webhook_token: str
    service_id: str
    provider_id: str
    zoom_user_id: str
    team_id: str
    channel_id: str


def seed_demo(
    core: Core, world: SandboxWorld, *, login: str = "demo-studio", timezone: str = "Europe/Kyiv"
) -> Demo:
    """A company that is fully set up: service enabled, provider mapped to a Zoom user and a channel."""
    api_key, api_secret = f"{login}-api-key-0123456789", f"{login}-api-secret-0123456789"
    world.simplybook.add_company(
        login, api_key=api_key, api_secret=api_secret, name="Demo Yoga Studio", timezone=timezone
    )
    world.simplybook.add_service(login, id=1, name="Online yoga consultation", duration=60)
    world.simplybook.add_provider(login, id=1, name="Olena Koval", email="olena@demo-studio.test")
    zoom_user = world.zoom.add_user(
        account_id=f"acct-{login}",
        email="olena@demo-studio.test",
        first_name="Olena",
        last_name="Koval",
    )
    team_id = f"T{abs(hash(login)) % 10**8:08d}"
    bot_token = f"xoxb-{team_id}-sandbox"
    world.slack.add_workspace(team_id, name="Demo Yoga Studio", bot_token=bot_token)
    channel_id = world.slack.add_channel(team_id, name="olena-bookings")

    company, webhook_token = core.companies.create_company(
        login=login,
        api_key=api_key,
        api_secret=api_secret,
        name="Demo Yoga Studio",
        timezone=timezone,
    )
    core.catalog.merge_catalog(
        company_id=company.id,
        services=[CatalogEntry("1", "Online yoga consultation")],
        providers=[CatalogEntry("1", "Olena Koval", email="olena@demo-studio.test")],
    )
    core.companies.set_online_meetings(company_id=company.id, enabled=True)
    core.catalog.set_service_online(company_id=company.id, external_id="1", enabled=True)
    core.catalog.map_provider(
        company_id=company.id,
        external_id="1",
        platform=MeetingPlatform.ZOOM,
        zoom_user=zoom_user["id"],
        channel=ChatTarget(ChatPlatform.SLACK, team_id, channel_id),
    )
    tokens = world.zoom.issue_tokens(account_id=f"acct-{login}", user_id=zoom_user["id"])
    core.zoom_tokens.connect(
        company_id=company.id,
        zoom_account_id=f"acct-{login}",
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        expires_at=core.clock.now() + timedelta(seconds=int(tokens["expires_in"])),
    )
    core.workspaces.bind(
        company_id=company.id,
        platform="slack",
        external_id=team_id,
        name="Demo Yoga Studio",
        bot_token=bot_token,
    )
    return Demo(company.id, login, webhook_token, "1", "1", zoom_user["id"], team_id, channel_id)


def add_class_service(
    core: Core, world: SandboxWorld, demo: Demo, *, service_id: str = "3", name: str = "Group yoga"
) -> None:
    """A group-class service (S7), known to the booking system and to meetbot, online."""
    world.simplybook.add_service(demo.login, id=service_id, name=name, is_class="1")
    core.catalog.merge_catalog(
        company_id=demo.company_id,
        services=[CatalogEntry(service_id, name, is_class=True)],
        providers=[],
    )
    core.catalog.set_service_online(
        company_id=demo.company_id, external_id=service_id, enabled=True
    )


def book_seat(
    world: SandboxWorld, demo: Demo, start: datetime, client: str, *, service_id: str = "3"
) -> dict[str, Any]:
    """A client's seat in the group class of `demo`'s provider that starts at `start` (an hour)."""
    return world.simplybook.add_booking(
        demo.login,
        service_id=service_id,
        provider_id=demo.provider_id,
        client_name=client,
        client_email=f"{client.lower()}@example.test",
        start=f"{start:%Y-%m-%d %H:%M:%S}",
        end=f"{start + timedelta(hours=1):%Y-%m-%d %H:%M:%S}",
    )


def book(
    world: SandboxWorld,
    demo: Demo,
    *,
    client_name: str = "Iryna Shevchenko",
    starts_in: timedelta = timedelta(minutes=5),
    minutes: int = 60,
    timezone: str = "Europe/Kyiv",
    **extra: Any,
) -> dict[str, Any]:
    start = (datetime.now(ZoneInfo(timezone)) + starts_in).replace(second=0, microsecond=0)
    return world.simplybook.add_booking(
        demo.login,
        service_id=demo.service_id,
        provider_id=demo.provider_id,
        client_name=client_name,
        client_email="client@example.test",
        start=f"{start:%Y-%m-%d %H:%M:%S}",
        end=f"{start + timedelta(minutes=minutes):%Y-%m-%d %H:%M:%S}",
        **extra,
    )


def message_as_text(message: dict[str, Any]) -> str:
    """A Slack message's blocks as plain lines, the way a person would read them."""
    lines: list[str] = []
    for block in message.get("blocks") or []:
        if block.get("type") == "header":
            lines.append(block["text"]["text"])
        elif block.get("type") == "section":
            lines.extend(
                re.sub(r"\*(.+?)\*", r"\1", html.unescape(block["text"]["text"])).splitlines()
            )
        elif block.get("type") == "rich_text":
            lines.extend(_rich_text_as_text(block).splitlines())
        elif block.get("type") == "actions":
            lines.extend(
                f"[{e['text']['text']}] {e.get('url') or '(a button for staff in Slack)'}"
                for e in block["elements"]
            )
        elif block.get("type") == "context":
            lines.extend(html.unescape(e.get("text", "")) for e in block["elements"])
    return "\n".join(lines) or str(message.get("text", ""))


def _rich_text_as_text(block: dict[str, Any]) -> str:
    shown = {"text": "text", "link": "url", "date": "fallback"}
    return "".join(
        str(element.get(shown.get(element.get("type", ""), "text"), ""))
        for section in block.get("elements") or []
        for element in section.get("elements") or []
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(condition: Any, *, timeout: float = 20.0, step: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return condition()


def run_sandbox(*, port: int, keep_serving: bool) -> int:
    from app.logs import configure_logging

    port = port or _free_port()
    with (
        tempfile.TemporaryDirectory(prefix="meetbot-sandbox-") as folder,
        simulators_running() as world,
    ):
        settings = world.settings(
            database_url=f"sqlite:///{folder}/sandbox.db", public_url=f"http://127.0.0.1:{port}"
        )
        configure_logging("WARNING", settings.secret_values())
        core = build_core(settings)
        core.migrate()
        demo = seed_demo(core, world)
        server = BackgroundServer(
            build_web_app(core, worker=WorkerThread(core)), port=port, name="meetbot"
        )
        try:
            server.start()
        except OSError:
            print(f"Port {port} is busy. Try: meetbot sandbox --port 0")
            return 1
        try:
            return _demo_flow(world, demo, server.url, keep_serving, core)
        finally:
            server.stop()


def _demo_flow(
    world: SandboxWorld, demo: Demo, url: str, keep_serving: bool, core: Core | None = None
) -> int:
    print(f"meetbot sandbox: web app on {url}")
    print(
        f"simulated SimplyBook.me {world.url('simplybook')}, Zoom {world.url('zoom')}, "
        f"Slack {world.url('slack')}"
    )
    booking = book(world, demo)
    callback = world.simplybook.callback(demo.login, booking["id"], "create")
    answer = httpx.post(
        PublicUrls(url).simplybook_callback(demo.webhook_token), json=callback, timeout=10
    )
    print(
        f"\nA client booked 'Online yoga consultation' (booking {booking['id']}); "
        f"the booking webhook answered HTTP {answer.status_code}."
    )
    messages = wait_for(lambda: world.slack.messages(demo.channel_id))
    if not messages:
        print("No message reached the provider's channel within 20 s: see the log above.")
        return 1
    print("\nThe provider's Slack channel #olena-bookings received:\n")
    print("    " + message_as_text(messages[0]).replace("\n", "\n    "))
    links = re.findall(r"(http://\S+/(?:m|h)/\S+)", message_as_text(messages[0]))
    client_link = next((link for link in links if CLIENT_PATH in link), "")
    host_link = next((link for link in links if HOST_PATH in link), "")
    print(f"\nClient's link:   {client_link}\nProvider's link: {host_link}")
    if core is not None:
        from app.sandbox_webhook import show_generic_source_booking

        show_generic_source_booking(core, world, demo, url)
    if keep_serving:
        print(
            "\nOpen the links in a browser (they lead to the simulated Zoom). Press Ctrl+C to stop."
        )
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0
