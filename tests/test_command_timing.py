"""The in-time-or-defer rule both chat front-ends use, and the authorization table, in memory."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bot.commands import Reply, answer_in_time, say
from bot.commands.authorization import RULES, Access, rule_for
from bot.commands.grammar import USAGE, parse
from bot.commands.kinds import Role


def _answer_after(seconds: float, finished: list[str]) -> Callable[[], Awaitable[Reply]]:
    """A command that takes `seconds`, noting whether it finished or was cancelled."""

    async def run() -> Reply:
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            finished.append("cancelled")
            raise
        finished.append("done")
        return say("answered")

    return run


def test_a_quick_command_is_answered_and_nothing_is_deferred() -> None:
    deferred: list[str] = []
    finished: list[str] = []
    reply = asyncio.run(
        answer_in_time(
            _answer_after(0, finished), seconds=1.0, defer=lambda: deferred.append("job")
        )
    )
    assert reply is not None and reply.message.title == "answered"
    assert deferred == [] and finished == ["done"]


def test_a_slow_command_is_stopped_and_handed_to_a_job() -> None:
    deferred: list[str] = []
    finished: list[str] = []

    async def scenario() -> Reply | None:
        reply = await answer_in_time(
            _answer_after(5, finished), seconds=0.05, defer=lambda: deferred.append("job")
        )
        await asyncio.sleep(0)  # let the cancellation reach the command
        return reply

    assert asyncio.run(scenario()) is None
    assert deferred == ["job"] and finished == ["cancelled"]


def test_without_a_way_to_defer_the_answer_is_awaited() -> None:
    finished: list[str] = []
    reply = asyncio.run(answer_in_time(_answer_after(0.1, finished), seconds=0.01, defer=None))
    assert reply is not None and finished == ["done"]


def test_every_command_word_has_a_rule() -> None:
    for word in USAGE:
        rule_for(parse(word))  # a KeyError here: a command the table forgot


def test_set_up_commands_need_an_admin_and_lists_need_staff() -> None:
    junior, senior = Access(Role.JUNIOR), Access(Role.SENIOR)
    assert not junior.may_use(rule_for(parse("enable")))
    assert not senior.may_use(rule_for(parse("role <@U1> junior")))
    assert junior.may_use(rule_for(parse("services")))
    assert Access(None).may_use(rule_for(parse("help")))
    assert not Access(None).may_use(rule_for(parse("status")))


def test_only_connecting_a_booking_source_and_help_come_before_a_company_exists() -> None:
    before = {name for name, rule in RULES.items() if not rule.needs_company}
    assert before == {"help", "connect simplybook", "connect webhook"}
    assert not rule_for(parse("connect simplybook")).needs_company
    assert not rule_for(parse("connect webhook")).needs_company
    assert not rule_for(parse("no-such-command")).needs_company


def test_junior_staff_start_only_their_own_providers_meetings() -> None:
    tied = Access(Role.JUNIOR, provider="P1")
    assert tied.may_act_for("start", "P1")
    assert not tied.may_act_for("start", "P2")
    assert Access(Role.SENIOR).may_act_for("start", "P2")
    assert not Access(None, provider="P1").may_act_for("start", "P1")


def test_below_admin_teams_connects_only_a_providers_own_account() -> None:
    assert Access(Role.SENIOR).own_provider_only("connect teams")
    assert not Access(Role.ADMIN).own_provider_only("connect teams")
    assert Access(Role.JUNIOR).own_provider_only("report")
    assert not Access(Role.SENIOR).own_provider_only("report")
