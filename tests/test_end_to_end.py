"""The walking skeleton over real HTTP: webhook → SimplyBook details → Zoom meeting → Slack message,
then the client's and the provider's links, as `meetbot serve` runs it (web app + in-process worker)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.bootstrap import Core
from app.sandbox import Demo, SandboxWorld, book, message_as_text, wait_for
from app.web import build_web_app
from app.worker import WorkerThread
from simulators.server import BackgroundServer
from storage.tables import MeetingRow, SeatRow
from storage.tokens import client_token, host_token

from .conftest import count_rows, run_jobs


@pytest.fixture
def served(core: Core) -> Iterator[str]:
    with BackgroundServer(build_web_app(core, worker=WorkerThread(core)), name="meetbot") as server:
        yield server.url


def _links(message: dict[str, object]) -> tuple[str, str]:
    text = message_as_text(message)  # type: ignore[arg-type]
    client = re.search(r"(http://meetbot\.test/m/[A-Za-z0-9_-]+)", text)
    host = re.search(r"(http://meetbot\.test/h/[A-Za-z0-9_-]+)", text)
    assert client and host, text
    return client.group(1), host.group(1)


def test_booking_becomes_meeting_and_message(
    core: Core, demo: Demo, world: SandboxWorld, served: str
) -> None:
    booking = book(world, demo, client_name="Iryna Shevchenko")
    callback = world.simplybook.callback(demo.login, booking["id"], "create")

    answer = httpx.post(f"{served}/webhooks/simplybook/{demo.webhook_token}", json=callback)

    assert answer.status_code == 202
    messages = wait_for(lambda: world.slack.messages(demo.channel_id))
    assert len(messages) == 1
    [meeting] = world.zoom.live_meetings(demo.zoom_user_id)
    assert meeting["topic"] == "Online yoga consultation – Iryna Shevchenko"
    assert meeting["duration"] == 60
    text = message_as_text(messages[0])
    assert "Iryna Shevchenko" in text and "Olena Koval" in text and "(Europe/Kyiv)" in text
    assert messages[0]["metadata"]["event_type"] == "meetbot_message"
    assert world.simplybook.calls("getBookingDetails") == 1

    client_link, host_link = _links(messages[0])
    public = client_link.rsplit("/m/", 1)[0]
    opened = httpx.get(client_link.replace(public, served))
    assert opened.status_code == 303
    assert opened.headers["location"] == meeting["join_url"]
    assert opened.headers["cache-control"] == "no-store"

    first = httpx.get(host_link.replace(public, served))
    second = httpx.get(host_link.replace(public, served))
    assert first.status_code == second.status_code == 303
    zak_1 = parse_qs(urlsplit(first.headers["location"]).query)["zak"][0]
    zak_2 = parse_qs(urlsplit(second.headers["location"]).query)["zak"][0]
    assert zak_1 != zak_2, "the host URL must be fetched fresh on every click"
    assert world.zoom.count("GET", rf"^/v2/meetings/{meeting['id']}$") == 2
    started = httpx.get(first.headers["location"])  # the simulated Zoom accepts the fresh start URL
    assert started.status_code == 200
    assert count_rows(core, MeetingRow) == 1


def test_unknown_links_get_a_friendly_404(core: Core, served: str) -> None:
    for path in ("/m/no-such-token", "/h/no-such-token"):
        page = httpx.get(f"{served}{path}")
        assert page.status_code == 404
        assert "Link not found" in page.text
        assert "no-such-token" not in page.text


def test_link_before_the_meeting_exists_says_it_is_being_prepared(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    world.zoom.faults.fail(method="POST", path=r"/meetings$", status=500, times=None)
    booking = book(world, demo)
    httpx.post(
        f"{web}/webhooks/simplybook/{demo.webhook_token}",
        json=world.simplybook.callback(demo.login, booking["id"]),
    )
    run_jobs(core)

    with Session(core.engine) as session:
        meeting = session.scalars(select(MeetingRow)).one()
        seat = session.scalars(select(SeatRow)).one()
    assert meeting.state == "creating"
    page = httpx.get(f"{web}/m/{client_token(core.box, seat)}")
    assert page.status_code == 200 and "being prepared" in page.text
    host = httpx.get(f"{web}/h/{host_token(core.box, meeting)}")
    assert host.status_code == 200 and "being prepared" in host.text
