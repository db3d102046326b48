"""`run_command`: parse, check the authorization table, run the command's handler, and always
answer (a failure becomes a plain sentence, never internals)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.commands import accounts, catalog, meetings, reports, setup, staff, templates
from bot.commands.authorization import access_of, rule_for
from bot.commands.deps import AdminDeps
from bot.commands.grammar import parse
from bot.commands.help import help_reply, invalid_reply, too_long_reply
from bot.commands.kinds import (
    Audit,
    Command,
    Connect,
    Disconnect,
    Help,
    Invalid,
    ListProviders,
    ListServices,
    ProviderChannel,
    ProviderStaff,
    ProviderTeams,
    ProviderZoom,
    Report,
    SetDigest,
    SetFeature,
    SetRole,
    SetService,
    StartMeeting,
    Status,
    TemplateCommand,
    TooLong,
)
from bot.commands.reply import Reply, say
from bot.domain import Actor, Company
from bot.errors import MeetbotError, RetryLater

log = logging.getLogger("meetbot.commands")

# (deps, actor, company, command); the company is None only where the table allows it.
Handler = Callable[[AdminDeps, Actor, Any, Any], Awaitable[Reply]]


async def _answer_help(deps: AdminDeps, actor: Actor, company: Any, command: Any) -> Reply:
    if isinstance(command, Invalid):
        return invalid_reply(command)
    if isinstance(command, TooLong):
        return too_long_reply(command)
    return help_reply(command)


HANDLERS: dict[type[Command], Handler] = {
    Help: _answer_help,
    Invalid: _answer_help,
    TooLong: _answer_help,
    Status: setup.status,
    SetFeature: setup.set_feature,
    Connect: accounts.connect,
    Disconnect: accounts.disconnect,
    ListServices: catalog.list_services,
    SetService: catalog.set_service,
    ListProviders: catalog.list_providers,
    ProviderZoom: catalog.provider_zoom,
    ProviderChannel: catalog.provider_channel,
    ProviderTeams: catalog.provider_teams,
    ProviderStaff: staff.tie_staff,
    SetRole: staff.set_role,
    StartMeeting: meetings.start_command,
    Report: reports.report,
    Audit: reports.audit,
    SetDigest: reports.digest,
    TemplateCommand: templates.template,
}


def _refusal(
    deps: AdminDeps, actor: Actor, company: Company | None, command: Command
) -> Reply | None:
    rule = rule_for(command)
    if rule.least is not None and not access_of(deps.staff, actor, company).may_use(rule):
        return say(
            "Not allowed",
            f"This command needs the *{rule.least.value}* role in meetbot. "
            "Ask an admin to run `/meetings role @you " + rule.least.value + "`.",
        )
    if company is None and rule.needs_company:
        return say(
            "meetbot is not connected yet",
            "First connect your SimplyBook.me account: `/meetings connect simplybook`.",
        )
    return None


async def run_command(deps: AdminDeps, actor: Actor, text: str) -> Reply:
    command = parse(text)
    company = deps.companies.company_for_workspace(
        platform=actor.platform.value, workspace_id=actor.workspace_id
    )
    refused = _refusal(deps, actor, company, command)
    if refused is not None:
        return refused
    try:
        return await HANDLERS[type(command)](deps, actor, company, command)
    except RetryLater as passing:
        return say("Please try again in a minute", str(passing))
    except MeetbotError as failure:
        return say("That did not work", str(failure))
    except Exception:  # a bug must still get an answer, and never show internals
        log.exception("command %r failed", type(command).__name__)
        return say(
            "Something went wrong on meetbot's side",
            "The command may not have finished. Please try again in a minute; if it keeps "
            "failing, tell whoever runs meetbot (the error is in its log).",
        )
