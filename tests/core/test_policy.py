"""Who may run which command: the authorization table read through each typed command."""

from __future__ import annotations

import pytest

from bot.commands import Role, parse
from bot.commands.authorization import Access, rule_for

LEAST_ROLE: list[tuple[str, Role | None]] = [
    ("help", None),
    ("no-such-command", None),
    ("status please", None),  # a typing mistake is answered to anyone, with the usage
    ("status", Role.JUNIOR),
    ("services", Role.JUNIOR),
    ("providers", Role.JUNIOR),
    ("start 1234", Role.JUNIOR),
    ("report today", Role.JUNIOR),
    ("connect teams", Role.JUNIOR),  # staff connect their own provider's account
    ("connect zoom", Role.ADMIN),
    ("connect simplybook", Role.ADMIN),
    ("disconnect zoom", Role.ADMIN),
    ("disconnect teams", Role.ADMIN),
    ("enable", Role.ADMIN),
    ("disable", Role.ADMIN),
    ("service enable Yoga", Role.ADMIN),
    ("provider Olena teams", Role.ADMIN),
    ("provider Olena staff <@U1>", Role.ADMIN),
    ("role <@U1> senior", Role.ADMIN),
    ("audit", Role.ADMIN),
    ("digest on", Role.ADMIN),
    ("template", Role.ADMIN),
    ("template client : hi", Role.ADMIN),
]


@pytest.mark.parametrize(("text", "role"), LEAST_ROLE, ids=[text for text, _ in LEAST_ROLE])
def test_least_role_of_each_command(text: str, role: Role | None) -> None:
    assert rule_for(parse(text)).least == role


def test_text_too_long_to_parse_needs_no_role() -> None:
    assert rule_for(parse("x" * 5000)).least is None


@pytest.mark.parametrize(
    ("access", "capability", "provider", "allowed"),
    [
        (Access(Role.JUNIOR, "p1"), "start", "p1", True),  # their own provider's meeting
        (Access(Role.JUNIOR, "p1"), "start", "p2", False),  # someone else's
        (Access(Role.SENIOR), "start", "p2", True),  # seniors act for the whole company
        (Access(Role.JUNIOR, "p1"), "report", "p2", False),
        (Access(Role.JUNIOR, "p1"), "connect teams", "p1", True),
        (Access(Role.SENIOR, "p1"), "connect teams", "p2", False),  # only admins for others
        (Access(Role.ADMIN), "connect teams", "p2", True),
        (Access(None), "status", "p1", False),
        (Access(None), "help", "p1", True),
    ],
)
def test_who_may_act_for_which_provider(
    access: Access, capability: str, provider: str, allowed: bool
) -> None:
    assert access.may_act_for(capability, provider) is allowed


@pytest.mark.parametrize(
    ("higher", "lower"),
    [(Role.ADMIN, Role.SENIOR), (Role.SENIOR, Role.JUNIOR), (Role.ADMIN, Role.JUNIOR)],
)
def test_roles_rank_admin_over_senior_over_junior(higher: Role, lower: Role) -> None:
    assert higher.rank > lower.rank
