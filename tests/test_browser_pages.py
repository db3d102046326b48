"""Clients' link pages in a real browser: headless Chromium (Debian's package) driven by Playwright.

The waiting page shows the start in the browser's own time zone, counts down and opens the meeting
by itself when the link opens; the payment-pending and cancelled pages say so and never carry the
meeting's URL. Screenshots of the three pages are kept in `test-artifacts/screenshots/` (the folder
above `screenshots/` can be moved with MEETBOT_ARTIFACTS_DIR).

Without a browser (or without the playwright package) the tests skip with the reason; with CI set
they fail instead: `.ci/run` installs Debian's chromium. The browser is found at /usr/bin/chromium
or at MEETBOT_CHROMIUM. Playwright's async API runs under `asyncio.run`, so no event loop outlives
a test.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import icalendar
import pytest

from app.bootstrap import Core
from app.sandbox import Demo, SandboxWorld, message_as_text, seed_demo
from app.web import build_web_app
from simulators.server import BackgroundServer

from .conftest import free_port, run_jobs
from .harness import SQLITE_ONLY, deliver

if TYPE_CHECKING:
    from playwright.async_api import Page

pytestmark = [
    pytest.mark.slow,
    SQLITE_ONLY,  # a browser test over both databases would double its time for nothing
]

DEFAULT_CHROMIUM = "/usr/bin/chromium"
COMPANY_ZONE = "Europe/Kyiv"
BROWSER_ZONE = "America/New_York"  # neither UTC nor the company's zone, so a wrong zone shows
LEAD = timedelta(seconds=8)  # the link opens this long after the booking is made
NAVIGATION_TIMEOUT_MS = 30_000
HOUR = timedelta(hours=1)  # every booking here lasts an hour
DETAILS = ("business", "service", "provider")
SHOWN_DETAILS = ["Demo Yoga Studio", "Online yoga consultation", "Olena Koval"]  # seed_demo's


@pytest.fixture(scope="module")
def chromium() -> str:
    """The browser to drive; skips (fails in CI) with the reason when it cannot run."""
    wanted = os.environ.get("MEETBOT_CHROMIUM") or DEFAULT_CHROMIUM
    problem = None
    try:
        import playwright.async_api  # noqa: F401
    except ImportError as error:
        problem = f"playwright is not installed ({error}): pip install -e '.[dev]'"
    found = shutil.which(wanted)
    if problem is None and found is None:
        problem = (
            f"no Chromium at {wanted}: install Debian's package (apt-get install chromium) "
            "or point MEETBOT_CHROMIUM at a Chromium binary"
        )
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"the browser test must run in CI: {problem}")
        pytest.skip(problem)
    assert found is not None
    return found


def screenshot_path(name: str) -> Path:
    root = os.environ.get("MEETBOT_ARTIFACTS_DIR") or Path(__file__).parents[1] / "test-artifacts"
    folder = Path(root) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.png"


@dataclass
class Site:
    core: Core
    world: SandboxWorld
    demo: Demo
    url: str


@pytest.fixture
def site(make_core: Callable[..., Core], world: SandboxWorld) -> Iterator[Site]:
    """meetbot over real HTTP at its own public URL, so the links in Slack open as they are."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    core = make_core(public_url=url)
    demo = seed_demo(core, world, timezone=COMPANY_ZONE)
    with BackgroundServer(build_web_app(core), port=port, name="meetbot"):
        yield Site(core, world, demo, url)


def book_at(site: Site, start: datetime, **extra: Any) -> tuple[str, str]:
    """A booking starting at `start` (to the second), synced: its id and the client's link."""
    local = start.astimezone(ZoneInfo(COMPANY_ZONE))
    booking = site.world.simplybook.add_booking(
        site.demo.login,
        service_id=site.demo.service_id,
        provider_id=site.demo.provider_id,
        client_name="Iryna Shevchenko",
        client_email="client@example.test",
        start=f"{local:%Y-%m-%d %H:%M:%S}",
        end=f"{local + timedelta(hours=1):%Y-%m-%d %H:%M:%S}",
        **extra,
    )
    deliver(site.url, site.world, site.demo, booking["id"], "create")
    run_jobs(site.core)
    [message] = site.world.slack.messages(site.demo.channel_id)
    link = next(word for word in message_as_text(message).split() if "/m/" in word)
    assert link.startswith(f"{site.url}/m/")
    return booking["id"], link


