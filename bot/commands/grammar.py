"""The `/meetings` command grammar, shared by every chat front-end.

Adapters hand over the text after the command with mentions normalised to `<@USER>` and
`<#CHANNEL>` (Slack's escaped forms `<@U1|name>` and `<#C1|name>` are accepted as they are).
Parsing is pure: it never looks anything up. Anyone in a workspace can send text before any role
check, so every pattern here runs on RE2 (linear time, no backtracking) and text longer than
`MAX_COMMAND_CHARS` is not parsed at all.
"""

from __future__ import annotations

from collections.abc import Callable

import re2

from bot.commands.kinds import (
    MAX_COMMAND_CHARS,
    Audit,
    Command,
    Connect,
    Disconnect,
    Help,
    Invalid,
    ListProviders,
    ListServices,
    Mention,
    NameCompany,
    ProviderChannel,
    ProviderStaff,
    ProviderTeams,
    ProviderZoom,
    Report,
    Role,
    SetDigest,
    SetFeature,
    SetRole,
    SetService,
    StartMeeting,
    Status,
    TemplateCommand,
    TooLong,
    WebhookSecret,
)

_USER = re2.compile(r"^<@([A-Za-z0-9._:-]+)(?:\|([^>]*))?>$")
_CHANNEL = re2.compile(r"^<#([A-Za-z0-9._:@-]+)(?:\|([^>]*))?>$")
_EMAIL = re2.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MAILTO = re2.compile(r"^<mailto:([^|>]+)(?:\|[^>]*)?>$")


def user_mention(token: str) -> Mention | None:
    found = _USER.match(token)
    return Mention(found.group(1), found.group(2) or "") if found else None


def channel_mention(token: str) -> Mention | None:
    found = _CHANNEL.match(token)
    return Mention(found.group(1), found.group(2) or "") if found else None


USAGE = {
    "help": "help",
    "status": "status",
    "connect": "connect simplybook | connect zoom | connect teams | connect webhook",
    "disconnect": "disconnect zoom | disconnect teams | disconnect webhook",
    "webhook": "webhook rotate | webhook retire-old",
    "company": "company name NAME",
    "enable": "enable",
    "disable": "disable",
    "services": "services",
    "service": "service enable NAME | service disable NAME",
    "providers": "providers",
    "provider": "provider NAME zoom EMAIL | provider NAME teams | provider NAME channel #channel | "
    "provider NAME staff @user",
    "role": "role @user admin|senior|junior|none",
    "start": "start BOOKING",
    "report": "report [FROM] [TO] [service NAME] [provider NAME]",
    "audit": "audit",
    "digest": "digest on | digest off | digest at HOUR",
    "template": "template | template provider|client [service NAME | provider NAME] : TEXT | "
    "template provider|client [service NAME | provider NAME] reset",
}
EXAMPLES = (
    "status",
    "connect simplybook",
    "connect zoom",
    "enable",
    "service enable Online consultation",
    "provider Olena Koval zoom olena@studio.com",
    "provider Olena Koval channel #olena-bookings",
    "provider Olena Koval staff @olena",
    "role @maria senior",
    "report 2026-12-01 2026-12-31 provider Olena Koval",
    "digest at 8",
)
MAX_COMPANY_NAME_CHARS = 100
DATE_WORDS = ("today", "tomorrow", "yesterday")
_DATE = re2.compile(r"^\d{4}-\d{2}-\d{2}$")
_PROVIDER_KEYWORDS = ("zoom", "teams", "channel", "staff")


def parse(text: str) -> Command:
    if len(text) > MAX_COMMAND_CHARS:
        return TooLong(len(text))
    words = text.split()
    if not words:
        return Help()
    head, rest = words[0].lower(), words[1:]
    if head == "template":  # its text keeps its own spacing and line breaks
        return _template(text.strip()[len(words[0]) :])
    parser = _PARSERS.get(head)
    if parser is None:
        return Help(unknown=words[0])
    return parser(rest)


def _invalid(name: str, problem: str) -> Invalid:
    return Invalid(problem, USAGE[name])


def _no_args(command: Command, name: str) -> Callable[[list[str]], Command]:
    return lambda rest: command if not rest else _invalid(name, f"`{name}` takes no arguments")


def _connect(rest: list[str], name: str = "connect") -> Command:
    allowed = (
        ("simplybook", "zoom", "teams", "webhook")
        if name == "connect"
        else ("zoom", "teams", "webhook")
    )
    if len(rest) != 1 or rest[0].lower().replace(".me", "") not in allowed:
        listed = ", ".join(allowed[:-1]) + " or " + allowed[-1]
        return _invalid(name, f"say what to {name}: {listed}")
    target = rest[0].lower().replace(".me", "")
    return Connect(target) if name == "connect" else Disconnect(target)


def _webhook(rest: list[str]) -> Command:
    action = rest[0].lower() if len(rest) == 1 else ""
    if action not in ("rotate", "retire-old"):
        return _invalid(
            "webhook", "say `rotate` (a new secret) or `retire-old` (drop the old ones)"
        )
    return WebhookSecret(action)


def _company(rest: list[str]) -> Command:
    name = " ".join(rest[1:])
    if not rest or rest[0].lower() != "name" or not name:
        return _invalid("company", "say `name` and the business's name, as clients should see it")
    if len(name) > MAX_COMPANY_NAME_CHARS:
        return _invalid("company", f"a name has at most {MAX_COMPANY_NAME_CHARS} characters")
    return NameCompany(name)


