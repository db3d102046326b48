"""Log lines cannot leak secrets nor flood: known values and credential shapes are masked, and
every message is cut to a bounded size."""

from __future__ import annotations

import hashlib
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.redaction import (
    MAX_MESSAGE_BYTES,
    KnownSecrets,
    body_fingerprint,
    cap,
    clean,
    clean_record,
    redact,
    remember_secret,
)

MASK = "[redacted]"


@pytest.mark.parametrize(
    ("line", "hidden"),
    [
        ("api_key=abc123def456", "abc123def456"),
        ("api-secret: s3cr3tvalue", "s3cr3tvalue"),
        ('{"access_token": "tok-998877"}', "tok-998877"),
        ("refresh_token=rt.abc&state=x", "rt.abc"),
        ("MEETBOT_ZOOM_CLIENT_SECRET=zzz111", "zzz111"),
        ("webhook_secret=whs-42", "whs-42"),
        ("Authorization: Bearer abcdefgh12345678", "abcdefgh12345678"),
        ("password='hunter2hunter2'", "hunter2hunter2"),
        ("sending with xoxb-1234-5678-abcdef", "1234-5678-abcdef"),
        ("socket xapp-1-A1-99-ffee", "1-A1-99-ffee"),
        ("signing with whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        ("id eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", "eyJzdWIiOiIxIn0"),
        ("posting to https://hooks.slack.com/services/T1/B2/xyz", "/services/T1/B2/xyz"),
        ("GET /m/AbCdEfGhIjKlMnOpQrSt", "AbCdEfGhIjKlMnOpQrSt"),
        ("GET /h/AbCdEfGhIjKlMnOpQrSt", "AbCdEfGhIjKlMnOpQrSt"),
        ("POST /webhooks/simplybook/AbCdEfGhIjKlMnOpQrSt", "AbCdEfGhIjKlMnOpQrSt"),
    ],
)
def test_credential_shapes_are_masked(line: str, hidden: str) -> None:
    cleaned = redact(line)
    assert hidden not in cleaned
    assert MASK in cleaned


@pytest.mark.parametrize(
    "line",
    [
        "job 12 (sync_booking) retries in 2.0s: outage",
        "booking AB12 for company c1 posted to C123",
        "GET /m/short",  # too short to be a link token
        "the token bucket is empty",  # the word alone is no credential
    ],
)
def test_ordinary_lines_are_left_alone(line: str) -> None:
    assert redact(line) == line


def test_a_remembered_value_is_masked_anywhere() -> None:
    remember_secret("remembered-value-6c1f0e")
    assert redact("it was remembered-value-6c1f0e, then") == f"it was {MASK}, then"


def test_a_remembered_document_hides_its_values_but_not_its_field_names() -> None:
    remember_secret('{"refresh": "doc-value-41d7a9", "url": "https://login.example/x"}')
    cleaned = redact("refresh doc-value-41d7a9 from https://login.example/x")
    assert "doc-value-41d7a9" not in cleaned
    assert "refresh" in cleaned and "https://login.example/x" in cleaned


def test_a_documents_words_and_phrases_stay_readable_but_its_random_values_do_not() -> None:
    flow = (
        '{"tenant": "organizations", "scope": "openid profile offline_access User.Read", '
        '"code_verifier": "verifierWithoutDigitsButLong", "state": "st4te-91aa0c"}'
    )
    remember_secret(flow)
    line = "organizations asked for openid profile offline_access User.Read"
    assert redact(line) == line
    masked = redact("verifierWithoutDigitsButLong st4te-91aa0c")
    assert "verifierWithoutDigitsButLong" not in masked and "st4te-91aa0c" not in masked


@pytest.mark.parametrize("value", ["short", "x" * 5000])
def test_values_too_short_or_too_long_are_not_remembered(value: str) -> None:
    secrets = KnownSecrets()
    secrets.add(value)
    assert secrets.mask(f"a {value} b") == f"a {value} b"


def test_pinned_values_outlive_the_remembered_ones() -> None:
    secrets = KnownSecrets(limit=2, substring_limit=1)
    secrets.pin("pinned-setting-value")
    for number in range(10):
        secrets.add(f"passing-value-{number:04d}")
    masked = secrets.mask("pinned-setting-value passing-value-0000 passing-value-0009")
    assert masked == f"{MASK} passing-value-0000 {MASK}"


def test_an_old_value_is_still_found_by_its_long_words() -> None:
    secrets = KnownSecrets(substring_limit=1)
    secrets.add("first AAAAAAAAAAAAAAAAAAAA")  # a value with a long word in it
    secrets.add("second-value-xx")
    assert "AAAAAAAAAAAAAAAAAAAA" not in secrets.mask("saw AAAAAAAAAAAAAAAAAAAA here")


@settings(settings.get_profile("core"))
@given(
    st.lists(
        st.text("ABCDEFGHJKLMNPQRSTUVWXYZ23456789", min_size=8, max_size=40), min_size=1, max_size=5
    ),
    st.text(max_size=80),
    st.text(max_size=80),
)
def test_a_known_secret_never_survives_masking(secrets: list[str], before: str, after: str) -> None:
    known = KnownSecrets()
    for secret in secrets:
        known.add(secret)
    masked = known.mask(before + " ".join(secrets) + after)
    for secret in secrets:
        assert secret not in masked


@pytest.mark.parametrize(
    ("text", "kept"),
    [("short", "short"), ("é" * 10, "é" * 10)],
)
def test_short_text_is_not_cut(text: str, kept: str) -> None:
    assert cap(text) == kept


def test_long_text_is_cut_within_the_limit_and_says_how_much_was_dropped() -> None:
    capped = cap("x" * 5000)
    assert len(capped.encode()) <= MAX_MESSAGE_BYTES
    assert capped.endswith("more bytes]")


@settings(settings.get_profile("core"))
@given(st.text(min_size=0, max_size=3000), st.integers(min_value=60, max_value=2000))
def test_capped_text_never_passes_the_limit_nor_breaks_a_character(text: str, limit: int) -> None:
    capped = cap(text, limit)
    assert len(capped.encode()) <= limit
    capped.encode("utf-8")  # whole characters only: encodes back without error


def test_clean_masks_then_caps() -> None:
    line = "token=abcdef123456 " + "y" * 4000
    cleaned = clean(line)
    assert "abcdef123456" not in cleaned
    assert len(cleaned.encode()) <= MAX_MESSAGE_BYTES


@pytest.mark.parametrize("body", [b"secret body", "secret body"])
def test_a_refused_body_is_logged_as_length_and_digest(body: bytes | str) -> None:
    digest = hashlib.sha256(b"secret body").hexdigest()
    assert body_fingerprint(body) == f"11 bytes, sha256 {digest}"


def test_a_log_record_is_cleaned_with_its_arguments_merged() -> None:
    record = logging.LogRecord(
        "t", logging.INFO, __file__, 1, "sent %s", ("api_key=k123456",), None
    )
    clean_record(record)
    assert record.args is None
    assert record.getMessage() == f"sent api_key={MASK}"


def test_a_record_whose_arguments_do_not_fit_is_kept_not_dropped() -> None:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "%d items", ("many",), None)
    clean_record(record)
    assert "items" in record.getMessage() and "many" in record.getMessage()


def test_a_traceback_is_masked_too() -> None:
    try:
        raise ValueError("refresh_token=rt-7766554433")
    except ValueError:
        import sys

        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    clean_record(record)
    assert record.exc_text is not None
    assert "rt-7766554433" not in record.exc_text
    assert "ValueError" in record.exc_text


def test_a_value_seen_again_is_searched_for_inside_words_again() -> None:
    secrets = KnownSecrets(substring_limit=1)
    secrets.add("first-value-0001")
    secrets.add("second-value-0002")
    assert secrets.mask("xxsecond-value-0002yy") == f"xx{MASK}yy"  # the newest: searched for
    secrets.add("first-value-0001")  # seen again: the newest now
    assert secrets.mask("xxfirst-value-0001yy") == f"xx{MASK}yy"


def test_a_value_pinned_after_lines_were_masked_is_masked_from_then_on() -> None:
    secrets = KnownSecrets()
    assert secrets.mask("before late-pinned-value") == "before late-pinned-value"
    secrets.pin("late-pinned-value")
    assert secrets.mask("xxlate-pinned-valueyy") == f"xx{MASK}yy"
