"""What a person's Home in the chat app shows, as plain data: their own upcoming meetings (as a
provider's staff member) and, for admins, the company's set-up and its open problems with the
buttons that fix them.

Built by `bot.usecases.home`, rendered by the chat adapter (Slack: the App Home tab). Text is
plain, as in `bot.messages`: the renderer escapes it; `HomeProblem.text` may name channels the way
alert messages do (`<#C1>`). The view is bounded here, whatever the company's size, so a renderer
never meets more than a screen's worth.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime

from bot.messages import ActionButton, Fact

MAX_MEETINGS = 10  # the soonest; the rest are in `/meetings report`
MAX_PROBLEMS = 10  # the oldest open problems first; the rest come as direct messages anyway


@dataclass(frozen=True, slots=True)
class HomeMeeting:
    title: str  # the service, and the client (or "group class")
    start: datetime
    end: datetime
    when: str  # the time in the company's zone, for clients that cannot show each reader's own
    host_link: str
    state: str = ""  # why there is no Start button: awaiting payment, open for clients already
    start_button: ActionButton | None = None


@dataclass(frozen=True, slots=True)
class HomeProblem:
    title: str
    text: str  # what is wrong and what fixes it
    since: str
    fix: ActionButton | None = None


@dataclass(frozen=True, slots=True)
class HomeView:
    title: str
    intro: str
    meetings: tuple[HomeMeeting, ...] = ()
    meetings_note: str = ""  # no meetings, more than shown, or why none can be shown
    admin: bool = False  # an admin's Home has the set-up and problems sections
    setup: tuple[Fact, ...] = ()
    todo: tuple[str, ...] = ()  # set-up steps still missing
    problems: tuple[HomeProblem, ...] = ()
    problems_note: str = ""
    note: str = ""

    def digest(self) -> str:
        """Identifies what the view shows, so an unchanged view is not published again."""
        encoded = json.dumps(asdict(self), sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(encoded.encode()).hexdigest()