def _service(rest: list[str]) -> Command:
    if len(rest) < 2 or rest[0].lower() not in ("enable", "disable", "on", "off"):
        return _invalid("service", "say `enable` or `disable`, then the service's name")
    return SetService(" ".join(rest[1:]), rest[0].lower() in ("enable", "on"))


def _provider(rest: list[str]) -> Command:
    lowered = [word.lower() for word in rest]
    positions = [i for i, word in enumerate(lowered) if word in _PROVIDER_KEYWORDS and i > 0]
    if not positions:
        return _invalid("provider", "name the provider, then `zoom`, `teams`, `channel` or `staff`")
    at = positions[-1]
    name, keyword, values = " ".join(rest[:at]), lowered[at], rest[at + 1 :]
    if keyword == "teams":
        if values:
            return _invalid("provider", "`teams` takes nothing after it")
        return ProviderTeams(name)
    if keyword == "zoom":
        if len(values) != 1 or not _EMAIL.match(_unlink(values[0])):
            return _invalid("provider", "give the Zoom user's e-mail address")
        return ProviderZoom(name, _unlink(values[0]).lower())
    if keyword == "channel":
        if not values:
            return ProviderChannel(name, None)
        channel = channel_mention(values[0]) if len(values) == 1 else None
        if channel is None:
            return _invalid(
                "provider", "pick the channel with # so it becomes a link, e.g. #bookings"
            )
        return ProviderChannel(name, channel)
    user = user_mention(values[0]) if len(values) == 1 else None
    if user is None:
        return _invalid("provider", "mention the staff member with @ so it becomes a link")
    return ProviderStaff(name, user)


def _unlink(token: str) -> str:
    """Slack turns e-mail addresses into `<mailto:a@b|a@b>`."""
    found = _MAILTO.match(token)
    return found.group(1) if found else token


def _role(rest: list[str]) -> Command:
    user = user_mention(rest[0]) if len(rest) == 2 else None
    if user is None:
        return _invalid("role", "mention one person with @, then the role")
    word = rest[1].lower()
    if word in ("none", "remove"):
        return SetRole(user, None)
    try:
        return SetRole(user, Role(word))
    except ValueError:
        return _invalid("role", f"`{rest[1]}` is not a role; use admin, senior, junior or none")


def _report(rest: list[str]) -> Command:
    dates: list[str] = []
    while rest and len(dates) < 2 and (_DATE.match(rest[0]) or rest[0].lower() in DATE_WORDS):
        dates.append(rest.pop(0).lower())
    filters: dict[str, list[str]] = {}
    current: list[str] | None = None
    for word in rest:
        if word.lower() in ("service", "provider") and word.lower() not in filters:
            current = filters[word.lower()] = []
        elif current is None:
            return _invalid(
                "report", f"`{word}` is not a date (YYYY-MM-DD, today, tomorrow) nor a filter"
            )
        else:
            current.append(word)
    if any(not words for words in filters.values()):
        return _invalid("report", "name the service or provider after the word")
    return Report(
        start=dates[0] if dates else "",
        end=dates[1] if len(dates) > 1 else "",
        service=" ".join(filters.get("service", [])),
        provider=" ".join(filters.get("provider", [])),
    )


def _template(raw: str) -> Command:
    head, colon, body = raw.partition(":")
    words = head.split()
    if not words and not colon:
        return TemplateCommand("show")
    kind = words[0].lower() if words else ""
    if kind not in ("provider", "client"):
        return _invalid("template", "say which template: `provider` or `client`")
    scope_words = words[1:]
    action = "set" if colon else "reset"
    if not colon:
        if not scope_words or scope_words[-1].lower() != "reset":
            return _invalid("template", "put `:` before the template's text, or end with `reset`")
        scope_words = scope_words[:-1]
    scope, name = "company", ""
    if scope_words:
        if scope_words[0].lower() not in ("service", "provider") or len(scope_words) < 2:
            return _invalid("template", "name a `service NAME` or `provider NAME`, or nothing")
        scope, name = scope_words[0].lower(), " ".join(scope_words[1:])
    if action == "set" and not body.strip():
        return _invalid("template", "write the template's text after `:`")
    return TemplateCommand(action, kind, scope, name, body.strip())


def _digest(rest: list[str]) -> Command:
    words = [word.lower() for word in rest]
    if words in (["on"], ["off"]):
        return SetDigest(words[0] == "on")
    if len(words) == 2 and words[0] == "at" and words[1].removesuffix(":00").isdigit():
        hour = int(words[1].removesuffix(":00"))
        if 0 <= hour <= 23:
            return SetDigest(True, hour)
    return _invalid("digest", "say `on`, `off`, or `at` and an hour from 0 to 23")


_PARSERS: dict[str, Callable[[list[str]], Command]] = {
    "help": lambda rest: Help(),
    "status": _no_args(Status(), "status"),
    "connect": _connect,
    "disconnect": lambda rest: _connect(rest, "disconnect"),
    "enable": _no_args(SetFeature(True), "enable"),
    "disable": _no_args(SetFeature(False), "disable"),
    "services": _no_args(ListServices(), "services"),
    "service": _service,
    "providers": _no_args(ListProviders(), "providers"),
    "provider": _provider,
    "role": _role,
    "report": _report,
    "audit": _no_args(Audit(), "audit"),
    "digest": _digest,
    "webhook": _webhook,
    "company": _company,
    "start": lambda rest: (
        StartMeeting(rest[0].lstrip("#"))
        if len(rest) == 1
        else _invalid("start", "give the booking's code or number")
    ),
}
