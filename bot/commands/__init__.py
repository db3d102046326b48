"""`/meetings`: the command grammar, one authorization table, one reply type, and a small module
per capability.

    kinds, grammar     the commands as values, and the parser (pure, RE2, bounded)
    authorization      command -> least role, needs a company, own provider only
    reply, deps        the one `Reply`; what commands need (`AdminDeps`)
    setup, accounts    status, online meetings on/off, SimplyBook.me form; Zoom and Teams
    catalog, staff     services and providers; roles and staff tied to providers
    reports, templates the report, audit log and digest; message templates
    meetings, buttons  starting a meeting early; buttons on meetbot's messages
    help, dispatch     help and wrong input; `run_command`
    timing             answer within the platform's wait or defer to a job

Front-ends import from here.
"""

from bot.commands.buttons import run_button
from bot.commands.deps import AdminDeps, actor_key
from bot.commands.dispatch import run_command
from bot.commands.grammar import EXAMPLES, USAGE, channel_mention, parse, user_mention
from bot.commands.kinds import MAX_COMMAND_CHARS, Command, Role, TooLong
from bot.commands.reply import SIMPLYBOOK_FORM, Reply, say
from bot.commands.setup import submit_simplybook
from bot.commands.timing import answer_in_time

__all__ = [
    "EXAMPLES",
    "MAX_COMMAND_CHARS",
    "SIMPLYBOOK_FORM",
    "USAGE",
    "AdminDeps",
    "Command",
    "Reply",
    "Role",
    "TooLong",
    "actor_key",
    "answer_in_time",
    "channel_mention",
    "parse",
    "run_button",
    "run_command",
    "say",
    "submit_simplybook",
    "user_mention",
]
