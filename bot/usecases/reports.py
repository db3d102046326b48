"""The online-meetings report (S15) and the admins' daily digest, as pure functions of rows.

Fetching and sending live in the callers; what is counted and how it reads is decided here.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain import Alert, BookingStatus, MeetingState, PaymentState, ReportRow
from bot.messages import ChatMessage, Fact, Text
from bot.urls import PublicUrls

STATUSES = ("scheduled", "started", "cancelled", "awaiting payment", "failed")
MAX_DAYS = 366
CSV_COLUMNS = ("time", "service", "provider", "client", "status", "client link", "provider link")
# A spreadsheet runs a cell starting with one of =+-@, tab or CR as a formula; client names are
# user text. A spreadsheet whose list separator is ";" (most European locales) or that splits on
# tabs or line ends starts a new cell after those too, so each such start gets a quote mark.
_FORMULA_START = re.compile(r"(^|[;,\t\r\n])(?=[=+\-@\t\r])")


class ReportRangeError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Period:
    first: date
    last: date  # inclusive
    timezone: str

    def bounds(self) -> tuple[datetime, datetime]:
        zone = ZoneInfo(self.timezone)
        start = datetime.combine(self.first, time(), zone)
        end = datetime.combine(self.last + timedelta(days=1), time(), zone)
        return start, end

    def label(self) -> str:
        if self.first == self.last:
            return f"{self.first:%a %d %b %Y}"
        return f"{self.first:%d %b} – {self.last:%d %b %Y}"


def _day(word: str, today: date) -> date:
    offsets = {"today": 0, "tomorrow": 1, "yesterday": -1}
    if word in offsets:
        return today + timedelta(days=offsets[word])
    try:
        return date.fromisoformat(word)
    except ValueError as error:
        raise ReportRangeError(f"{word} is not a date on the calendar") from error


def report_period(start: str, end: str, *, now: datetime, timezone: str) -> Period:
    """FROM and TO as typed, read in the company's time zone; by default the next 7 days."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    first = _day(start, today) if start else today
    last = _day(end, today) if end else first + timedelta(days=6)
    if last < first:
        raise ReportRangeError(f"the end date {last} is before the start date {first}")
    if (last - first).days >= MAX_DAYS:
        raise ReportRangeError(f"a report covers at most {MAX_DAYS} days")
    return Period(first, last, timezone)


def row_status(row: ReportRow, now: datetime) -> str:
    if row.booking_status is BookingStatus.CANCELLED:
        return "cancelled"
    if row.meeting_state is not MeetingState.SCHEDULED:  # no meeting (yet): held up or failed
        return "failed"
    if row.payment is PaymentState.PENDING:
        return "awaiting payment"
    if row.opened_at is not None or row.start <= now:
        return "started"
    return "scheduled"


def safe_cell(value: str) -> str:
    """The cell as text that no spreadsheet, whatever its list separator, runs as a formula."""
    return _FORMULA_START.sub(r"\1'", value)


def report_csv(
    rows: Sequence[ReportRow], *, now: datetime, timezone: str, links: PublicUrls
) -> bytes:
    zone = ZoneInfo(timezone)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                safe_cell(row.start.astimezone(zone).isoformat(timespec="minutes")),
                safe_cell(row.service),
                safe_cell(row.provider),
                safe_cell(row.client),
                safe_cell(row_status(row, now)),
                safe_cell(links.client_link(row.client_token) if row.client_token else ""),
                safe_cell(links.host_link(row.host_token) if row.host_token else ""),
            ]
        )
    return buffer.getvalue().encode("utf-8")


def _counts_text(counts: Counter[str]) -> str:
    return ", ".join(f"{counts[status]} {status}" for status in STATUSES if counts[status])


def report_message(
    rows: Sequence[ReportRow], *, now: datetime, period: Period, filters: str
) -> ChatMessage:
    statuses = [row_status(row, now) for row in rows]
    totals = Counter(statuses)
    per_provider: dict[str, Counter[str]] = {}
    for row, status in zip(rows, statuses, strict=True):
        per_provider.setdefault(row.provider or "(no provider)", Counter())[status] += 1
    facts = [Fact("Bookings", str(len(rows)))]
    facts += [Fact(status.capitalize(), str(totals[status])) for status in STATUSES]
    lines = [
        f"• {name}: {sum(counts.values())} ({_counts_text(counts)})"
        for name, counts in sorted(per_provider.items())
    ]
    return ChatMessage(
        title=f"Online meetings, {period.label()}",
        summary=f"Online meetings report: {len(rows)} booking(s)",
        facts=tuple(facts),
        text=("Per provider:\n" + "\n".join(lines))
        if lines
        else "No online bookings in this period.",
        note=f"Times in {period.timezone}.{filters} Every row is in the attached CSV file.",
    )


def digest_message(
    rows: Sequence[ReportRow],
    *,
    now: datetime,
    timezone: str,
    company: str,
    alerts: Sequence[Alert],
) -> ChatMessage:
    zone = ZoneInfo(timezone)
    lines = [
        f"• {row.start.astimezone(zone):%H:%M} {row.service} with {row.provider}, "
        f"{row.client or 'a client'}: {row_status(row, now)}"
        for row in rows
    ]
    open_items = [f"• {alert.spec.title}" for alert in alerts]
    today = now.astimezone(zone)
    return ChatMessage(
        title=f"Today at {company}: {len(rows)} online meeting(s)",
        summary=f"Daily digest: {len(rows)} online meeting(s) today",
        # Client names are the clients' own text: literal segments, never markup or mentions.
        body=(Text("\n".join(lines)),) if lines else (),
        text="" if lines else "No online meetings today.",
        facts=(Fact("Date", f"{today:%a %d %b %Y} ({timezone})"),),
        note=("Open problems:\n" + "\n".join(open_items))
        if open_items
        else "No open problems. Turn this digest off with `/meetings digest off`.",
    )
