"""Time zones and moments named by a stranger, checked once for every route.

`ZoneInfo` raises more than ZoneInfoNotFoundError: ValueError for a path-like key, and OSError
(IsADirectoryError) for a key that names a folder of the zone database, such as "Europe".
A moment's year is bounded too: converting 0001-01-01T00:00+01:00 to UTC overflows, and a
booking in year 9999 would overflow any later arithmetic on it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

EARLIEST_YEAR = 2000
LATEST_YEAR = 2100


def known_zone(name: str) -> ZoneInfo | None:
    """The zone if the zone database has it, else None (the caller decides what that means)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def bounded_moment(text: str) -> datetime | None:
    """An ISO 8601 moment with its offset, in UTC, or None when it is not one or lies outside
    the years EARLIEST_YEAR to LATEST_YEAR."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None or not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
        return None  # a year in range cannot overflow in the conversion below
    return parsed.astimezone(UTC)
