"""Accepting a booking callback: safe to acknowledge only once it and its job are committed."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.domain import BookingCallback
from bot.ports import CallbackInbox


class Verdict(StrEnum):
    ACCEPTED = "accepted"
    UNKNOWN_TOKEN = "unknown_token"  # noqa: S105  (a verdict, not a credential)
    WRONG_COMPANY = "wrong_company"


@dataclass(frozen=True, slots=True)
class IngestResult:
    verdict: Verdict
    reason: str


def accept_booking_callback(
    inbox: CallbackInbox, *, token: str, callback: BookingCallback, raw_body: str
) -> IngestResult:
    company = inbox.company_for_webhook_token(token=token)
    if company is None:
        return IngestResult(Verdict.UNKNOWN_TOKEN, "unknown webhook address")
    if callback.company_login.casefold() != company.simplybook_login.casefold():
        return IngestResult(Verdict.WRONG_COMPANY, "company does not match this webhook address")
    inbox.record_callback(company_id=company.id, callback=callback, raw_body=raw_body)
    return IngestResult(Verdict.ACCEPTED, "queued")
