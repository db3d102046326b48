"""What a person is shown before and after signing in to a meeting platform."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import clock
from bot.signin import CONFIRM_SECONDS, START_SECONDS, confirmation_message, consent_text


def test_consent_names_platform_and_company_and_warns_about_forwarded_links() -> None:
    consent = consent_text("Zoom", "Studio", "the company's meetings")
    assert consent.title == "Connect Zoom to Studio"
    assert "anyone who sends you this link" in consent.message
    assert consent.proceed_label == "Continue to Zoom"
    assert consent.ok


def test_confirmation_offers_confirm_and_cancel_carrying_the_token() -> None:
    asked = confirmation_message(
        "Teams",
        "ann@studio.com",
        "Olena's meetings",
        token="t1",
        confirm="ms_confirm",
        discard="ms_discard",
    )
    assert asked.text == "ann@studio.com will host Olena's meetings."
    assert [(a.label, a.action_id, a.value) for a in asked.actions] == [
        ("Confirm", "ms_confirm", "t1"),
        ("Cancel", "ms_discard", "t1"),
    ]


def test_a_sign_in_must_be_confirmed_within_the_hour_after_a_short_start() -> None:
    assert START_SECONDS < CONFIRM_SECONDS == 3600


def test_system_clock_gives_aware_utc() -> None:
    now = clock.SystemClock().now()
    assert now.tzinfo is UTC
    assert abs((datetime.now(UTC) - now).total_seconds()) < 5
