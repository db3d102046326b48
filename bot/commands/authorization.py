"""Who may do what: one table, and every role decision of the commands and buttons reads it.

A person's role is the one an admin gave them in meetbot; without one, a workspace admin (or
owner) is a meetbot admin and anyone else has no role. Each rule names the least role that may use
a capability, whether it needs a connected company, and, for staff below `whole_company`, that
they act only for the provider they are tied to (`/meetings provider NAME staff @user`).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands import kinds
from bot.commands.kinds import Role
from bot.domain import Actor, Company
from bot.ports import Staff


@dataclass(frozen=True, slots=True)
class Rule:
    least: Role | None  # None: anyone in the workspace
    needs_company: bool = True
    whole_company: Role | None = None  # below this role: only for the actor's own provider


ADMIN, SENIOR, JUNIOR = Role.ADMIN, Role.SENIOR, Role.JUNIOR

RULES: dict[str, Rule] = {
    "help": Rule(None, needs_company=False),
    "status": Rule(JUNIOR),
    "see the callback URL": Rule(ADMIN),  # a secret: shown in status to admins only
    "connect simplybook": Rule(ADMIN, needs_company=False),
    "connect zoom": Rule(ADMIN),
    # Staff tied to a provider connect that provider's own account (S10).
    "connect teams": Rule(JUNIOR, whole_company=ADMIN),
    "disconnect zoom": Rule(ADMIN),
    "disconnect teams": Rule(ADMIN),
    # A business without SimplyBook.me starts here: the webhook creates its company.
    "connect webhook": Rule(ADMIN, needs_company=False),
    "disconnect webhook": Rule(ADMIN),
    "webhook": Rule(ADMIN),  # rotate or retire the signing secrets
    "company": Rule(ADMIN),  # the business's name
    "enable": Rule(ADMIN),
    "disable": Rule(ADMIN),
    "services": Rule(JUNIOR),
    "service": Rule(ADMIN),
    "providers": Rule(JUNIOR),
    "provider": Rule(ADMIN),
    "role": Rule(ADMIN),
    "start": Rule(JUNIOR, whole_company=SENIOR),
    "report": Rule(JUNIOR, whole_company=SENIOR),
    "audit": Rule(ADMIN),
    "digest": Rule(ADMIN),
    "template": Rule(ADMIN),
    "press an admin button": Rule(ADMIN),  # replace or disconnect Zoom, reconnect, retry a task
}

_RULE_OF: dict[type, str] = {
    kinds.Help: "help",
    kinds.Invalid: "help",
    kinds.TooLong: "help",
    kinds.Status: "status",
    kinds.ListServices: "services",
    kinds.SetService: "service",
    kinds.ListProviders: "providers",
    kinds.ProviderZoom: "provider",
    kinds.ProviderTeams: "provider",
    kinds.ProviderChannel: "provider",
    kinds.ProviderStaff: "provider",
    kinds.SetRole: "role",
    kinds.StartMeeting: "start",
    kinds.Report: "report",
    kinds.Audit: "audit",
    kinds.SetDigest: "digest",
    kinds.TemplateCommand: "template",
    kinds.WebhookSecret: "webhook",
    kinds.NameCompany: "company",
}


def rule_name(command: kinds.Command) -> str:
    if isinstance(command, kinds.Connect):
        return f"connect {command.target}"
    if isinstance(command, kinds.Disconnect):
        return f"disconnect {command.target}"
    if isinstance(command, kinds.SetFeature):
        return "enable" if command.enabled else "disable"
    return _RULE_OF[type(command)]


def rule_for(command: kinds.Command) -> Rule:
    return RULES[rule_name(command)]


@dataclass(frozen=True, slots=True)
class Access:
    """One person's standing in one company (or in none yet)."""

    role: Role | None
    provider: str | None = None  # the provider's external id they are tied to, if any

    def may(self, capability: str) -> bool:
        return self.may_use(RULES[capability])

    def may_use(self, rule: Rule) -> bool:
        least = rule.least
        return least is None or (self.role is not None and self.role.rank >= least.rank)

    def own_provider_only(self, capability: str) -> bool:
        whole = RULES[capability].whole_company
        return whole is not None and (self.role is None or self.role.rank < whole.rank)

    def may_act_for(self, capability: str, provider_external_id: str) -> bool:
        return self.may(capability) and (
            not self.own_provider_only(capability) or self.provider == provider_external_id
        )


def access_of(staff: Staff, actor: Actor, company: Company | None) -> Access:
    member = staff.staff_member(company_id=company.id, actor=actor) if company else None
    tied = member.provider_external_id if member else None
    if member is not None and member.role:
        return Access(Role(member.role), tied)
    return Access(Role.ADMIN if actor.is_workspace_admin else None, tied)
