"""The storage layer's own rules: one repository per aggregate (none inherits another), a write
session is one transaction, a lost unique-key race is retried once, and a catalog merge keeps
what admins set."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy.exc import IntegrityError

from app.bootstrap import Core
from bot.domain import CatalogEntry
from storage.sessions import retry_on_conflict, write_session
from storage.tables import CompanyRow

REPOSITORY_FIELDS = (
    "companies",
    "catalog",
    "staff",
    "zoom_accounts",
    "booking_records",
    "meetings",
    "seats",
    "outbox",
    "callbacks",
    "links",
)


def _conflict() -> IntegrityError:
    return IntegrityError("INSERT", {}, Exception("unique constraint"))


def test_core_names_one_repository_per_port_and_none_inherits_another(core: Core) -> None:
    fields = {field.name for field in dataclasses.fields(core)}
    assert set(REPOSITORY_FIELDS) <= fields
    for name in REPOSITORY_FIELDS:
        repository = type(getattr(core, name))
        assert repository.__mro__ == (repository, object), name


def test_a_write_session_commits_all_or_nothing(core: Core) -> None:
    company, _token = core.companies.create_company(login="acme", api_key="k", api_secret="s")
    with pytest.raises(RuntimeError), write_session(core.engine) as session:
        row = session.get(CompanyRow, company.id)
        assert row is not None
        row.name = "renamed, then rolled back"
        session.flush()
        raise RuntimeError("a failure halfway")
    assert core.companies.company(company_id=company.id).name == "acme"


def test_a_write_that_loses_a_race_runs_once_more() -> None:
    attempts: list[int] = []

    def write() -> str:
        attempts.append(len(attempts))
        if len(attempts) == 1:
            raise _conflict()
        return "the winner's row, updated"

    assert retry_on_conflict(write) == "the winner's row, updated"
    assert attempts == [0, 1]


def test_a_conflict_that_persists_is_raised() -> None:
    def write() -> None:
        raise _conflict()

    with pytest.raises(IntegrityError):
        retry_on_conflict(write)


def test_a_catalog_merge_renames_but_keeps_what_admins_set(core: Core) -> None:
    company, _token = core.companies.create_company(login="acme", api_key="k", api_secret="s")
    core.catalog.merge_catalog(
        company_id=company.id,
        services=[CatalogEntry("7", "Yoga")],
        providers=[CatalogEntry("3", "Ana", email="ana@example.com")],
    )
    core.catalog.set_service_online(company_id=company.id, external_id="7", enabled=True)
    core.catalog.merge_catalog(
        company_id=company.id,
        services=[CatalogEntry("7", "Yoga class", is_class=True)],
        providers=[CatalogEntry("3", "Ana B.")],
    )
    service = core.catalog.service(company_id=company.id, external_id="7")
    provider = core.catalog.provider(company_id=company.id, external_id="3")
    assert service is not None and provider is not None
    assert (service.name, service.online_meetings, service.is_class) == ("Yoga class", True, True)
    assert (provider.name, provider.email) == ("Ana B.", "ana@example.com")
