"""Who may run which command: the least role each command needs, as a table."""

from __future__ import annotations

import pytest

from bot.commands import Role, parse, required_role

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
    assert required_role(parse(text)) == role


def test_text_too_long_to_parse_needs_no_role() -> None:
    assert required_role(parse("x" * 5000)) is None


@pytest.mark.parametrize(
    ("higher", "lower"),
    [(Role.ADMIN, Role.SENIOR), (Role.SENIOR, Role.JUNIOR), (Role.ADMIN, Role.JUNIOR)],
)
def test_roles_rank_admin_over_senior_over_junior(higher: Role, lower: Role) -> None:
    assert higher.rank > lower.rank
