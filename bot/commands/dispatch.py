"""`run_command`: parse, check the authorization table, run the command's handler, and always
answer (a failure becomes a plain sentence, never internals)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.commands import (
    accounts,
    catalog,
    kinds,
    meetings,
    reports,
    setup,
    staff,
    templates,
    webhooks,
)
from bot.commands.authorization import access_of, rule_for
from bot.commands.deps import AdminDeps
from bot.commands.grammar import parse
from bot.commands.help import help_reply, invalid_reply, too_long_reply
from bot.commands.reply import Reply, say
from bot.domain import Actor, Company
from bot.errors import MeetbotError, RetryLater

log = logging.getLogger("meetbot.commands")

# (deps, actor, company, command); the company is None only where the table allows it.
Handler = Callable[[AdminDeps, Actor, Any, Any], Awaitable[Reply]]


async def _answer_help(deps: AdminDeps, actor: Actor, company: Any, command: Any) -> Reply:
    if isinstance(command, kinds.Invalid):
        return invalid_reply(command)
    if isinstance(command, kinds.TooLong):
        return too_long_reply(command)
    return help_reply(command, actor.platform)


HANDLERS: dict[type[kinds.Command], Handler] = {
    kinds.Help: _answer_help,
    kinds.Invalid: _answer_help,
    kinds.TooLong: _answer_help,
    kinds.Status: setup.status,
    kinds.SetFeature: setup.set_feature,
    kinds.Connect: accounts.connect,
    kinds.Disconnect: accounts.disconnect,
    kinds.ListServices: catalog.list_services,
    kinds.SetService: catalog.set_service,
    kinds.ListProviders: catalog.list_providers,
    kinds.ProviderZoom: catalog.provider_zoom,
    kinds.ProviderChannel: catalog.provider_channel,
    kinds.ProviderTeams: catalog.provider_teams,
    kinds.ProviderStaff: staff.tie_staff,
    kinds.SetRole: staff.set_role,
    kinds.StartMeeting: meetings.start_command,
    kinds.Report: reports.report,
    kinds.Audit: reports.audit,
    kinds.SetDigest: reports.digest,
    kinds.TemplateCommand: templates.template,
    kinds.WebhookSecret: webhooks.webhook_secret,
    kinds.NameCompany: webhooks.name_company,
}


def _refusal(
    deps: AdminDeps, actor: Actor, company: Company | None, command: kinds.Command
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
            "First connect your SimplyBook.me account (`/meetings connect simplybook`), or another "
            "booking system through the booking webhook (`/meetings connect webhook`).",
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
