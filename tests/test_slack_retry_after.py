"""How long meetbot waits when Slack says it is rate limited: the `Retry-After` header, within
reason, whatever shape it comes in."""

from __future__ import annotations

import pytest

from adapters.slack.api_errors import retry_after_seconds


@pytest.mark.parametrize(
    ("header", "wait"),
    [
        ("30", 30.0),
        ("0", 1.0),  # never a busy loop
        (None, 1.0),
        ("86400", 3600.0),  # never parked for a day
        ("Wed, 21 Oct 2026 07:28:00 GMT", 60.0),  # an HTTP date: Slack's tier is a minute
        ("soon", 60.0),
        ("nan", 60.0),
        ("inf", 60.0),
    ],
)
def test_retry_after_is_read_within_bounds(header: str | None, wait: float) -> None:
    assert retry_after_seconds(header) == wait
