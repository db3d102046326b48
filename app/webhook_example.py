"""Example booking events for the generic booking webhook, signed as a sender signs them: what
`meetbot webhook example` prints, what the sandbox sends, and what the README shows."""

from __future__ import annotations

import json
import shlex
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from adapters.booking_webhooks.signature import sign


def example_event(
    booking_id: str,
    *,
    start: datetime,
    minutes: int = 60,
    sequence: int = 1,
    event_type: str = "booking.created",
    service: tuple[str, str] = ("consultation", "Online consultation"),
    provider: tuple[str, str, str] = ("ada", "Ada Lovelace", "ada@example.com"),
    client: tuple[str, str] = ("Grace Hopper", "grace@example.com"),
    time_zone: str = "Europe/Berlin",
) -> dict[str, Any]:
    """A booking event in the documented format (`start` is shown in `time_zone`)."""
    local = start.astimezone(ZoneInfo(time_zone))
    return {
        "type": event_type,
        "timestamp": local.isoformat(timespec="seconds"),
        "data": {
            "booking_id": booking_id,
            "sequence": sequence,
            "service": {"id": service[0], "name": service[1], "is_class": False},
            "provider": {"id": provider[0], "name": provider[1], "email": provider[2]},
            "client": {"name": client[0], "email": client[1], "language": "en"},
            "start": local.isoformat(timespec="seconds"),
            "end": (local + timedelta(minutes=minutes)).isoformat(timespec="seconds"),
            "time_zone": time_zone,
            "payment": "not_required",
        },
    }


def signed(event: dict[str, Any], *, secret: str, now: datetime) -> tuple[str, dict[str, str]]:
    """The body exactly as signed, and the Standard Webhooks headers for it."""
    body = json.dumps(event, separators=(",", ":"))
    headers = sign(
        body, secret=secret, webhook_id=f"msg_{uuid.uuid4().hex}", timestamp=int(now.timestamp())
    )
    return body, {**headers, "content-type": "application/json"}


def curl_command(url: str, body: str, headers: dict[str, str]) -> str:
    lines = [f"curl -sS -X POST {shlex.quote(url)}"]
    lines += [f"  -H {shlex.quote(f'{name}: {value}')}" for name, value in headers.items()]
    lines.append(f"  --data-raw {shlex.quote(body)}")
    return " \\\n".join(lines)
