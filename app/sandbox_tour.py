"""`meetbot sandbox`: the demo studio's bookings, each made through the real webhook and printed
with the links to open and one line on what each shows.

`DEMO_BOOKINGS` is the list the tour walks through: one more entry (a name, a title, what it
shows, and a function that makes the booking and returns its links) adds one more to the tour.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import re
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from adapters.teams.cards import activity_cards, card_text, unescape
from app.bootstrap import Core, build_core
from app.sandbox import (
    Demo,
    SandboxWorld,
    add_class_service,
    book,
    book_seat,
    message_as_text,
    seed_demo,
    simulators_running,
    wait_for,
)
from app.sandbox_teams import (
    TEAMS_CHANNEL,
    TEAMS_PROVIDER_ID,
    TeamsDemo,
    connect_microsoft,
    install_in_team,
    seed_teams_provider,
    teams_running,
)
from app.sandbox_webhook import add_generic_source_booking
from app.web import build_web_app
from app.worker import WorkerThread
from bot.domain import Actor, ChatPlatform
from bot.urls import CLIENT_PATH, HOST_PATH, PublicUrls
from simulators.server import BackgroundServer

SLACK_ADMIN = "UOWNER01"  # the studio's owner: admin notices and the daily digest reach them
_LINK = re.compile(r"(https?://\S+/(?:m|h)/[A-Za-z0-9_-]+)")


@dataclass
class Tour:
    core: Core
    world: SandboxWorld
    demo: Demo
    url: str
    teams: TeamsDemo

    def callback(self, booking_id: str, kind: str) -> None:
        """SimplyBook.me telling meetbot that a booking changed."""
        callback = self.world.simplybook.callback(self.demo.login, booking_id, kind)
        webhook = PublicUrls(self.url).simplybook_callback(self.demo.webhook_token)
        httpx.post(webhook, json=callback, timeout=10).raise_for_status()

    def slack_message(self, *saying: str, timeout: float = 20.0) -> str:
        """The provider's Slack message that says all of `saying`, as text ("" if none came)."""

        def found() -> str:
            texts = (message_as_text(m) for m in self.world.slack.messages(self.demo.channel_id))
            return next((text for text in texts if all(words in text for words in saying)), "")

        return str(wait_for(found, timeout=timeout))

    def teams_card(self, *, saying: str) -> str:
        def found() -> str:
            posts = self.teams.sim.activities(self.teams.channel)
            texts = (self._as_admin_reads(post) for post in posts)
            return next((text for text in texts if saying in text), "")

        return str(wait_for(found))

    def _as_admin_reads(self, post: dict[str, Any]) -> str:
        """The card's texts with {{DATE()}} and {{TIME()}} in the admin's zone, as Teams shows them,
        then its buttons."""
        texts = unescape(self.teams.sim.read_by(self.teams.admin, post)).splitlines()
        cards = activity_cards(post["activity"])
        buttons = [
            line for card in cards for line in card_text(card).splitlines() if line[:1] == "["
        ]
        return "\n".join(texts + buttons)


def _links(text: str, *paths: str) -> list[str]:
    return [link for link in _LINK.findall(text) if any(path in link for path in paths)]


def _first_client_and_host(text: str) -> list[str]:
    """The message's client link, then its host link."""
    return [*_links(text, CLIENT_PATH)[:1], *_links(text, HOST_PATH)[:1]]


def _single(tour: Tour, client: str, starts_in: timedelta, **extra: Any) -> str:
    """A one-to-one booking with Olena, delivered; the provider's message about it."""
    booking = book(tour.world, tour.demo, client_name=client, starts_in=starts_in, **extra)
    tour.callback(booking["id"], "create")
    return tour.slack_message(f"Client: {client}")


def today(tour: Tour) -> list[str]:
    text = _single(tour, "Iryna Shevchenko", timedelta(minutes=5))
    print("    The provider's Slack channel #olena-bookings received:\n")
    print("        " + text.replace("\n", "\n        ") + "\n")
    return _first_client_and_host(text)


def countdown(tour: Tour) -> list[str]:
    text = _single(tour, "Mykola Hrytsenko", timedelta(hours=1))
    return _links(text, CLIENT_PATH)[:1]


