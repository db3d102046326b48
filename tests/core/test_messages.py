"""Chat messages built by the core: what a provider sees, and when a message counts as changed."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import PaymentState
from bot.messages import (
    START_ACTION,
    ChatMessage,
    Fact,
    Link,
    Text,
    When,
    booking_message,
    cancelled_reply,
    class_message,
    format_time_range,
    rescheduled_message,
    shorten,
    starting_message,
    time_range,
)
from tests.core.fakes import booking_details

START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
DETAILS = booking_details(start=START)
CLIENT_LINK = "https://meetbot.example/m/client-token"
HOST_LINK = "https://meetbot.example/h/host-token"


def message(**changes: object) -> ChatMessage:
    arguments: dict[str, object] = {
        "details": DETAILS,
        "service_name": "Yoga",
        "provider_name": "Olena",
        "timezone": "UTC",
        "client_link": CLIENT_LINK,
        "host_link": HOST_LINK,
        "meeting_id": "meet1",
    }
    arguments.update(changes)
    return booking_message(**arguments)  # type: ignore[arg-type]


def facts(built: ChatMessage) -> dict[str, str]:
    return {fact.label: fact.value for fact in built.facts}


@pytest.mark.parametrize(
    ("timezone", "shown"),
    [
        ("UTC", "Tue 01 Dec 2026, 10:00–11:00 (UTC)"),
        ("Europe/Kyiv", "Tue 01 Dec 2026, 12:00–13:00 (Europe/Kyiv)"),
        ("America/New_York", "Tue 01 Dec 2026, 05:00–06:00 (America/New_York)"),
        ("Pacific/Kiritimati", "Wed 02 Dec 2026, 00:00–01:00 (Pacific/Kiritimati)"),
    ],
)
def test_time_range_is_shown_in_the_company_zone(timezone: str, shown: str) -> None:
    assert format_time_range(START, START + timedelta(hours=1), timezone) == shown


def test_booking_message_lists_the_booking_and_both_links() -> None:
    built = message()
    assert built.title == "Online meeting: Yoga"
    assert facts(built) == {
        "When": "Tue 01 Dec 2026, 10:00–11:00 (UTC)",
        "Client": "Ann",
        "Provider": "Olena",
        "Booking": "AB12",
        "Client's link": CLIENT_LINK,
    }
    assert [button.url for button in built.buttons] == [HOST_LINK, CLIENT_LINK]
    assert built.actions[0].action_id == START_ACTION
    assert built.actions[0].value == "meet1"


def test_booking_message_without_a_meeting_id_has_no_start_button() -> None:
    assert message(meeting_id="").actions == ()


@pytest.mark.parametrize(
    ("changes", "fact", "shown"),
    [
        ({"client_name": ""}, "Client", "A client"),
        ({"code": ""}, "Booking", "1001"),
        ({"payment": PaymentState.PAID}, "Payment", "paid"),
        (
            {"payment": PaymentState.PENDING},
            "Payment",
            "pending: the client's link opens once the booking is paid",
        ),
    ],
)
def test_booking_message_fills_in_what_the_booking_leaves_out(
    changes: dict[str, object], fact: str, shown: str
) -> None:
    built = message(details=replace(DETAILS, **changes))  # type: ignore[arg-type]
    assert facts(built)[fact] == shown


def test_no_payment_fact_when_payment_is_not_required() -> None:
    assert "Payment" not in facts(message())


def test_cancelled_booking_message_drops_links_buttons_and_payment() -> None:
    built = message(cancelled=True, details=replace(DETAILS, payment=PaymentState.PENDING))
    assert built.title == "Cancelled: Yoga"
    assert built.buttons == () and built.actions == ()
    assert "Payment" not in facts(built) and "Client's link" not in facts(built)
    assert "cancelled" in built.summary


def test_company_wording_replaces_the_standard_facts_but_keeps_payment() -> None:
    wording = (Text("Hello "), Link(CLIENT_LINK))
    built = message(wording=wording, details=replace(DETAILS, payment=PaymentState.PAID))
    assert built.body == wording
    assert [fact.label for fact in built.facts] == ["Payment"]


def test_client_text_is_added_after_the_wording_for_copying() -> None:
    built = message(wording=(Text("Hi"),), client_text=(Text("Dear Ann"),))
    assert built.body[0] == Text("Hi")
    assert built.body[-1] == Text("Dear Ann")
    assert "Text for the client" in built.body[1].text  # type: ignore[union-attr]


def test_digest_is_stable_for_the_same_message() -> None:
    assert message().digest() == message().digest()


@pytest.mark.parametrize(
    "changes",
    [
        {
            "details": replace(
                DETAILS, start=START + timedelta(hours=1), end=START + timedelta(hours=2)
            )
        },
        {"details": replace(DETAILS, client_name="Bea")},
        {"details": replace(DETAILS, payment=PaymentState.PAID)},
        {"provider_name": "Maria"},
        {"cancelled": True},
        {"client_link": CLIENT_LINK + "x"},
        {"wording": (Text("Hello"),)},
    ],
    ids=["time", "client", "payment", "provider", "cancelled", "link", "wording"],
)
def test_digest_changes_with_anything_the_message_shows(changes: dict[str, object]) -> None:
    assert message(**changes).digest() != message().digest()


def test_digest_covers_times_inside_the_body() -> None:
    early = ChatMessage(title="t", body=(When(START, "10:00"),))
    later = ChatMessage(title="t", body=(When(START + timedelta(minutes=5), "10:00"),))
    assert early.digest() != later.digest()


def test_rescheduled_reply_says_was_and_now() -> None:
    built = rescheduled_message(
        old_start=START,
        old_end=START + timedelta(hours=1),
        start=START + timedelta(days=1),
        end=START + timedelta(days=1, hours=1),
        timezone="UTC",
    )
    assert [(fact.label, fact.value) for fact in built.facts] == [
        ("Was", "Tue 01 Dec 2026, 10:00–11:00 (UTC)"),
        ("Now", "Wed 02 Dec 2026, 10:00–11:00 (UTC)"),
    ]
    assert built.summary == "Rescheduled to Wed 02 Dec 2026, 10:00–11:00 (UTC)"
    assert built.broadcast, "a move is shown in the channel, not only in the thread"


def test_a_time_range_is_shown_as_moments_for_each_readers_zone() -> None:
    shown = time_range(START, START + timedelta(hours=1), "Europe/Kyiv")
    assert shown == (
        When(START, "Tue 01 Dec 2026, 12:00"),
        Text("–"),
        When(START + timedelta(hours=1), "13:00 (Europe/Kyiv)", time_only=True),
    )
    fallback = "".join(part.fallback if isinstance(part, When) else part.text for part in shown)  # type: ignore[union-attr]
    assert fallback == format_time_range(START, START + timedelta(hours=1), "Europe/Kyiv")
    [when] = [fact for fact in message().facts if fact.label == "When"]
    assert when.shown == time_range(DETAILS.start, DETAILS.end, "UTC")


def test_no_start_button_while_payment_is_pending() -> None:
    pending = message(details=replace(DETAILS, payment=PaymentState.PENDING))
    assert pending.actions == ()
    assert "once the booking is paid" in pending.note
    assert message(details=replace(DETAILS, payment=PaymentState.PAID)).actions != ()


def test_a_cancellation_reply_is_broadcast_and_says_what_was_cancelled() -> None:
    built = cancelled_reply(
        service_name="Yoga",
        client="",
        start=START,
        end=START + timedelta(hours=1),
        timezone="UTC",
    )
    assert built.broadcast and built.title == "Cancelled: Yoga"
    assert ("Client", "A client") in [(f.label, f.value) for f in built.facts]


@pytest.mark.parametrize(
    ("text", "limit", "shown"),
    [
        ("Online meeting: Yoga", 150, "Online meeting: Yoga"),
        ("Online meeting: Deep relaxation and breathing", 30, "Online meeting: Deep…"),
        ("Online meeting: a, b", 19, "Online meeting: a…"),
        ("S" * 40, 10, "S" * 9 + "…"),
    ],
)
def test_shortened_at_a_word_with_an_ellipsis(text: str, limit: int, shown: str) -> None:
    assert shorten(text, limit) == shown
    assert len(shorten(text, limit)) <= limit


@given(st.text(min_size=1, max_size=300), st.integers(min_value=2, max_value=200))
@settings(max_examples=200)
def test_shortening_never_exceeds_the_limit(text: str, limit: int) -> None:
    shortened = shorten(text, limit)
    assert len(shortened) <= limit
    assert shortened == text or shortened.endswith("…")


@pytest.mark.parametrize(("client", "shown"), [("Ann", "Ann"), ("", "A client")])
def test_starting_reply_offers_the_host_link(client: str, shown: str) -> None:
    built = starting_message(
        service_name="Yoga", provider_name="Olena", client=client, host_link=HOST_LINK
    )
    assert built.title == "Starting soon: Yoga"
    assert built.facts[0] == Fact("Client", shown)
    assert built.buttons[0].url == HOST_LINK and built.buttons[0].primary


def test_class_message_lists_each_seat_with_its_own_link() -> None:
    seats = [("Ann", "AB12", "https://m/1"), ("", "CD34", "https://m/2")]
    built = class_message(
        service_name="Yoga",
        provider_name="Olena",
        when="today",
        seats=seats,
        host_link=HOST_LINK,
        meeting_id="meet1",
    )
    assert built.body == (
        Text("• Ann (AB12): "),
        Link("https://m/1"),
        Text("\n• A client (CD34): "),
        Link("https://m/2"),
    )
    assert Fact("Seats", "2") in built.facts
    assert built.summary.endswith("2 seat(s)")


@settings(settings.get_profile("core"))
@given(st.text(max_size=40), st.text(max_size=40))
def test_two_messages_share_a_digest_only_when_they_say_the_same(first: str, second: str) -> None:
    one = ChatMessage(title="t", facts=(Fact("Client", first),))
    other = ChatMessage(title="t", facts=(Fact("Client", second),))
    assert (one.digest() == other.digest()) == (first == second)


def test_digest_matches_the_one_stored_by_earlier_versions() -> None:
    """Digests are kept on posted messages: a new way of computing them must give the same value,
    or every message would be edited once for nothing."""
    for built in (
        message(),
        message(cancelled=True, wording=(Text("Hello "), Link(CLIENT_LINK))),
        ChatMessage(title="t", body=(When(START, "10:00"),)),
    ):
        earlier = json.dumps(asdict(built), sort_keys=True, ensure_ascii=False, default=str)
        assert built.digest() == hashlib.sha256(earlier.encode()).hexdigest()