def in_browser(
    chromium: str,
    scenario: Callable[[Page], Awaitable[None]],
    *,
    locale: str = "en-US",
    zone: str = BROWSER_ZONE,
) -> None:
    """Runs `scenario` on a fresh page in the browser's zone and locale; the browser is closed.
    A script error, or a script or style the Content-Security-Policy refused, fails the test."""
    from playwright.async_api import async_playwright

    async def main() -> None:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=chromium)
            try:
                context = await browser.new_context(
                    timezone_id=zone, locale=locale, viewport={"width": 1024, "height": 720}
                )
                page = await context.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda error: errors.append(str(error)))
                page.on("console", lambda m: errors.append(m.text) if "Refused" in m.text else None)
                await scenario(page)
                assert errors == [], errors
            finally:
                await browser.close()

    asyncio.run(main())


MONTHS_UK = "січня лютого березня квітня травня червня липня серпня вересня жовтня листопада грудня"


def _us_clock(moment: datetime) -> str:
    return f"{moment.hour % 12 or 12}:{moment:%M} {moment:%p}"


def expected_when(locale: str, zone: str, start: datetime, end: datetime) -> list[str]:
    """What Chromium shows for the meeting's time, in order: the date in the locale's own order,
    the time range on the locale's clock, and the zone's name (never its id)."""
    first, last = start.astimezone(ZoneInfo(zone)), end.astimezone(ZoneInfo(zone))
    summer = bool(first.dst())
    if locale == "uk-UA":
        month = MONTHS_UK.split()[first.month - 1]
        season = "літнім" if summer else "стандартним"
        return [
            f"{first.day} {month} {first.year} р.",
            f"{first:%H:%M} – {last:%H:%M}",
            f"(за східноєвропейським {season} часом)",
        ]
    if locale == "en-GB":
        zone_name = {"Europe/London": ("Greenwich Mean Time", "British Summer Time")}[zone]
        return [
            f"{first:%A}, {first.day} {first:%B} {first.year}",
            f"{first:%H:%M} – {last:%H:%M}",
            f"({zone_name[summer]})",
        ]
    zone_name = {
        "America/New_York": ("Eastern Standard Time", "Eastern Daylight Time"),
        "Asia/Calcutta": ("India Standard Time", "India Standard Time"),
    }[zone]
    return [
        f"{first:%A}, {first:%B} {first.day}, {first.year}",
        f"{_us_clock(first)} – {_us_clock(last)}",
        f"({zone_name[summer]})",
    ]


def in_order(text: str, fragments: list[str]) -> bool:
    at = 0
    for fragment in fragments:
        found = text.find(fragment, at)
        if found < 0:
            return False
        at = found + len(fragment)
    return True


def plain(text: str) -> str:
    """ICU puts narrow, thin and no-break spaces in dates; compare them as spaces."""
    return re.sub(r"[\u00a0\u202f\u2009]", " ", text).strip()


def seconds(countdown: str) -> int:
    hours, minutes, secs = (int(part) for part in countdown.split(":"))
    return hours * 3600 + minutes * 60 + secs


