"""Many companies, set up the way a hosted meetbot sees them, and bookings spread over them.

Every company is set up through the product's own repositories (`app.sandbox.seed_demo`: catalog,
online switch, a provider mapped to a Zoom user and a Slack channel, a connected Zoom account, a
bound Slack workspace), and its twin is added to the simulators.

Booking load is skewed like real demand: company k (from 1) gets a share proportional to
1 / k**ZIPF_EXPONENT. Slack takes about one post a second per channel and meetbot keeps to it, so
a company that gets a large share has more providers, each with a channel of its own: enough that
no channel expects more than `CHANNEL_RATE` posts a second at the planned rate. A big studio with
one channel for all its providers would be paced by Slack, not by meetbot.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from typing import Any

from app.bootstrap import Core
from app.sandbox import Demo, SandboxWorld, book, seed_demo
from bot.domain import CatalogEntry, ChatPlatform, ChatTarget, MeetingPlatform

ZIPF_EXPONENT = 1.0
# Posts a second one provider's channel is planned for at the fleet's peak. Slack allows about 1;
# meetbot keeps them 1.1 s apart, so a channel near that rate queues its posts and the wait is
# Slack's pace, not meetbot's. 0.2 (720 bookings an hour for one person) is still far above a
# real provider's calendar.
CHANNEL_RATE = 0.2


@dataclass(frozen=True)
class Provider:
    external_id: str
    channel_id: str


@dataclass(frozen=True)
class Tenant:
    demo: Demo
    providers: tuple[Provider, ...]


@dataclass(frozen=True)
class Fleet:
    tenants: tuple[Tenant, ...]
    weights: tuple[float, ...]  # share of bookings per tenant, summing to 1

    @property
    def channels(self) -> list[str]:
        return [provider.channel_id for tenant in self.tenants for provider in tenant.providers]

    def spread(self, count: int, *, seed: int) -> list[tuple[Tenant, Provider]]:
        """`count` (company, provider) picks, Zipf over companies, uniform over providers."""
        chooser = random.Random(seed)
        tenants = chooser.choices(self.tenants, weights=self.weights, k=count)
        return [(tenant, chooser.choice(tenant.providers)) for tenant in tenants]


def zipf_weights(companies: int, exponent: float = ZIPF_EXPONENT) -> list[float]:
    raw = [1.0 / (rank**exponent) for rank in range(1, companies + 1)]
    total = sum(raw)
    return [value / total for value in raw]


def seed_fleet(
    core: Core, world: SandboxWorld, *, companies: int, peak_rate: float, prefix: str = "co"
) -> Fleet:
    """`companies` companies, each with enough provider channels for its share of `peak_rate`
    bookings a second."""
    weights = zipf_weights(companies)
    tenants = []
    for number, weight in enumerate(weights):
        demo = seed_demo(core, world, login=f"{prefix}-{number}")
        channels = max(1, math.ceil(peak_rate * weight / CHANNEL_RATE))
        extra = [_add_provider(core, world, demo, index) for index in range(2, channels + 1)]
        providers = (Provider(demo.provider_id, demo.channel_id), *extra)
        tenants.append(Tenant(demo, providers))
    return Fleet(tuple(tenants), tuple(weights))


def _add_provider(core: Core, world: SandboxWorld, demo: Demo, index: int) -> Provider:
    """One more provider of `demo`'s company: a Zoom user of its account and a channel of its own."""
    external_id, name = str(index), f"Provider {index}"
    email = f"provider{index}@{demo.login}.test"
    world.simplybook.add_provider(demo.login, id=external_id, name=name, email=email)
    zoom_user = world.zoom.add_user(account_id=f"acct-{demo.login}", email=email)
    channel_id = world.slack.add_channel(demo.team_id, name=f"provider-{index}-bookings")
    core.catalog.merge_catalog(
        company_id=demo.company_id,
        services=[],
        providers=[CatalogEntry(external_id, name, email=email)],
    )
    core.catalog.map_provider(
        company_id=demo.company_id,
        external_id=external_id,
        platform=MeetingPlatform.ZOOM,
        zoom_user=zoom_user["id"],
        channel=ChatTarget(ChatPlatform.SLACK, demo.team_id, channel_id),
    )
    return Provider(external_id, channel_id)


def book_with(
    world: SandboxWorld, tenant: Tenant, provider: Provider, client: str
) -> dict[str, Any]:
    """A booking in the SimplyBook simulator for this company's provider."""
    demo = tenant.demo
    if provider.external_id != demo.provider_id:
        demo = replace(demo, provider_id=provider.external_id)
    return book(world, demo, client_name=client)
