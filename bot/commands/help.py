"""`help`, and the answers to a command typed wrong or too long.

Help is a table: one entry per way of typing a command, with one line for people and the group it
belongs to. Adding a command is one entry here (a core test checks every command has one). Slack
shows commands as `/meetings …` code; Teams, where commands are typed to meetbot without the
`/meetings` prefix, gets them as plain words.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from bot import templates
from bot.commands.grammar import EXAMPLES, USAGE
from bot.commands.kinds import MAX_COMMAND_CHARS, Help, Invalid, TooLong
from bot.commands.reply import Reply, say
from bot.domain import ChatPlatform

SET_UP = "Set-up"
CATALOG = "Services and providers"
MEETINGS = "Meetings"
REPORTS = "Reports"
GROUPS = (SET_UP, CATALOG, MEETINGS, REPORTS)


@dataclass(frozen=True, slots=True)
class CommandHelp:
    command: str  # the grammar's name for it (a key of `USAGE`)
    group: str
    typed: str  # how it is typed, after `/meetings`
    says: str  # what it does, in one line


HELP = (
    CommandHelp("status", SET_UP, "status", "the whole set-up, and anything that needs attention"),
    CommandHelp(
        "connect", SET_UP, "connect simplybook", "link your SimplyBook.me account (a private form)"
    ),
    CommandHelp(
        "connect", SET_UP, "connect zoom", "sign in to the Zoom account that hosts meetings"
    ),
    CommandHelp(
        "connect",
        SET_UP,
        "connect teams",
        "sign in to a Microsoft account that hosts Teams meetings",
    ),
    CommandHelp("disconnect", SET_UP, "disconnect zoom", "stop using the Zoom account"),
    CommandHelp("disconnect", SET_UP, "disconnect teams", "stop using the Microsoft account"),
    CommandHelp(
        "connect",
        SET_UP,
        "connect webhook",
        "take bookings from another booking system: its URL and secret, shown once, privately",
    ),
    CommandHelp(
        "webhook",
        SET_UP,
        "webhook rotate",
        "a new webhook secret; the old one works until `webhook retire-old`",
    ),
    CommandHelp("disconnect", SET_UP, "disconnect webhook", "stop taking bookings by webhook"),
    CommandHelp(
        "company", SET_UP, "company name NAME", "the business's name, as clients' pages show it"
    ),
    CommandHelp("enable", SET_UP, "enable", "turn online meetings on for the company"),
    CommandHelp("disable", SET_UP, "disable", "turn them off (no new meetings are made)"),
    CommandHelp(
        "role", SET_UP, "role @person admin", "give someone a role: admin, senior, junior or none"
    ),
    CommandHelp("services", CATALOG, "services", "the services, and which have online meetings"),
    CommandHelp(
        "service", CATALOG, "service enable NAME", "online meetings for one service (or `disable`)"
    ),
    CommandHelp(
        "providers", CATALOG, "providers", "the providers, their meeting hosts and channels"
    ),
    CommandHelp(
        "provider", CATALOG, "provider NAME zoom EMAIL", "the Zoom user who hosts their meetings"
    ),
    CommandHelp(
        "provider", CATALOG, "provider NAME teams", "their meetings on Microsoft Teams instead"
    ),
    CommandHelp(
        "provider", CATALOG, "provider NAME channel #channel", "where their bookings are posted"
    ),
    CommandHelp(
        "provider",
        CATALOG,
        "provider NAME staff @person",
        "who they are in chat: told of every change, may start their meetings",
    ),
    CommandHelp(
        "start", MEETINGS, "start BOOKING", "open a booking's meeting now, by its code or number"
    ),
    CommandHelp(
        "template", MEETINGS, "template", "the message templates in use, and their variables"
    ),
    CommandHelp(
        "template",
        MEETINGS,
        "template provider : TEXT",
        "your own wording of the provider's message",
    ),
    CommandHelp(
        "template", MEETINGS, "template client : TEXT", "a text for clients, to copy into e-mails"
    ),
    CommandHelp(
        "template",
        MEETINGS,
        "template provider reset",
        "back to the standard wording (also `client`)",
    ),
    CommandHelp(
        "report",
        REPORTS,
        "report [FROM] [TO]",
        "online meetings by direct message, with a CSV file",
    ),
    CommandHelp("audit", REPORTS, "audit", "who changed what in the set-up, newest first"),
    CommandHelp(
        "digest", REPORTS, "digest at 8", "the admins' morning digest at that hour (or `on`, `off`)"
    ),
    CommandHelp("help", REPORTS, "help", "this list"),
)


def help_reply(command: Help, platform: ChatPlatform = ChatPlatform.SLACK) -> Reply:
    intro = ""
    if command.unknown:
        close = difflib.get_close_matches(command.unknown.lower(), list(USAGE), n=1)
        hint = f" Did you mean {_command(close[0], platform)}?" if close else ""
        intro = f"I don't know the command “{command.unknown}”.{hint}\n\n"
    if platform is ChatPlatform.TEAMS:
        intro += "Write a command to me here, or in a channel after @meetbot.\n\n"
    else:
        intro += "Type `/meetings` and a command; only you see the answer.\n\n"
    sections = [
        "\n".join(
            [_heading(group, platform)]
            + [
                f"{_command(e.typed, platform)} — {_words(e.says, platform)}"
                for e in HELP
                if e.group == group
            ]
        )
        for group in GROUPS
    ]
    listed = {entry.typed for entry in HELP}
    examples = "\n".join(
        f"• {_command(example, platform)}" for example in EXAMPLES if example not in listed
    )
    text = intro + "\n\n".join(sections) + f"\n\n{_heading('Examples', platform)}\n{examples}"
    return say("meetbot commands", text)


def _heading(group: str, platform: ChatPlatform) -> str:
    return group if platform is ChatPlatform.TEAMS else f"*{group}*"


def _command(typed: str, platform: ChatPlatform) -> str:
    return typed if platform is ChatPlatform.TEAMS else f"`/meetings {typed}`"


def _words(text: str, platform: ChatPlatform) -> str:
    return text.replace("`", "") if platform is ChatPlatform.TEAMS else text


def invalid_reply(command: Invalid) -> Reply:
    return say(
        "Not quite",
        f"{command.problem[:1].upper()}{command.problem[1:]}.\nUsage: `/meetings {command.usage}`",
    )


def too_long_reply(command: TooLong) -> Reply:
    return say(
        "That command is too long",
        f"A command can be at most {MAX_COMMAND_CHARS:,} characters long, and this one has "
        f"{command.length:,}, so I did not read it. Please shorten it and send it again "
        f"(a template's text can be up to {templates.MAX_LENGTH:,} characters).",
    )