def test_waiting_page_counts_down_in_the_browser_zone_and_opens_the_meeting(
    chromium: str, site: Site
) -> None:
    company = site.core.companies.company(company_id=site.demo.company_id)
    opens_before = timedelta(minutes=company.open_minutes_before)  # 10 unless changed
    seen: dict[str, Any] = {}

    async def scenario(page: Page) -> None:
        # Booked once the browser is up, so its start-up time does not eat into the lead.
        start = (datetime.now(UTC) + opens_before + LEAD).replace(microsecond=0)
        _, link = await asyncio.to_thread(book_at, site, start)
        [meeting] = site.world.zoom.live_meetings()
        join_url = meeting["join_url"]
        seen.update(start=start, opens=start - opens_before, join_url=join_url)

        answers: list[tuple[str, int]] = seen.setdefault("answers", [])
        page.on("response", lambda response: answers.append((response.url, response.status)))
        response = await page.goto(link)
        assert response is not None and response.status == 200
        assert await page.locator("h1").inner_text() == "Your meeting has not started yet"
        assert await page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == (
            BROWSER_ZONE
        )
        seen["when"] = plain(await page.locator("#when").inner_text())
        seen["details"] = [await page.locator(f"#{name}").inner_text() for name in DETAILS]

        countdown = page.locator("#countdown")
        first = await countdown.inner_text()
        await page.wait_for_function(
            "(before) => document.getElementById('countdown').textContent !== before",
            arg=first,
            timeout=3_000,
        )
        second = await countdown.inner_text()
        seen["countdown"] = (first, second)
        assert "zoom" not in (await page.content()).lower() and join_url not in await page.content()
        await page.screenshot(path=screenshot_path("waiting"), full_page=True)

        await page.wait_for_url(lambda url: url == join_url, timeout=NAVIGATION_TIMEOUT_MS)
        seen["arrived"] = datetime.now(UTC)
        seen["arrived_heading"] = await page.locator("h1").inner_text()

    began = time.monotonic()
    in_browser(chromium, scenario)

    when = expected_when("en-US", BROWSER_ZONE, seen["start"], seen["start"] + timedelta(hours=1))
    assert in_order(seen["when"], when), seen["when"]
    assert seen["details"] == SHOWN_DETAILS
    first, second = seen["countdown"]
    assert re.fullmatch(r"\d\d:\d\d:\d\d", first) and re.fullmatch(r"\d\d:\d\d:\d\d", second)
    assert 0 < seconds(second) < seconds(first) <= LEAD.total_seconds() + 1
    assert seen["arrived"] >= seen["opens"], "not let in before the opening time"
    assert seen["arrived"] - seen["opens"] < timedelta(seconds=5)
    assert seen["arrived_heading"] == "Joined (simulated)"  # the Zoom simulator's join page
    # The page reloaded itself and meetbot sent it on: waiting (200), then a redirect (303).
    assert [status for url, status in seen["answers"] if "/m/" in url] == [200, 303]
    assert time.monotonic() - began < 30


def _open_and_keep(chromium: str, link: str, name: str) -> dict[str, Any]:
    """Opens `link`, saves a full-page screenshot as `name` and reads what a client sees."""
    seen: dict[str, Any] = {}

    async def scenario(page: Page) -> None:
        response = await page.goto(link)
        assert response is not None
        seen["status"] = response.status
        seen["url"] = page.url
        seen["heading"] = await page.locator("h1").inner_text()
        seen["text"] = await page.locator("main").inner_text()
        seen["html"] = await page.content()
        seen["countdowns"] = await page.locator("#countdown").count()
        seen["links"] = [
            await link.get_attribute("href") for link in await page.locator("a[href]").all()
        ]
        seen["details"] = [await page.locator(f"#{name}").inner_text() for name in DETAILS]
        seen["when"] = plain(await page.locator("#when").inner_text())
        seen["contact"] = await page.locator("#contact").inner_text()
        await page.screenshot(path=screenshot_path(name), full_page=True)

    in_browser(chromium, scenario)
    return seen


def test_payment_pending_page(chromium: str, site: Site) -> None:
    start = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    _, link = book_at(site, start, payment_status="not_paid")
    [meeting] = site.world.zoom.live_meetings()

    seen = _open_and_keep(chromium, link, "payment-pending")

    assert seen["status"] == 200 and seen["url"] == link
    assert seen["heading"] == "Payment pending"
    assert "will work as soon as the booking is paid" in seen["text"]
    assert meeting["join_url"] not in seen["html"] and site.world.url("zoom") not in seen["html"]
    assert "zoom" not in seen["html"].lower()
    assert seen["links"] == [f"/m/{link.rsplit('/', 1)[1]}/calendar.ics"]  # paying comes first
    assert seen["countdowns"] == 0
    assert seen["details"] == SHOWN_DETAILS
    assert in_order(seen["when"], expected_when("en-US", BROWSER_ZONE, start, start + HOUR))
    assert seen["contact"] == "Questions about this booking? Please contact Demo Yoga Studio."


