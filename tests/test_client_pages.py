"""meetbot's pages over HTTP (the browser tests look at what they show): every page carries the
security headers, a client's link offers its meeting as an .ics file while the meeting is ahead,
and `/`, `/privacy` and `/terms` answer, as the Teams manifest's links promise."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import httpx
import icalendar
import pytest

from adapters.teams.manifest import build_manifest
from app.bootstrap import Core
from app.sandbox import Demo, SandboxWorld, book, message_as_text

from .conftest import run_jobs
from .harness import deliver

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def _client_link(core: Core, demo: Demo, world: SandboxWorld, web: str) -> tuple[str, str]:
    """A booking two hours away, synced: its id and the client's link (at the test's server)."""
    booking = book(world, demo, starts_in=timedelta(hours=2))
    deliver(web, world, demo, booking["id"], "create")
    run_jobs(core)
    [message] = world.slack.messages(demo.channel_id)
    link = next(word for word in message_as_text(message).split() if "/m/" in word)
    return booking["id"], link.replace("http://meetbot.test", web)


def assert_secured(answer: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers[name] == value, name
    policy = answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


@pytest.mark.parametrize(
    "path", ["/", "/privacy", "/terms", "/static/page.css", "/m/unknown-token"]
)
def test_every_page_is_secured(web: str, path: str) -> None:
    answer = httpx.get(f"{web}{path}")
    assert answer.status_code == (404 if path.startswith("/m/") else 200)
    assert_secured(answer)


def test_home_page_says_what_meetbot_is_and_links_privacy_and_terms(web: str) -> None:
    answer = httpx.get(f"{web}/")
    assert answer.headers["content-type"].startswith("text/html")
    assert "<h1>meetbot: online meetings for bookings</h1>" in answer.text
    assert 'href="/privacy"' in answer.text and 'href="/terms"' in answer.text
    assert "<script" not in answer.text and "style=" not in answer.text


def test_the_teams_manifests_privacy_and_terms_links_answer(web: str) -> None:
    developer = build_manifest(app_id="00000000-0000-0000-0000-000000000001", public_url=web)[
        "developer"
    ]
    for key, heading in (("privacyUrl", "<h1>Privacy</h1>"), ("termsOfUseUrl", "<h1>Terms")):
        answer = httpx.get(developer[key])
        assert answer.status_code == 200 and heading in answer.text, key


def test_the_pages_script_and_style_are_meetbots_own_files(web: str) -> None:
    script = httpx.get(f"{web}/static/meeting.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "Intl.PluralRules" in script.text
    assert httpx.get(f"{web}/static/../routes.py").status_code == 404


def test_a_waiting_link_carries_headers_and_the_meeting_as_a_calendar_file(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    _, link = _client_link(core, demo, world, web)
    page = httpx.get(link)
    assert page.status_code == 200 and 'id="calendar"' in page.text
    assert "<script>" not in page.text and "<style>" not in page.text  # all external, per the CSP
    assert_secured(page)

    answer = httpx.get(f"{link}/calendar.ics")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
    assert answer.headers["content-disposition"] == 'attachment; filename="meeting.ics"'
    assert_secured(answer)
    [event] = icalendar.Calendar.from_ical(answer.content).walk("VEVENT")
    [meeting] = world.zoom.live_meetings()
    starts = datetime.strptime(meeting["start_time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert event.decoded("dtstart") == starts
    assert event.decoded("dtend") == starts + timedelta(minutes=60)
    assert str(event["url"]) == link.replace(web, "http://meetbot.test")
    assert str(event["summary"]) == "Online yoga consultation — Olena Koval (Demo Yoga Studio)"
    assert meeting["join_url"] not in answer.text and "Iryna" not in answer.text
    [again] = icalendar.Calendar.from_ical(httpx.get(f"{link}/calendar.ics").content).walk("VEVENT")
    token = link.rsplit("/", 1)[1]
    assert str(again["uid"]) == str(event["uid"]), "importing it again updates the same event"
    assert hashlib.sha256(token.encode()).hexdigest()[:32] not in str(event["uid"])


def test_a_cancelled_or_unknown_link_has_no_calendar_file(
    core: Core, demo: Demo, world: SandboxWorld, web: str
) -> None:
    booking_id, link = _client_link(core, demo, world, web)
    world.simplybook.update_booking(demo.login, booking_id, status="cancelled")
    deliver(web, world, demo, booking_id, "cancel")
    run_jobs(core)

    cancelled = httpx.get(f"{link}/calendar.ics")
    assert cancelled.status_code == 410 and "This meeting was cancelled" in cancelled.text
    assert 'id="calendar"' not in httpx.get(link).text
    unknown = httpx.get(f"{web}/m/{'A' * 43}/calendar.ics")
    assert unknown.status_code == 404 and "Link not found" in unknown.text
    assert httpx.get(f"{web}/m/bad.token/calendar.ics").status_code == 404
