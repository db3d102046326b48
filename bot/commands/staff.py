"""People: give someone a meetbot role, or tie staff to the provider whose meetings they run."""

from __future__ import annotations

from bot.commands.catalog import about_provider
from bot.commands.deps import AdminDeps
from bot.commands.kinds import ProviderStaff, Role, SetRole
from bot.commands.reply import Reply, say
from bot.domain import Actor, Company, Provider


@about_provider
async def tie_staff(
    deps: AdminDeps, actor: Actor, company: Company, command: ProviderStaff, provider: Provider
) -> Reply:
    deps.staff.tie_staff(
        company_id=company.id,
        actor=actor,
        user_id=command.user.id,
        provider_external_id=provider.external_id,
    )
    deps.audit(
        company.id, actor, "tied staff to a provider", f"<@{command.user.id}>: {provider.name}"
    )
    return say(
        f"<@{command.user.id}> is tied to {provider.name}",
        "As junior staff they may start this provider's meetings by hand.",
    )


async def set_role(deps: AdminDeps, actor: Actor, company: Company, command: SetRole) -> Reply:
    if command.user.id == actor.user_id and command.role is not Role.ADMIN:
        return say("Not allowed", "You cannot lower your own role; ask another admin.")
    deps.staff.set_role(
        company_id=company.id,
        actor=actor,
        user_id=command.user.id,
        role=command.role.value if command.role else None,
    )
    role_name = command.role.value if command.role else "none"
    deps.audit(company.id, actor, "changed a role", f"<@{command.user.id}>: {role_name}")
    if command.role is None:
        return say("Role removed", f"<@{command.user.id}> has no meetbot role now.")
    return say("Role set", f"<@{command.user.id}> is now *{command.role.value}* in meetbot.")
