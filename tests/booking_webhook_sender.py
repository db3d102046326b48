"""A booking system other than SimplyBook.me, as the tests speak it: it signs booking events with
the Standard Webhooks scheme and posts them to meetbot's booking webhook."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from adapters.booking_webhooks.signature import sign
from app.bootstrap import Core
from app.sandbox import Demo
from app.sandbox_webhook import set_up_like_simplybook
from app.webhook_example import example_event, signed
from bot.urls import PublicUrls


@dataclass
class BookingSender:
    """Posts events for the demo company's service and provider to its booking webhook."""

    meetbot_url: str
    source_id: str
    secret: str
    demo: Demo

    @property
    def url(self) -> str:
        return PublicUrls(self.meetbot_url).booking_webhook(self.source_id)

    def event(self, booking_id: str, **changes: Any) -> dict[str, Any]:
        start = changes.pop("start", None) or in_days(3)
        return example_event(
            booking_id,
            start=start,
            service=(self.demo.service_id, "Online yoga consultation"),
            provider=(self.demo.provider_id, "Olena Koval", "olena@demo-studio.test"),
            time_zone="Europe/Kyiv",
            **changes,
        )

    def post(
        self,
        event: dict[str, Any],
        *,
        secret: str | None = None,
        at: datetime | None = None,
        headers: dict[str, str] | None = None,
        body: str | None = None,
    ) -> httpx.Response:
        signed_body, signed_headers = signed(
            event, secret=secret or self.secret, now=at or datetime.now(UTC)
        )
        return httpx.post(
            self.url,
            content=signed_body if body is None else body,
            headers={**signed_headers, **(headers or {})},
            timeout=30,
        )

    def post_raw(self, body: str, *, at: datetime) -> httpx.Response:
        """Any text, signed properly: what a buggy sender with the right secret would send."""
        headers = sign(
            body,
            secret=self.secret,
            webhook_id=f"msg_{uuid.uuid4().hex}",
            timestamp=int(at.timestamp()),
        )
        return httpx.post(self.url, content=body.encode(), headers=headers, timeout=30)

    def resend(self, body: str, headers: dict[str, str]) -> int:
        return httpx.post(self.url, content=body, headers=headers, timeout=30).status_code


def in_days(days: int, *, hour: int = 10) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )


def connected_sender(core: Core, demo: Demo, meetbot_url: str) -> BookingSender:
    source, secret = core.booking_webhooks.connect(company_id=demo.company_id)
    set_up_like_simplybook(
        core,
        company_id=demo.company_id,
        source_id=source.id,
        service_id=demo.service_id,
        provider_id=demo.provider_id,
    )
    return BookingSender(meetbot_url, source.id, secret, demo)
