"""The generic booking webhook from chat: connect it (a business without SimplyBook.me starts
here, and names itself with `company name`), disconnect it, and rotate its signing secret.

A secret is shown once, in the admin's private answer (the reply is marked secret: Slack shows it
ephemerally, Teams answers a question asked in a channel in the personal chat), and never again:
meetbot keeps it encrypted.
"""

from __future__ import annotations

from bot.commands.deps import AdminDeps
from bot.commands.kinds import NameCompany, WebhookSecret
from bot.commands.reply import Reply, say, secretly
from bot.domain import Actor, Company
from bot.errors import AlreadyConnected
from bot.ports import BookingWebhooks

NEW_COMPANY_NAME = "Your company"
NOT_SERVED = say(
    "The booking webhook is not available on this server",
    "Ask whoever runs meetbot to update it.",
)
SHOWN_ONCE = (
    "This secret is shown only now: store it in your booking system and nowhere else. "
    "Lost it? `/meetings webhook rotate` makes a new one."
)


def _secret_reply(title: str, url: str, secret: str, then: str) -> Reply:
    return secretly(
        say(
            title,
            f"Send booking events to:\n{url}\n\nSigning secret (Standard Webhooks):\n`{secret}`\n\n"
            f"{SHOWN_ONCE}\n{then}",
        )
    )


async def connect_webhook(deps: AdminDeps, actor: Actor, company: Company | None) -> Reply:
    webhooks = deps.booking_webhooks
    if webhooks is None:
        return NOT_SERVED
    if company is None:
        company = deps.companies.start_company(actor=actor, name=NEW_COMPANY_NAME)
    try:
        source, secret = webhooks.connect(company_id=company.id)
    except AlreadyConnected:  # found, or another admin's connect won the race
        return _already_connected(deps, webhooks, company)
    deps.audit(company.id, actor, "connected the booking webhook")
    return _secret_reply(
        "Booking webhook connected",
        deps.urls.booking_webhook(source.id),
        secret,
        "Events must follow the booking event format (see meetbot's README). "
        "Next: `/meetings company name NAME` (what clients' pages call the business), "
        "`/meetings connect zoom`, then `/meetings enable`.",
    )


def _already_connected(deps: AdminDeps, webhooks: BookingWebhooks, company: Company) -> Reply:
    existing = webhooks.company_source(company_id=company.id)
    where = f" It receives events at {deps.urls.booking_webhook(existing.id)}." if existing else ""
    return say(
        "The booking webhook is already connected",
        f"{where} Its secret is not shown again: `/meetings webhook rotate` makes a new one.".strip(),
    )


async def disconnect_webhook(deps: AdminDeps, actor: Actor, company: Company) -> Reply:
    webhooks = deps.booking_webhooks
    if webhooks is None:
        return NOT_SERVED
    if not webhooks.disconnect(company_id=company.id):
        return say("The booking webhook is not connected", "There is nothing to disconnect.")
    deps.audit(company.id, actor, "disconnected the booking webhook")
    return say(
        "The booking webhook is disconnected",
        "Its secrets are deleted and its address answers 404. Meetings already made stay.",
    )


async def webhook_secret(
    deps: AdminDeps, actor: Actor, company: Company, command: WebhookSecret
) -> Reply:
    webhooks = deps.booking_webhooks
    if webhooks is None:
        return NOT_SERVED
    source = webhooks.company_source(company_id=company.id)
    if source is None:
        return say(
            "The booking webhook is not connected", "Connect it: `/meetings connect webhook`."
        )
    if command.action == "rotate":
        return _rotate(deps, actor, company, webhooks, deps.urls.booking_webhook(source.id))
    retired = webhooks.retire_old(company_id=company.id)
    deps.audit(company.id, actor, "retired old booking webhook secrets", str(retired))
    return say(
        "Old webhook secrets retired" if retired else "Nothing to retire",
        f"{retired} old secret(s) removed; only the newest one verifies events now."
        if retired
        else "The webhook has one secret only.",
    )


def _rotate(
    deps: AdminDeps, actor: Actor, company: Company, webhooks: BookingWebhooks, url: str
) -> Reply:
    secret = webhooks.rotate(company_id=company.id)
    deps.audit(company.id, actor, "rotated the booking webhook secret")
    return _secret_reply(
        "New booking webhook secret",
        url,
        secret,
        "The old secret keeps working until you run `/meetings webhook retire-old`, so switch "
        "your booking system over first.",
    )


async def name_company(
    deps: AdminDeps, actor: Actor, company: Company, command: NameCompany
) -> Reply:
    """A company started from chat is "Your company" until named; SimplyBook.me's name is
    written again at its next connection."""
    deps.companies.rename_company(company_id=company.id, name=command.name)
    deps.audit(company.id, actor, "renamed the company", command.name)
    return say("Company renamed", f"Clients' pages and chat now say {command.name!r}.")
