"""`meetbot sandbox` shows every screen it promises: it prints a link for today's booking, the
countdown, payment-pending, cancelled and class pages and the Teams card, with a line on what each
shows, and every link answers as printed while the sandbox runs."""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator

import httpx
import pytest

from app.sandbox_tour import DEMO_BOOKINGS, Tour, sandbox_running, show_tour

pytestmark = pytest.mark.slow  # one whole sandbox: simulators, meetbot, Teams sign-in

SECTION = re.compile(r"^\d+\. \[([\w-]+)\] ", re.MULTILINE)
LINK = re.compile(r"^    (http://127\.0\.0\.1:\d+/[mh]/[\w-]+)$", re.MULTILINE)


@pytest.fixture(scope="module")
def printed() -> Iterator[tuple[Tour, dict[str, list[str]], str]]:
    """The tour, run once for the module: what it printed, with the links of each section."""
    out = io.StringIO()
    with sandbox_running(port=0) as visit:
        with contextlib.redirect_stdout(out):
            assert show_tour(visit, keep_serving=False) == 0
        text = out.getvalue()
        parts = SECTION.split(text)[1:]
        sections = {
            name: LINK.findall(body) for name, body in zip(parts[::2], parts[1::2], strict=True)
        }
        yield visit, sections, text


def _page(link: str) -> httpx.Response:
    return httpx.get(link, follow_redirects=False, timeout=10)


def _heading(answer: httpx.Response) -> str:
    found = re.search(r"<h1>(.*?)</h1>", answer.text)
    return found.group(1) if found else ""


def test_every_demo_booking_is_printed_with_its_links_and_what_they_show(
    printed: tuple[Tour, dict[str, list[str]], str],
) -> None:
    _, sections, text = printed
    assert list(sections) == [booking.name for booking in DEMO_BOOKINGS]
    assert {"countdown", "payment-pending", "cancelled", "class", "teams"} <= set(sections)
    for booking in DEMO_BOOKINGS:
        assert sections[booking.name], f"no link printed for {booking.name}"
        assert f"↳ {booking.shows}" in text
    assert "Try next:" in text and "/calendar.ics" in text
    assert "WARNING" not in text and "ERROR" not in text


def test_the_client_pages_answer_as_printed(
    printed: tuple[Tour, dict[str, list[str]], str],
) -> None:
    _, sections, _ = printed
    [countdown] = sections["countdown"]
    waiting = _page(countdown)
    assert waiting.status_code == 200 and _heading(waiting) == "Your meeting has not started yet"
    assert 'id="countdown"' in waiting.text and 'id="calendar"' in waiting.text
    assert _page(f"{countdown}/calendar.ics").headers["content-type"].startswith("text/calendar")

    [unpaid] = sections["payment-pending"]
    pending = _page(unpaid)
    assert pending.status_code == 200 and _heading(pending) == "Payment pending"
    assert "Please contact Demo Yoga Studio" in pending.text

    [gone] = sections["cancelled"]
    cancelled = _page(gone)
    assert cancelled.status_code == 410 and _heading(cancelled) == "This meeting was cancelled"
    assert "Please contact Demo Yoga Studio" in cancelled.text


def test_the_meeting_links_open_the_platforms_as_printed(
    printed: tuple[Tour, dict[str, list[str]], str],
) -> None:
    visit, sections, _ = printed
    zoom = visit.world.url("zoom")
    client, host = sections["today"]
    assert _page(client).headers["location"].startswith(zoom)
    assert _page(host).headers["location"].startswith(zoom)

    seats = [_page(link) for link in sections["class"]]
    assert len(seats) == 2 and all(seat.status_code == 303 for seat in seats)
    assert len({seat.headers["location"] for seat in seats}) == 2, "each client's own join URL"

    client, host = sections["teams"]
    assert visit.teams.owner is not None
    [meeting] = visit.world.microsoft.meetings_of(visit.teams.owner)
    assert _page(client).headers["location"] == meeting["joinWebUrl"]
    assert _page(host).headers["location"] == meeting["joinWebUrl"]
