"""The storage layer's own rules: one repository per aggregate (none inherits another), a write
session is one transaction, a lost unique-key race is retried once, a catalog merge keeps
what admins set, and what a job's select read with other rows is taken by the job alone."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from app.bootstrap import Core
from bot.domain import CatalogEntry
from bot.templates import MessageTemplate, TemplateKind, TemplateScope
from storage.sessions import one_connection, retry_on_conflict, write_session
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


def test_a_booking_reads_its_entries_and_zoom_account_at_once(core: Core) -> None:
    company, _token = core.companies.create_company(login="acme", api_key="k", api_secret="s")
    core.catalog.merge_catalog(
        company_id=company.id, services=[CatalogEntry("7", "Yoga")], providers=[]
    )
    before = core.catalog.booking_entries(company_id=company.id, service_id="7", provider_id="3")
    account_id = core.zoom_tokens.connect(
        company_id=company.id,
        zoom_account_id="Z1",
        access_token="access",
        refresh_token="refresh",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    after = core.catalog.booking_entries(company_id=company.id, service_id="8", provider_id="3")

    assert before.service is not None and before.service.name == "Yoga"
    assert (before.provider, before.zoom_account_id) == (None, None)
    assert (after.service, after.zoom_account_id) == (None, account_id)


def test_a_job_takes_the_zoom_tokens_it_read_with_its_entries_once(core: Core) -> None:
    company, _token = core.companies.create_company(login="acme", api_key="k", api_secret="s")
    account_id = core.zoom_tokens.connect(
        company_id=company.id,
        zoom_account_id="Z1",
        access_token="old",
        refresh_token="refresh",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    with one_connection(core.engine):
        core.catalog.booking_entries(company_id=company.id, service_id="7", provider_id="3")
        core.zoom_tokens.connect(
            company_id=company.id,
            zoom_account_id="Z1",
            access_token="new",
            refresh_token="refresh",
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        )
        first = core.zoom_tokens.tokens(account_id=account_id)
        again = core.zoom_tokens.tokens(account_id=account_id)  # a refresh looks for newer ones

    assert (first.access_token, again.access_token) == ("old", "new")


def test_a_job_keeps_the_templates_and_bot_tokens_read_with_its_company(core: Core) -> None:
    company, _token = core.companies.create_company(login="acme", api_key="k", api_secret="s")
    core.workspaces.bind(
        company_id=company.id, platform="slack", external_id="T1", bot_token="xoxb-old"
    )
    wording = MessageTemplate(TemplateKind.PROVIDER, TemplateScope.COMPANY, "", "Hello")
    with one_connection(core.engine):
        core.companies.company_with_credentials(company_id=company.id)
        core.templates.save_template(company_id=company.id, template=wording, actor="U1")
        core.workspaces.bind(
            company_id=company.id, platform="slack", external_id="T1", bot_token="xoxb-new"
        )
        in_the_job = (
            core.templates.templates(company_id=company.id),
            core.workspaces.bot_token(platform="slack", external_id="T1"),
        )
        asked_again = core.workspaces.bot_token(platform="slack", external_id="T1")
    after_it = (
        core.templates.templates(company_id=company.id),
        core.workspaces.bot_token(platform="slack", external_id="T1"),
    )

    assert in_the_job == ([], "xoxb-old")
    assert asked_again == "xoxb-new", "a kept token serves one call: the next reads what is stored"
    assert after_it == ([wording], "xoxb-new")
