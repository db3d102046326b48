"""The `/meetings` command grammar as a table: what a person types and the command it becomes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands.grammar import USAGE, channel_mention, parse, user_mention
from bot.commands.help import GROUPS, HELP, help_reply
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
from bot.domain import ChatPlatform

PARSED: list[tuple[str, Command]] = [
    ("", Help()),
    ("   ", Help()),
    ("help", Help()),
    ("help me please", Help()),
    ("HELP", Help()),
    ("frobnicate now", Help(unknown="frobnicate")),
    ("status", Status()),
    ("Status", Status()),
    ("connect simplybook", Connect("simplybook")),
    ("connect SimplyBook.me", Connect("simplybook")),
    ("connect zoom", Connect("zoom")),
    ("connect teams", Connect("teams")),
    ("disconnect zoom", Disconnect("zoom")),
    ("disconnect Teams", Disconnect("teams")),
    ("connect webhook", Connect("webhook")),
    ("disconnect webhook", Disconnect("webhook")),
    ("webhook rotate", WebhookSecret("rotate")),
    ("webhook Retire-Old", WebhookSecret("retire-old")),
    ("company name Kyiv Yoga  Studio", NameCompany("Kyiv Yoga Studio")),
    ("Company NAME Ölena's", NameCompany("Ölena's")),
    ("enable", SetFeature(True)),
    ("disable", SetFeature(False)),
    ("services", ListServices()),
    ("providers", ListProviders()),
    ("service enable Online consultation", SetService("Online consultation", True)),
    ("service disable Yoga", SetService("Yoga", False)),
    ("service on Yoga", SetService("Yoga", True)),
    ("service OFF Yoga  class", SetService("Yoga class", False)),
    (
        "provider Olena Koval zoom olena@studio.com",
        ProviderZoom("Olena Koval", "olena@studio.com"),
    ),
    ("provider Olena zoom Olena@Studio.COM", ProviderZoom("Olena", "olena@studio.com")),
    (
        "provider Olena zoom <mailto:olena@studio.com|olena@studio.com>",
        ProviderZoom("Olena", "olena@studio.com"),
    ),
    ("provider Olena Koval teams", ProviderTeams("Olena Koval")),
    ("provider Olena channel", ProviderChannel("Olena", None)),
    ("provider Olena channel <#C123>", ProviderChannel("Olena", Mention("C123"))),
    (
        "provider Olena channel <#C123|olena-bookings>",
        ProviderChannel("Olena", Mention("C123", "olena-bookings")),
    ),
    ("provider Olena staff <@U42>", ProviderStaff("Olena", Mention("U42"))),
    ("provider Olena staff <@U42|olena>", ProviderStaff("Olena", Mention("U42", "olena"))),
    # The last keyword splits name from setting, so a name may contain a keyword word.
    ("provider Zoom Teams Lead teams", ProviderTeams("Zoom Teams Lead")),
    ("role <@U7> senior", SetRole(Mention("U7"), Role.SENIOR)),
    ("role <@U7> ADMIN", SetRole(Mention("U7"), Role.ADMIN)),
    ("role <@U7|maria> junior", SetRole(Mention("U7", "maria"), Role.JUNIOR)),
    ("role <@U7> none", SetRole(Mention("U7"), None)),
    ("role <@U7> remove", SetRole(Mention("U7"), None)),
    ("start 1234", StartMeeting("1234")),
    ("start #AB12", StartMeeting("AB12")),
    ("report", Report()),
    ("report today", Report(start="today")),
    ("report 2026-12-01 2026-12-31", Report(start="2026-12-01", end="2026-12-31")),
    ("report Yesterday Tomorrow", Report(start="yesterday", end="tomorrow")),
    ("report service Yoga", Report(service="Yoga")),
    ("report today provider Olena Koval", Report(start="today", provider="Olena Koval")),
    (
        "report 2026-12-01 2026-12-31 service Yoga class provider Olena",
        Report("2026-12-01", "2026-12-31", service="Yoga class", provider="Olena"),
    ),
    ("audit", Audit()),
    ("digest on", SetDigest(True)),
    ("digest OFF", SetDigest(False)),
    ("digest at 8", SetDigest(True, 8)),
    ("digest at 0", SetDigest(True, 0)),
    ("digest at 23:00", SetDigest(True, 23)),
    ("template", TemplateCommand("show")),
    (
        "template provider : Hello [client]",
        TemplateCommand("set", "provider", "company", "", "Hello [client]"),
    ),
    (
        "template client service Yoga class: Join at [online_meeting_link]",
        TemplateCommand("set", "client", "service", "Yoga class", "Join at [online_meeting_link]"),
    ),
    (
        "template provider provider Olena reset",
        TemplateCommand("reset", "provider", "provider", "Olena", ""),
    ),
    ("template client reset", TemplateCommand("reset", "client", "company", "", "")),
    # A template's text keeps its own line breaks and inner spacing.
    (
        "template client :  Line one\n\n  Line  two  ",
        TemplateCommand("set", "client", "company", "", "Line one\n\n  Line  two"),
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), PARSED, ids=[text or "<empty>" for text, _ in PARSED]
)
def test_text_parses_to_its_command(text: str, expected: Command) -> None:
    assert parse(text) == expected


MALFORMED: list[tuple[str, str, str]] = [
    # (typed, command whose usage is shown, words of the problem)
    ("status now", "status", "`status` takes no arguments"),
    ("enable everything", "enable", "`enable` takes no arguments"),
    ("disable all", "disable", "takes no arguments"),
    ("services list", "services", "takes no arguments"),
    ("providers all", "providers", "takes no arguments"),
    ("audit log", "audit", "takes no arguments"),
    ("connect", "connect", "say what to connect: simplybook, zoom, teams or webhook"),
    ("connect slack", "connect", "say what to connect"),
    ("connect zoom teams", "connect", "say what to connect"),
    ("disconnect simplybook", "disconnect", "say what to disconnect: zoom, teams or webhook"),
    ("webhook", "webhook", "say `rotate`"),
    ("webhook delete", "webhook", "say `rotate`"),
    ("company", "company", "say `name`"),
    ("company name", "company", "say `name`"),
    ("company rename Studio", "company", "say `name`"),
    ("company name " + "x" * 101, "company", "at most 100 characters"),
    ("service Yoga", "service", "say `enable` or `disable`"),
    ("service enable", "service", "say `enable` or `disable`"),
    ("provider Olena", "provider", "then `zoom`, `teams`, `channel` or `staff`"),
    ("provider zoom a@b.co", "provider", "name the provider"),
    ("provider Olena zoom not-an-address", "provider", "give the Zoom user's e-mail address"),
    ("provider Olena zoom a@b.co c@d.co", "provider", "give the Zoom user's e-mail address"),
    ("provider Olena teams now", "provider", "`teams` takes nothing after it"),
    ("provider Olena channel #bookings", "provider", "pick the channel with #"),
    ("provider Olena channel <#C1> <#C2>", "provider", "pick the channel with #"),
    ("provider Olena staff olena", "provider", "mention the staff member with @"),
    ("role maria senior", "role", "mention one person with @"),
    ("role <@U7>", "role", "mention one person with @"),
    ("role <@U7> boss", "role", "`boss` is not a role"),
    ("start", "start", "give the booking's code or number"),
    ("start 12 34", "start", "give the booking's code or number"),
    ("report last-week", "report", "`last-week` is not a date"),
    ("report 2026-12-01 2026-12-02 2026-12-03", "report", "`2026-12-03` is not a date"),
    ("report service", "report", "name the service or provider after the word"),
    ("digest", "digest", "an hour from 0 to 23"),
    ("digest at 24", "digest", "an hour from 0 to 23"),
    ("digest at noon", "digest", "an hour from 0 to 23"),
    ("digest sometimes", "digest", "an hour from 0 to 23"),
    ("template owner : hi", "template", "say which template: `provider` or `client`"),
    ("template client", "template", "put `:` before the template's text"),
    ("template client service : hi", "template", "name a `service NAME` or `provider NAME`"),
    ("template client channel x : hi", "template", "name a `service NAME` or `provider NAME`"),
    ("template client :   ", "template", "write the template's text after `:`"),
]


@pytest.mark.parametrize(
    ("text", "command", "problem"), MALFORMED, ids=[t for t, _, _ in MALFORMED]
)
def test_malformed_text_says_what_is_wrong_and_shows_the_usage(
    text: str, command: str, problem: str
) -> None:
    parsed = parse(text)
    assert isinstance(parsed, Invalid)
    assert problem in parsed.problem
    assert parsed.usage == USAGE[command]


def test_text_over_the_limit_is_not_parsed() -> None:
    text = "status " + "x" * MAX_COMMAND_CHARS
    assert parse(text) == TooLong(len(text))


def test_text_at_the_limit_is_still_parsed() -> None:
    text = "service enable " + "y" * (MAX_COMMAND_CHARS - len("service enable "))
    assert parse(text) == SetService("y" * (MAX_COMMAND_CHARS - 15), True)


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("<@U1>", Mention("U1")),
        ("<@U1|maria>", Mention("U1", "maria")),
        ("<@29:1a-b.c>", Mention("29:1a-b.c")),  # Teams user ids
        ("@maria", None),
        ("<@>", None),
        ("<#C1>", None),
    ],
)
def test_user_mentions(token: str, expected: Mention | None) -> None:
    assert user_mention(token) == expected


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("<#C1>", Mention("C1")),
        ("<#C1|general>", Mention("C1", "general")),
        ("<#19:abc@thread.tacv2>", Mention("19:abc@thread.tacv2")),  # Teams channel ids
        ("#general", None),
        ("<@U1>", None),
    ],
)
def test_channel_mentions(token: str, expected: Mention | None) -> None:
    assert channel_mention(token) == expected


@pytest.mark.parametrize(
    ("mention", "sigil", "shown"),
    [(Mention("U1", "maria"), "@", "@maria"), (Mention("C1"), "#", "#C1")],
)
def test_a_mention_displays_its_label_or_else_its_id(
    mention: Mention, sigil: str, shown: str
) -> None:
    assert mention.display(sigil) == shown


def test_every_command_word_has_a_usage_line() -> None:
    for word in USAGE:
        parsed = parse(word)
        assert not (isinstance(parsed, Help) and parsed.unknown), word


@settings(settings.get_profile("core"))
@given(st.text(max_size=300))
def test_any_text_parses_to_some_command_without_raising(text: str) -> None:
    parsed = parse(text)
    if isinstance(parsed, Invalid):
        assert parsed.problem and parsed.usage in USAGE.values()


@settings(settings.get_profile("core"))
@given(st.sampled_from(sorted(USAGE)), st.lists(st.text(min_size=1, max_size=12), max_size=5))
def test_known_words_never_read_as_unknown(word: str, rest: list[str]) -> None:
    parsed = parse(" ".join([word, *rest]))
    assert not (isinstance(parsed, Help) and parsed.unknown)


def test_every_command_has_a_line_of_help() -> None:
    described = {entry.command for entry in HELP}
    assert described == set(USAGE), "add a `CommandHelp` entry for each new command"
    assert {entry.group for entry in HELP} == set(GROUPS)


@pytest.mark.parametrize("platform", list(ChatPlatform))
def test_help_describes_every_command_on_its_line(platform: ChatPlatform) -> None:
    text = help_reply(Help(), platform).message.text
    teams = platform is ChatPlatform.TEAMS
    for entry in HELP:
        typed = entry.typed if teams else f"`/meetings {entry.typed}`"
        says = entry.says.replace("`", "") if teams else entry.says
        assert f"\n{typed} — {says}\n" in text, entry
    assert len(text) < 3000, "one Slack section holds at most 3,000 characters"
    if platform is ChatPlatform.TEAMS:
        assert "`" not in text and "/meetings" not in text
    else:
        assert "`/meetings connect simplybook` — " in text
