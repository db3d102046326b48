"""Platform-neutral chat messages and the pure functions that build them.

Renderers in the chat adapters turn a `ChatMessage` into Block Kit or an Adaptive Card; all text
here is plain (never markup), and the adapters escape it for their platform.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain import BookingDetails, PaymentState


@dataclass(frozen=True, slots=True)
class Fact:
    """A labelled value. `shown`, when given, is what a chat shows instead of `value` (moments in
    each reader's zone); `value` stays the plain text for summaries and digests."""

    label: str
    value: str
    shown: tuple[Segment, ...] = ()


@dataclass(frozen=True, slots=True)
class Mentioned:
    """A person a message notifies: their user id in the target's chat, and a name to show."""

    user_id: str
    name: str


@dataclass(frozen=True, slots=True)
class LinkButton:
    label: str
    url: str
    primary: bool = False


@dataclass(frozen=True, slots=True)
class ActionButton:
    """A button that comes back to meetbot as an action (`action_id`, `value`)."""

    label: str
    action_id: str
    value: str = ""
    style: str = ""  # "", "primary" or "danger"


@dataclass(frozen=True, slots=True)
class Text:
    """Literal text: shown exactly as written (no markup, no mentions), whoever wrote it."""

    text: str


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    label: str = ""


@dataclass(frozen=True, slots=True)
class When:
    """A moment, shown by the chat platform in each reader's own time zone."""

    at: datetime
    fallback: str  # for readers whose client cannot localise times
    time_only: bool = False  # the end of a range: its day is the start's


Segment = Text | Link | When


@dataclass(frozen=True, slots=True)
class ChatMessage:
    title: str
    facts: tuple[Fact, ...] = ()
    buttons: tuple[LinkButton, ...] = ()
    note: str = ""
    summary: str = field(default="")  # one-line plain text for notifications and screen readers
    text: str = ""  # paragraphs of plain text, before the facts
    actions: tuple[ActionButton, ...] = ()
    body: tuple[Segment, ...] = ()  # a company's own wording (templates), after `text`
    mentions: tuple[Mentioned, ...] = ()  # people the message notifies (a provider's staff)
    broadcast: bool = False  # a thread reply also shown in the channel (cancel, move)

    def digest(self) -> str:
        """Identifies what the message says, so a later sync edits it only when it changed."""
        encoded = json.dumps(self, sort_keys=True, ensure_ascii=False, default=_plain).encode()
        return hashlib.sha256(encoded).hexdigest()


def _plain(value: object) -> object:
    """What `dataclasses.asdict` would give for a nested dataclass, without its deep copies (every
    booking job digests its message; digests already stored must keep matching); anything else
    (a `When` segment's datetime) as text."""
    if is_dataclass(value) and not isinstance(value, type):
        return {item.name: getattr(value, item.name) for item in fields(value)}
    return str(value)


def format_time_range(start: datetime, end: datetime, timezone: str) -> str:
    zone = ZoneInfo(timezone)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    day = local_start.strftime("%a %d %b %Y")
    return f"{day}, {local_start:%H:%M}–{local_end:%H:%M} ({timezone})"


def time_range(start: datetime, end: datetime, timezone: str) -> tuple[Segment, ...]:
    """The range as moments each reader sees in their own zone; the fallbacks (for clients that
    cannot localise) read together as `format_time_range` does."""
    zone = ZoneInfo(timezone)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    return (
        When(start, f"{local_start:%a %d %b %Y}, {local_start:%H:%M}"),
        Text("–"),
        When(end, f"{local_end:%H:%M} ({timezone})", time_only=True),
    )


def time_fact(label: str, start: datetime, end: datetime, timezone: str) -> Fact:
    return Fact(
        label, format_time_range(start, end, timezone), shown=time_range(start, end, timezone)
    )


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a word boundary, with "…" where it was cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if not text[limit - 1].isspace() and len(cut.split()) > 1:  # the cut fell inside a word
        cut = cut.rsplit(None, 1)[0]
    return cut.rstrip().rstrip(",.;:–-").rstrip() + "…"


START_ACTION = "meetbot_start"

PAYMENT_WORDS = {
    PaymentState.NOT_REQUIRED: "",
    PaymentState.PENDING: "pending: the client's link opens once the booking is paid",
    PaymentState.PAID: "paid",
}


def booking_message(
    *,
    details: BookingDetails,
    service_name: str,
    provider_name: str,
    timezone: str,
    client_link: str,
    host_link: str,
    meeting_id: str = "",
    cancelled: bool = False,
    wording: tuple[Segment, ...] = (),
    client_text: tuple[Segment, ...] = (),
) -> ChatMessage:
    """The provider's message for a booking; edited in place when the booking changes.

    `wording` is the company's own template for it (replacing the standard facts), `client_text`
    the rendered client template, shown for copying into e-mails. No "Start meeting now" while
    payment is pending: the client's link would not open anyway."""
    when = format_time_range(details.start, details.end, timezone)
    client = details.client_name or "A client"
    facts = [
        time_fact("When", details.start, details.end, timezone),
        Fact("Client", client),
        Fact("Provider", provider_name),
        Fact("Booking", details.code or details.external_id),
    ]
    if PAYMENT_WORDS[details.payment] and not cancelled:
        facts.append(Fact("Payment", PAYMENT_WORDS[details.payment]))
    if cancelled:
        return ChatMessage(
            title=f"Cancelled: {service_name}",
            summary=f"{client} cancelled {service_name} with {provider_name}, {when}",
            facts=tuple(facts),
            note="The booking was cancelled, so its video meeting was deleted and its links no longer open it.",
        )
    body: tuple[Segment, ...] = wording
    if client_text:
        body = (*body, Text("\n\nText for the client (to copy into an e-mail):\n"), *client_text)
    if wording:
        facts = [fact for fact in facts if fact.label == "Payment"]
    else:
        facts.append(Fact("Client's link", client_link))
    can_start = meeting_id and details.payment is not PaymentState.PENDING
    return ChatMessage(
        title=f"Online meeting: {service_name}",
        summary=f"{client} booked {service_name} with {provider_name}, {when}",
        body=body,
        facts=tuple(facts),
        buttons=(
            LinkButton("Host link", host_link),
            LinkButton("Client's join link", client_link),
        ),
        actions=(ActionButton("Start meeting now", START_ACTION, meeting_id, "primary"),)
        if can_start
        else (),
        note=_OPENING_NOTE if can_start else _PAYMENT_NOTE if meeting_id else _LINKS_NOTE,
    )


_LINKS_NOTE = (
    "The host link always opens a fresh host session; share only the client's link. "
    "This message is updated when the booking changes."
)
_OPENING_NOTE = (
    "Clients can join from shortly before the start; “Start meeting now” opens it for them "
    "earlier. " + _LINKS_NOTE
)
_PAYMENT_NOTE = "The meeting can be started once the booking is paid. " + _LINKS_NOTE


def rescheduled_message(
    *, old_start: datetime, old_end: datetime, start: datetime, end: datetime, timezone: str
) -> ChatMessage:
    """The thread reply under a booking's message when its time changes; also shown in the
    channel, as a changed booking must not go unnoticed."""
    after = format_time_range(start, end, timezone)
    return ChatMessage(
        title="Rescheduled",
        summary=f"Rescheduled to {after}",
        facts=(
            time_fact("Was", old_start, old_end, timezone),
            time_fact("Now", start, end, timezone),
        ),
        note="The meeting moved with it; the client's and the host's links stay the same.",
        broadcast=True,
    )


def cancelled_reply(
    *, service_name: str, client: str, start: datetime, end: datetime, timezone: str
) -> ChatMessage:
    """The thread reply under a booking's message when it is cancelled, also shown in the channel."""
    when = format_time_range(start, end, timezone)
    return ChatMessage(
        title=f"Cancelled: {service_name}",
        summary=f"{client or 'A client'} cancelled {service_name}, {when}",
        facts=(time_fact("Was", start, end, timezone), Fact("Client", client or "A client")),
        note="The video meeting was deleted; its links no longer open it.",
        broadcast=True,
    )


def starting_message(
    *, service_name: str, provider_name: str, client: str, host_link: str
) -> ChatMessage:
    """The thread reply at the meeting's opening time."""
    return ChatMessage(
        title=f"Starting soon: {service_name}",
        summary=f"{client or 'A client'}'s meeting with {provider_name} is opening",
        facts=(Fact("Client", client or "A client"), Fact("Provider", provider_name)),
        buttons=(LinkButton("Open as host", host_link, primary=True),),
        note="The client's link opens the meeting from now on.",
    )


def ended_message(
    *,
    service_name: str,
    provider_name: str,
    client: str,
    reference: str,
    start: datetime,
    end: datetime,
    timezone: str,
) -> ChatMessage:
    """A booking that had already ended when meetbot heard of it: told once, no meeting made."""
    return ChatMessage(
        title=f"Too late for a meeting: {service_name}",
        summary=f"{client or 'A client'}'s booking with {provider_name} had already ended",
        text=f"Booking {reference} had already ended when meetbot heard of it, so no video meeting "
        "was made for it. Nothing else needs doing.",
        facts=(
            time_fact("When", start, end, timezone),
            Fact("Client", client or "A client"),
            Fact("Provider", provider_name),
        ),
    )


def class_message(
    *,
    service_name: str,
    provider_name: str,
    when: str,
    seats: list[tuple[str, str, str]],
    host_link: str,
    meeting_id: str,
    shown_when: tuple[Segment, ...] = (),
) -> ChatMessage:
    """A group class (S7): one message for the class, listing its seats (client, booking, the
    client's own link)."""
    body: list[Segment] = []
    for client, code, link in seats:
        body += [
            Text(f"{'' if not body else chr(10)}• {client or 'A client'} ({code}): "),
            Link(link),
        ]
    return ChatMessage(
        title=f"Group class: {service_name}",
        summary=f"{service_name} with {provider_name}, {when}: {len(seats)} seat(s)",
        facts=(
            Fact("When", when, shown=shown_when),
            Fact("Provider", provider_name),
            Fact("Seats", str(len(seats))),
        ),
        body=tuple(body),
        buttons=(LinkButton("Host link", host_link),),
        actions=(ActionButton("Start meeting now", START_ACTION, meeting_id, "primary"),),
        note="Each client has a link of their own, all leading to this one meeting. This message "
        "is updated as clients book and cancel.",
    )
