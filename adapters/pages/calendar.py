"""A meeting as an iCalendar event (RFC 5545), for the client's "Add to calendar".

The event carries the booked times in UTC, what the meeting is, and the client's meetbot link:
never the platform's join URL (it may not be valid yet, or not for this client) nor any client data.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from bot.usecases.links import MeetingSummary

PRODUCT_ID = "-//meetbot//client link//EN"


def meeting_event(summary: MeetingSummary, *, link: str, token: str, now: datetime) -> bytes:
    """The calendar file; its UID stays the same for one link, so importing it again updates it."""
    # Imported here: icalendar costs memory in every process and only this route uses it.
    from icalendar import Calendar, Event

    event = Event()
    # A digest of its own (not the one the link is looked up by): the UID names the event only.
    uid = hashlib.sha256(f"meetbot calendar event:{token}".encode()).hexdigest()[:32]
    event.add("uid", f"{uid}@meetbot")
    event.add("dtstamp", now)
    event.add("dtstart", summary.starts_at)
    event.add("dtend", summary.ends_at)
    event.add("summary", f"{summary.service} — {summary.provider} ({summary.business})")
    event.add("description", f"Join the online meeting: {link}")
    event.add("location", link)
    event.add("url", link)
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add_component(event)
    return calendar.to_ical()
