"""`help`, and the answers to a command typed wrong or too long."""

from __future__ import annotations

import difflib

from bot import templates
from bot.commands.grammar import EXAMPLES, USAGE
from bot.commands.kinds import MAX_COMMAND_CHARS, Help, Invalid, TooLong
from bot.commands.reply import Reply, say


def help_reply(command: Help) -> Reply:
    lines = [f"`/meetings {usage}`" for usage in USAGE.values()]
    intro = ""
    if command.unknown:
        close = difflib.get_close_matches(command.unknown.lower(), list(USAGE), n=1)
        hint = f" Did you mean `{close[0]}`?" if close else ""
        intro = f"I don't know the command “{command.unknown}”.{hint}\n\n"
    examples = "\n".join(f"• `/meetings {example}`" for example in EXAMPLES)
    return say("meetbot commands", intro + "\n".join(lines) + "\n\nExamples:\n" + examples)


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
