"""The sandbox's generic-source booking: the demo company also gets a booking webhook, and one
signed `booking.created` reaches meetbot through it, as any booking system would send it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from app.bootstrap import Core
from app.webhook_example import example_event, signed
from bot.domain import CatalogEntry
from bot.domain.booking_events import in_namespace
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


def set_up_like_simplybook(
    core: Core, *, company_id: str, source_id: str, service_id: str, provider_id: str
) -> None:
    """The source's own service and provider, set up as staff would: online meetings on, the
    provider mapped as the SimplyBook.me provider of the same id is (a generic source's ids are
    its own, so its "1" is not SimplyBook.me's "1")."""
    catalog = core.catalog
    service = catalog.service(company_id=company_id, external_id=service_id)
    provider = catalog.provider(company_id=company_id, external_id=provider_id)
    assert service is not None and provider is not None, "the SimplyBook.me catalog comes first"
    own_service = in_namespace(source_id, service_id)
    own_provider = in_namespace(source_id, provider_id)
    catalog.merge_catalog(
        company_id=company_id,
        services=[CatalogEntry(own_service, service.name, is_class=service.is_class)],
        providers=[CatalogEntry(own_provider, provider.name, email=provider.email)],
    )
    catalog.set_service_online(company_id=company_id, external_id=own_service, enabled=True)
    catalog.map_provider(
        company_id=company_id,
        external_id=own_provider,
        platform=provider.platform,
        zoom_user=provider.zoom_user,
        channel=provider.channel,
    )


def add_generic_source_booking(
    core: Core, *, company_id: str, service_id: str, provider_id: str, meetbot_url: str
) -> tuple[dict[str, Any], int]:
    """Connects the company's booking webhook and sends one signed booking; returns the event
    and the HTTP status meetbot answered."""
    source = core.booking_webhooks.company_source(company_id=company_id)
    if source is None:
        source, _secret = core.booking_webhooks.connect(company_id=company_id)
        set_up_like_simplybook(
            core,
            company_id=company_id,
            source_id=source.id,
            service_id=service_id,
            provider_id=provider_id,
        )
    event = generic_source_event(core, service_id=service_id, provider_id=provider_id)
    body, headers = signed(event, secret=source.secrets[0], now=core.clock.now())
    answer = httpx.post(
        PublicUrls(meetbot_url).booking_webhook(source.id),
        content=body,
        headers=headers,
        timeout=10,
    )
    return event, answer.status_code
