"""Message templates: show them, set one (for the company, a service or a provider), reset one."""

from __future__ import annotations

from bot import templates
from bot.commands.catalog import named
from bot.commands.deps import AdminDeps, actor_key
from bot.commands.grammar import USAGE
from bot.commands.kinds import TemplateCommand
from bot.commands.reply import Reply, say
from bot.domain import Actor, Company
from bot.messages import ChatMessage, Fact
from bot.templates import MessageTemplate, TemplateKind, TemplateScope


async def template(
    deps: AdminDeps, actor: Actor, company: Company, command: TemplateCommand
) -> Reply:
    if command.action == "show":
        return _show_templates(deps, company)
    scope, scope_id, where = TemplateScope.COMPANY, "", "for the whole company"
    if command.scope != "company":
        found = await named(deps, company, command.scope, command.name)
        if isinstance(found, Reply):
            return found
        scope, scope_id = TemplateScope(command.scope), found.external_id
        where = f"for {command.scope} {found.name}"
    kind = TemplateKind(command.kind)
    if command.action == "reset":
        return _reset(deps, actor, company, kind, scope, scope_id, where)
    wrong = templates.problems(command.body)
    if wrong:
        return say("The template was not saved", "; ".join(wrong).capitalize() + ".")
    deps.templates.save_template(
        company_id=company.id,
        template=MessageTemplate(kind, scope, scope_id, command.body),
        actor=actor_key(actor),
    )
    deps.audit(company.id, actor, f"set the {kind.value} template", where)
    return say(
        f"The {kind.value} template {where} is saved",
        "New booking messages use it; existing ones change when their booking does.",
    )


def _reset(
    deps: AdminDeps,
    actor: Actor,
    company: Company,
    kind: TemplateKind,
    scope: TemplateScope,
    scope_id: str,
    where: str,
) -> Reply:
    removed = deps.templates.reset_template(
        company_id=company.id, kind=kind, scope=scope, scope_id=scope_id
    )
    deps.audit(company.id, actor, f"reset the {kind.value} template", where)
    return say(
        f"The {kind.value} template {where} is reset" if removed else "Nothing to reset",
        "Messages use the next most general wording again."
        if removed
        else f"There is no {kind.value} template {where}.",
    )


def _show_templates(deps: AdminDeps, company: Company) -> Reply:
    services = {s.external_id: s.name for s in deps.catalog.services(company_id=company.id)}
    providers = {p.external_id: p.name for p in deps.catalog.providers(company_id=company.id)}
    facts = []
    for saved in deps.templates.templates(company_id=company.id):
        names = services if saved.scope is TemplateScope.SERVICE else providers
        where = (
            "company"
            if saved.scope is TemplateScope.COMPANY
            else f"{saved.scope.value} {names.get(saved.scope_id, saved.scope_id)}"
        )
        facts.append(Fact(f"{saved.kind.value.capitalize()} ({where})", saved.body))
    variables = "\n".join(f"• [{name}]: {meaning}" for name, meaning in templates.VARIABLES.items())
    return Reply(
        ChatMessage(
            title="Message templates",
            summary="Message templates",
            facts=tuple(facts),
            text=("" if facts else "No templates yet: messages use meetbot's standard wording.\n\n")
            + "Variables:\n"
            + variables,
            note=f"Set one with `/meetings {USAGE['template']}`.",
        )
    )
