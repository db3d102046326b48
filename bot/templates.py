"""Message templates (S8): a company's own wording of the provider message and of a client text.

Variables are SimplyBook.me-style `[name]`. A template is checked when it is saved (unknown
variables are refused with the list of valid ones) and rendered into literal segments, so nothing
a client or an admin typed can become markup, a mention or a disguised link on any chat platform.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import re2

from bot.messages import Link, Segment, Text, When

VARIABLES: Mapping[str, str] = {
    "online_meeting_link": "the client's join link",
    "online_meeting_provider_link": "the provider's (host) link",
    "service": "the service's name",
    "provider": "the provider's name",
    "client": "the client's name",
    "start": "the start time, in each reader's time zone",
}
MAX_LENGTH = 2000
# RE2: linear time on whatever an admin pastes. \pZ: the Unicode spaces Python's \s also knows.
_VARIABLE = re2.compile(r"\[([^\[\]\s\pZ]{1,60})\]")


class TemplateKind(StrEnum):
    PROVIDER = "provider"  # the booking message in the provider's channel
    CLIENT = "client"  # a text admins copy into SimplyBook.me's e-mails to clients


class TemplateScope(StrEnum):
    COMPANY = "company"
    SERVICE = "service"
    PROVIDER = "provider"


@dataclass(frozen=True, slots=True)
class MessageTemplate:
    kind: TemplateKind
    scope: TemplateScope
    scope_id: str  # the service's or provider's external id; "" for the company
    body: str


@dataclass(frozen=True, slots=True)
class TemplateValues:
    client_link: str
    host_link: str
    service: str
    provider: str
    client: str
    start: datetime
    start_text: str  # the start in the company's zone, where a reader's zone cannot be used


def problems(body: str) -> list[str]:
    """What is wrong with a template, in plain words; empty when it can be saved."""
    found = []
    if not body.strip():
        found.append("the template is empty")
    if len(body) > MAX_LENGTH:
        found.append(f"the template is longer than {MAX_LENGTH} characters")
    unknown = sorted({name for name in _VARIABLE.findall(body) if name not in VARIABLES})
    if unknown:
        valid = ", ".join(f"[{name}]" for name in VARIABLES)
        listed = ", ".join(f"[{name}]" for name in unknown)
        found.append(f"unknown variable(s) {listed}; the valid ones are {valid}")
    return found


def render(body: str, values: TemplateValues) -> tuple[Segment, ...]:
    segments: list[Segment] = []
    position = 0
    for match in _VARIABLE.finditer(body):
        if match.start() > position:
            segments.append(Text(body[position : match.start()]))
        segments.append(_value(match.group(1), values) or Text(match.group(0)))
        position = match.end()
    if position < len(body):
        segments.append(Text(body[position:]))
    return tuple(segments)


def _value(name: str, values: TemplateValues) -> Segment | None:
    plain = {"service": values.service, "provider": values.provider, "client": values.client}
    if name in plain:
        return Text(plain[name])
    if name == "online_meeting_link":
        return Link(values.client_link)
    if name == "online_meeting_provider_link":
        return Link(values.host_link)
    if name == "start":
        return When(values.start, values.start_text)
    return None


def choose(
    templates: Sequence[MessageTemplate],
    kind: TemplateKind,
    *,
    service_id: str,
    provider_id: str,
) -> MessageTemplate | None:
    """The most specific template: the provider's, else the service's, else the company's."""
    wanted = (
        (TemplateScope.PROVIDER, provider_id),
        (TemplateScope.SERVICE, service_id),
        (TemplateScope.COMPANY, ""),
    )
    for scope, scope_id in wanted:
        for template in templates:
            if (template.kind, template.scope, template.scope_id) == (kind, scope, scope_id):
                return template
    return None


def as_plain_text(segments: Sequence[Segment]) -> str:
    """The rendered text as one string (links as their URLs, times in the company's zone)."""
    parts = []
    for segment in segments:
        if isinstance(segment, Text):
            parts.append(segment.text)
        elif isinstance(segment, Link):
            parts.append(segment.url)
        else:
            parts.append(segment.fallback)
    return "".join(parts)