def test_cancelled_page(chromium: str, site: Site) -> None:
    start = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    booking_id, link = book_at(site, start)
    [meeting] = site.world.zoom.live_meetings()
    site.world.simplybook.update_booking(site.demo.login, booking_id, status="cancelled")
    deliver(site.url, site.world, site.demo, booking_id, "cancel")
    run_jobs(site.core)
    assert site.world.zoom.live_meetings() == []

    seen = _open_and_keep(chromium, link, "cancelled")

    assert seen["status"] == 410 and seen["url"] == link
    assert seen["heading"] == "This meeting was cancelled"
    assert "the meeting is no longer available" in seen["text"]
    assert meeting["join_url"] not in seen["html"] and site.world.url("zoom") not in seen["html"]
    assert "zoom" not in seen["html"].lower() and seen["links"] == []
    assert seen["countdowns"] == 0
    assert seen["details"] == SHOWN_DETAILS
    assert in_order(seen["when"], expected_when("en-US", BROWSER_ZONE, start, start + HOUR))
    assert seen["contact"] == "Questions about this booking? Please contact Demo Yoga Studio."


# The waiting page in the visitor's own locale and zone, and its calendar file.

LOCALES = [
    # (browser locale, browser zone, days until the opening, and how the countdown says them)
    ("en-GB", "Europe/London", 1, "1 day"),
    ("uk-UA", "Europe/Kiev", 1, "1 день"),  # Chromium still reports the legacy alias of Kyiv
    ("en-US", "Asia/Calcutta", 1, "1 day"),  # ... and of Asia/Kolkata
    ("uk-UA", "Europe/Kyiv", 2, "2 дні"),  # Ukrainian's "few" form
]


@pytest.mark.parametrize(("locale", "zone", "days", "said"), LOCALES)
def test_waiting_page_in_the_visitors_locale_with_a_calendar_file(
    chromium: str, site: Site, locale: str, zone: str, days: int, said: str
) -> None:
    start = (datetime.now(UTC) + timedelta(days=days, hours=3)).replace(second=0, microsecond=0)
    _, link = book_at(site, start)
    [meeting] = site.world.zoom.live_meetings()
    seen: dict[str, Any] = {}

    async def scenario(page: Page) -> None:
        response = await page.goto(link)
        assert response is not None and response.status == 200
        seen["details"] = [await page.locator(f"#{name}").inner_text() for name in DETAILS]
        seen["when"] = plain(await page.locator("#when").inner_text())
        seen["countdown"] = plain(await page.locator("#countdown").inner_text())
        seen["text"] = await page.locator("main").inner_text()
        await page.screenshot(path=screenshot_path(f"waiting-{locale}-{days}d"), full_page=True)
        async with page.expect_download() as started:
            await page.locator("#calendar").click()
        download = await started.value
        seen["filename"] = download.suggested_filename
        saved = await download.path()
        seen["ics"] = await asyncio.to_thread(saved.read_bytes)

    in_browser(chromium, scenario, locale=locale, zone=zone)

    assert seen["details"] == SHOWN_DETAILS
    assert in_order(seen["when"], expected_when(locale, zone, start, start + HOUR)), seen["when"]
    assert zone.split("/")[1] not in seen["text"] and "/" not in seen["when"]
    assert re.fullmatch(rf"{said} \d\d:\d\d:\d\d", seen["countdown"]), seen["countdown"]
    [event] = icalendar.Calendar.from_ical(seen["ics"]).walk("VEVENT")
    assert seen["filename"] == "meeting.ics"
    assert event.decoded("dtstart") == start and event.decoded("dtend") == start + HOUR
    assert event.decoded("dtstart").utcoffset() == timedelta(0)
    assert str(event["url"]) == link and link in str(event["description"])
    text = seen["ics"].decode()
    assert meeting["join_url"] not in text and "Iryna" not in text and "client@" not in text
