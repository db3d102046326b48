"""The sandbox's generic-source booking: the demo company also gets a booking webhook, and one
signed `booking.created` reaches meetbot through it, as any booking system would send it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from app.bootstrap import Core
from app.webhook_example import example_event, signed
from bot.urls import PublicUrls


def generic_source_event(core: Core, *, service_id: str, provider_id: str) -> dict[str, Any]:
    """A booking from another booking system, for the demo company's service and provider."""
    start = (core.clock.now() + timedelta(minutes=30)).replace(second=0, microsecond=0)
    return example_event(
        "web-1001",
        start=start,
        service=(service_id, "Online yoga consultation"),
        provider=(provider_id, "Olena Koval", "olena@demo-studio.test"),
        client=("Taras Melnyk", "taras@example.test"),
        time_zone="Europe/Kyiv",
    )


def add_generic_source_booking(
    core: Core, *, company_id: str, service_id: str, provider_id: str, meetbot_url: str
) -> tuple[dict[str, Any], int]:
    """Connects the company's booking webhook and sends one signed booking; returns the event
    and the HTTP status meetbot answered."""
    source = core.booking_webhooks.company_source(company_id=company_id)
    if source is None:
        source, _secret = core.booking_webhooks.connect(company_id=company_id)
    event = generic_source_event(core, service_id=service_id, provider_id=provider_id)
    body, headers = signed(event, secret=source.secrets[0], now=core.clock.now())
    answer = httpx.post(
        PublicUrls(meetbot_url).booking_webhook(source.id),
        content=body,
        headers=headers,
        timeout=10,
    )
    return event, answer.status_code
