"""The shape of the code, checked like any other rule: narrow ports, repositories that stand alone,
modules small enough to read, and each job kind spelled once.

The files are parsed, never imported, so these checks load no storage, adapter or SDK.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("app", "bot", "adapters", "storage")
MAX_PORT_METHODS = 10
MAX_MODULE_LINES = 400


def _modules(*packages: str) -> Iterator[Path]:
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _classes(path: Path) -> Iterator[ast.ClassDef]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    yield from (node for node in ast.walk(tree) if isinstance(node, ast.ClassDef))


def _base_names(cls: ast.ClassDef) -> set[str]:
    return {base.id if isinstance(base, ast.Name) else ast.unparse(base) for base in cls.bases}


def _public_methods(cls: ast.ClassDef) -> list[str]:
    return [
        node.name
        for node in cls.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and not node.name.startswith("_")
    ]


def _ports() -> list[tuple[str, ast.ClassDef]]:
    return [
        (f"{path.name}:{cls.name}", cls)
        for path in _modules("bot/ports")
        for cls in _classes(path)
        if "Protocol" in _base_names(cls)
    ]


def _repositories() -> list[tuple[str, ast.ClassDef]]:
    return [
        (f"{path.name}:{cls.name}", cls)
        for path in _modules("storage")
        for cls in _classes(path)
        if cls.name.startswith("Sql")
    ]


def test_the_ports_are_found() -> None:
    names = {name.split(":")[1] for name, _ in _ports()}
    assert {"Companies", "Catalog", "Meetings", "Outbox", "JobQueue", "ChatSender"} <= names


@pytest.mark.parametrize(("name", "port"), _ports(), ids=[name for name, _ in _ports()])
def test_no_port_has_more_than_ten_methods(name: str, port: ast.ClassDef) -> None:
    methods = _public_methods(port)
    assert len(methods) <= MAX_PORT_METHODS, f"{name} has {len(methods)} methods: {methods}"


def test_the_repositories_are_found() -> None:
    assert len(_repositories()) >= 10


@pytest.mark.parametrize(
    ("name", "repository"), _repositories(), ids=[name for name, _ in _repositories()]
)
def test_no_repository_inherits_another(name: str, repository: ast.ClassDef) -> None:
    assert not {base for base in _base_names(repository) if base.startswith("Sql")}, name


def test_every_product_module_stays_under_four_hundred_lines() -> None:
    too_long = {
        str(path.relative_to(ROOT)): lines
        for path in _modules(*PRODUCT)
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) >= MAX_MODULE_LINES
    }
    assert not too_long


def _string_literals(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value


@pytest.mark.parametrize(
    "kind",
    [
        "sync_booking",
        "meeting_reminder",
        "chat_command",
        "notify_admins",
        "company_routine",
        "refresh_home",
    ],
)
def test_each_job_kind_is_spelled_once_in_product_code(kind: str) -> None:
    places = [
        str(path.relative_to(ROOT))
        for path in _modules(*PRODUCT)
        for literal in _string_literals(path)
        if literal == kind
    ]
    assert places == ["bot/jobs.py"]
