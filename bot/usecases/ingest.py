"""Accepting booking callbacks: safe to acknowledge only once each and its job are committed.

Callbacks that arrive together are accepted together: one lookup of their companies and one
transaction for all that are accepted (a group commit), so a burst costs one commit, not one per
callback. Each caller still hears its own verdict only after that commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.domain import AcceptedCallback, BookingCallback
from bot.ports import CallbackInbox


class Verdict(StrEnum):
    ACCEPTED = "accepted"
    UNKNOWN_TOKEN = "unknown_token"  # noqa: S105  (a verdict, not a credential)
    WRONG_COMPANY = "wrong_company"


@dataclass(frozen=True, slots=True)
class IngestResult:
    verdict: Verdict
    reason: str


@dataclass(frozen=True, slots=True)
class Delivery:
    """One callback as it arrived: the webhook address's token, the validated body, the raw body."""

    token: str
    callback: BookingCallback
    raw_body: str


UNKNOWN = IngestResult(Verdict.UNKNOWN_TOKEN, "unknown webhook address")
WRONG_COMPANY = IngestResult(Verdict.WRONG_COMPANY, "company does not match this webhook address")
ACCEPTED = IngestResult(Verdict.ACCEPTED, "queued")


def accept_booking_callbacks(
    inbox: CallbackInbox, deliveries: Sequence[Delivery]
) -> list[IngestResult]:
    """A verdict per delivery, in order; the accepted ones are stored in one transaction."""
    companies = inbox.companies_for_webhook_tokens(tokens={d.token for d in deliveries})
    results: list[IngestResult] = []
    accepted: list[AcceptedCallback] = []
    for delivery in deliveries:
        company = companies.get(delivery.token)
        if company is None:
            results.append(UNKNOWN)
        elif delivery.callback.company_login.casefold() != company.simplybook_login.casefold():
            results.append(WRONG_COMPANY)
        else:
            results.append(ACCEPTED)
            accepted.append(AcceptedCallback(company.id, delivery.callback, delivery.raw_body))
    if accepted:
        inbox.record_callbacks(accepted=accepted)
    return results


def accept_booking_callback(
    inbox: CallbackInbox, *, token: str, callback: BookingCallback, raw_body: str
) -> IngestResult:
    return accept_booking_callbacks(inbox, [Delivery(token, callback, raw_body)])[0]
