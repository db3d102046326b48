"""The provider message is a pure function of the booking; user text renders literally (rule 8)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

from adapters.slack.render import render
from bot.domain import BookingDetails, BookingStatus, PaymentState
from bot.messages import Mentioned, booking_message


def _details(client: str) -> BookingDetails:
    return BookingDetails(
        external_id="7",
        code="abc",
        service_id="1",
        service_name="Yoga",
        provider_id="1",
        provider_name="Olena",
        client_name=client,
        client_email="",
        client_phone="",
        start=datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
        end=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        status=BookingStatus.CONFIRMED,
        payment=PaymentState.NOT_REQUIRED,
    )


def _message(client: str = "Iryna", service: str = "Yoga"):  # type: ignore[no-untyped-def]
    return booking_message(
        details=_details(client),
        service_name=service,
        provider_name="Olena",
        timezone="Europe/Kyiv",
        client_link="https://m.test/m/C",
        host_link="https://m.test/h/H",
    )


def test_times_are_shown_in_the_company_zone() -> None:
    message = _message()
    assert ("When", "Tue 01 Dec 2026, 10:00–11:00 (Europe/Kyiv)") in [
        (f.label, f.value) for f in message.facts
    ]


def test_mentions_and_disguised_links_in_names_render_literally() -> None:
    text, blocks = render(_message(client="<!channel> <https://evil.test|bank> & *x*"))
    section = blocks[1]["text"]["text"]
    assert "&lt;!channel&gt; &lt;https://evil.test|bank&gt; &amp; *x*" in section
    assert "<!channel>" not in section and "<!channel>" not in text
    assert "<https://evil.test" not in section


def test_buttons_carry_the_links_and_start_is_the_primary_action() -> None:
    message = booking_message(
        details=_details("Iryna"),
        service_name="Yoga",
        provider_name="Olena",
        timezone="Europe/Kyiv",
        client_link="https://m.test/m/C",
        host_link="https://m.test/h/H",
        meeting_id="meeting-7",
    )
    _, blocks = render(message)
    buttons = blocks[2]["elements"]
    assert [(b.get("url"), b.get("value"), b.get("style")) for b in buttons] == [
        ("https://m.test/h/H", None, None),
        ("https://m.test/m/C", None, None),
        (None, "meeting-7", "primary"),
    ]
    assert buttons[2]["action_id"] == "meetbot_start"


def test_digest_changes_only_when_the_content_does() -> None:
    assert _message().digest() == _message().digest()
    assert _message().digest() != _message(client="Someone else").digest()


def test_long_service_names_fit_slack_limits() -> None:
    _, blocks = render(_message(service="S" * 400))
    assert len(blocks[0]["text"]["text"]) <= 150


def test_a_long_header_is_cut_at_a_word_with_an_ellipsis() -> None:
    service = "Deep relaxation and breathing for beginners " * 5
    _, blocks = render(_message(service=service))
    header = blocks[0]["text"]["text"]
    assert len(header) <= 150 and header.endswith("…")
    assert service.startswith(header.removeprefix("Online meeting: ").removesuffix("…"))
    assert header.removesuffix("…").split()[-1] in service.split(), "not cut inside a word"


def test_the_time_is_a_slack_date_each_reader_sees_in_their_zone() -> None:
    _, blocks = render(_message())
    [facts] = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    start, end = int(_details("x").start.timestamp()), int(_details("x").end.timestamp())
    assert (
        f"*When:* <!date^{start}^{{date_short_pretty}} {{time}}|Tue 01 Dec 2026, 10:00>"
        f"–<!date^{end}^{{time}}|11:00 (Europe/Kyiv)>"
    ) in facts


def test_mentions_notify_only_well_formed_slack_users() -> None:
    message = replace(
        _message(),
        mentions=(Mentioned("U0STAFF1", "Olena"), Mentioned("<!channel>", "x")),
    )
    text, blocks = render(message)
    assert blocks[1] == {"type": "section", "text": {"type": "mrkdwn", "text": "<@U0STAFF1>"}}
    assert text.startswith("<@U0STAFF1> ") and "<!channel>" not in json.dumps(blocks)