def payment_pending(tour: Tour) -> list[str]:
    text = _single(tour, "Sofia Melnyk", timedelta(hours=2), payment_status="not_paid")
    return _links(text, CLIENT_PATH)[:1]


def cancelled(tour: Tour) -> list[str]:
    client = "Petro Lysenko"
    booking = book(tour.world, tour.demo, client_name=client, starts_in=timedelta(hours=3))
    tour.callback(booking["id"], "create")
    link = _links(tour.slack_message(f"Client: {client}"), CLIENT_PATH)[:1]
    tour.world.simplybook.update_booking(tour.demo.login, booking["id"], status="cancelled")
    tour.callback(booking["id"], "cancel")
    wait_for(lambda: _cancelled_shown(tour, client))
    return link


def _cancelled_shown(tour: Tour, client: str) -> bool:
    text = tour.slack_message(f"Client: {client}", timeout=0)
    return "cancelled" in text.lower() and CLIENT_PATH not in text


def group_class(tour: Tour) -> list[str]:
    add_class_service(tour.core, tour.world, tour.demo)
    zone = ZoneInfo(tour.core.companies.company(company_id=tour.demo.company_id).timezone)
    start = (datetime.now(zone) + timedelta(minutes=8)).replace(second=0, microsecond=0)
    clients = ("Anna", "Bohdan")
    for client in clients:
        tour.callback(book_seat(tour.world, tour.demo, start, client)["id"], "create")
    text = tour.slack_message(*clients)  # the class's one message, once it lists both seats
    return _links(text, CLIENT_PATH)[: len(clients)]


def teams(tour: Tour) -> list[str]:
    client = "Oksana Tkachenko"
    zone = ZoneInfo(tour.core.companies.company(company_id=tour.demo.company_id).timezone)
    start = (datetime.now(zone) + timedelta(minutes=5)).replace(second=0, microsecond=0)
    booking = tour.world.simplybook.add_booking(
        tour.demo.login,
        service_id=tour.demo.service_id,
        provider_id=TEAMS_PROVIDER_ID,
        client_name=client,
        client_email="oksana@example.test",
        start=f"{start:%Y-%m-%d %H:%M:%S}",
        end=f"{start + timedelta(hours=1):%Y-%m-%d %H:%M:%S}",
    )
    tour.callback(booking["id"], "create")
    text = tour.teams_card(saying=client)
    print(f"    The Teams channel #{TEAMS_CHANNEL} received this card:\n")
    print("        " + text.replace("\n", "\n        ") + "\n")
    return _first_client_and_host(text)


def generic_webhook(tour: Tour) -> list[str]:
    demo = tour.demo
    event, status = add_generic_source_booking(
        tour.core,
        company_id=demo.company_id,
        service_id=demo.service_id,
        provider_id=demo.provider_id,
        meetbot_url=tour.url,
    )
    client = event["data"]["client"]["name"]
    print(f"    A signed booking.created for {client}: the booking webhook answered HTTP {status}.")
    return _first_client_and_host(tour.slack_message(f"Client: {client}"))


@dataclass(frozen=True)
class DemoBooking:
    name: str  # printed in brackets: what the tests and a reader look for
    title: str
    shows: str  # one line: what opening its links shows
    make: Callable[[Tour], list[str]]  # makes it through the webhook; the links to open


DEMO_BOOKINGS: list[DemoBooking] = [
    DemoBooking(
        "today",
        "Iryna's consultation with Olena, in 5 minutes (Zoom, Slack)",
        "the client's link opens the simulated Zoom meeting already; the provider's link opens "
        "it as host",
        today,
    ),
    DemoBooking(
        "countdown",
        "Mykola's consultation, an hour away",
        "the client's page: which meeting, its time in your own zone and language, a countdown, "
        "Add to calendar",
        countdown,
    ),
    DemoBooking(
        "payment-pending",
        "Sofia's consultation, not paid yet",
        "the client's page says payment is pending, with the time and the business to contact",
        payment_pending,
    ),
    DemoBooking(
        "cancelled",
        "Petro's consultation, booked and then cancelled",
        "the client's page says it was cancelled and whom to contact; the provider's message "
        "says so too",
        cancelled,
    ),
    DemoBooking(
        "class",
        "Group yoga in 8 minutes, two clients (Zoom registration)",
        "each client's own link into the one class meeting",
        group_class,
    ),
    DemoBooking(
        "teams",
        "Oksana's consultation with Taras, in 5 minutes (Microsoft Teams chat and meeting)",
        "the card's client link opens the simulated Teams meeting; its host link too",
        teams,
    ),
    DemoBooking(
        "webhook",
        "A consultation with Olena booked on another booking system, in 30 minutes (signed webhook)",
        "the same message and links as a SimplyBook.me booking: the core sees a booking, not its "
        "source (`meetbot webhook example` prints such a request)",
        generic_webhook,
    ),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _with_admin(core: Core, world: SandboxWorld, demo: Demo) -> None:
    """The studio's owner, an admin in Slack: admin notices (the daily digest) reach them."""
    world.slack.add_user(demo.team_id, id=SLACK_ADMIN, name="owner", is_admin=True)
    owner = Actor(ChatPlatform.SLACK, demo.team_id, SLACK_ADMIN)
    core.staff.set_role(company_id=demo.company_id, actor=owner, user_id=SLACK_ADMIN, role="admin")


@contextlib.contextmanager
def sandbox_running(*, port: int) -> Iterator[Tour]:
    """The simulators, meetbot on `port` (0: any free one) with its worker, and the demo studio
    set up in Slack and Teams; stopped on leaving. Raises OSError when the port is busy."""
    from app.logs import configure_logging

    port = port or _free_port()
    with (
        tempfile.TemporaryDirectory(prefix="meetbot-sandbox-") as folder,
        simulators_running() as world,
        teams_running(world) as teams_demo,
    ):
        settings = world.settings(
            database_url=f"sqlite:///{folder}/sandbox.db",
            public_url=f"http://127.0.0.1:{port}",
            **teams_demo.settings(),
        )
        configure_logging("WARNING", settings.secret_values())
        core = build_core(settings)
        core.migrate()
        demo = seed_demo(core, world)
        _with_admin(core, world, demo)
        seed_teams_provider(core, world, demo, teams_demo)
        asyncio.run(connect_microsoft(core, world, demo, teams_demo))
        with BackgroundServer(
            build_web_app(core, worker=WorkerThread(core)), port=port, name="meetbot"
        ) as server:
            install_in_team(teams_demo, server.url)
            yield Tour(core, world, demo, server.url, teams_demo)


def run_sandbox(*, port: int, keep_serving: bool) -> int:
    try:
        with sandbox_running(port=port) as visit:
            return show_tour(visit, keep_serving)
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        print(f"Port {port} is busy. Try: meetbot sandbox --port 0")
        return 1


def show_tour(visit: Tour, keep_serving: bool) -> int:
    world, url = visit.world, visit.url
    print(f"meetbot sandbox: web app on {url}")
    print(
        f"simulated SimplyBook.me {world.url('simplybook')}, Zoom {world.url('zoom')}, "
        f"Slack {world.url('slack')}, Microsoft Teams {visit.teams.sim.url} "
        f"and Graph {world.url('microsoft_graph')}\n"
    )
    shown: dict[str, list[str]] = {}
    for number, booking in enumerate(DEMO_BOOKINGS, start=1):
        print(f"{number}. [{booking.name}] {booking.title}")
        links = booking.make(visit)
        if not links:
            print("    Nothing reached the provider's channel within 20 s: see the log above.")
            return 1
        shown[booking.name] = links
        for link in links:
            print(f"    {link}")
        print(f"    ↳ {booking.shows}\n")
    _try_next(url, shown, keep_serving)
    if keep_serving:
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


def _try_next(url: str, shown: dict[str, list[str]], keep_serving: bool) -> None:
    print("Try next:")
    if "countdown" in shown:
        print(
            f"  - open the countdown link, then its calendar file: {shown['countdown'][0]}/calendar.ics"
        )
        print("  - open it again with another browser language (en-GB, uk-UA) or time zone")
    print(f"  - read what meetbot is at {url}/ (with {url}/privacy and {url}/terms)")
    print("  - change the demo in app/sandbox_tour.py (DEMO_BOOKINGS) and run it again")
    if keep_serving:
        print("\nThe links work while this runs. Press Ctrl+C to stop.")
