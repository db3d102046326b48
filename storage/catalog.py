"""The catalog: a company's services and providers, merged from SimplyBook.me, with the settings
admins give each (online or not, meeting platform, Zoom host, channel)."""

from __future__ import annotations

import functools
from typing import Any, TypeVar

from sqlalchemy import Engine, Select, and_, bindparam, select
from sqlalchemy.orm import Session
from sqlmodel import col

from bot.domain import (
    BookingEntries,
    CatalogEntry,
    ChatTarget,
    MeetingPlatform,
    Provider,
    Service,
)
from bot.errors import NotFound
from storage.accounts import keep_zoom_account_for_job
from storage.mappers import (
    PROVIDER_PREFIX,
    SERVICE_PREFIX,
    ZOOM_ACCOUNT_PREFIX,
    booking_entries_from_row,
    provider_from_row,
    service_from_row,
)
from storage.sessions import read_row, read_session, write_session
from storage.tables import CompanyRow, ProviderRow, ServiceRow, ZoomAccountRow
from storage.zoom_connections import DISCONNECTED

Row = TypeVar("Row", ServiceRow, ProviderRow)


class SqlCatalog:
    """Implements the core's Catalog port, plus `map_provider` for seeding in one call."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def service(self, *, company_id: str, external_id: str) -> Service | None:
        row = read_row(self._engine, _one_of(ServiceRow), _key(company_id, external_id))
        return service_from_row(row) if row else None  # type: ignore[arg-type]

    def provider(self, *, company_id: str, external_id: str) -> Provider | None:
        row = read_row(self._engine, _one_of(ProviderRow), _key(company_id, external_id))
        return provider_from_row(row) if row else None  # type: ignore[arg-type]

    def booking_entries(
        self, *, company_id: str, service_id: str, provider_id: str
    ) -> BookingEntries:
        parameters = {"company_id": company_id, "service_id": service_id}
        row = read_row(self._engine, _booking_entries(), parameters | {"provider_id": provider_id})
        if row is None:  # the job read its company a moment ago; it was deleted since
            raise NotFound("company not found")
        entries = booking_entries_from_row(row)
        if entries.zoom_account_id is not None:
            keep_zoom_account_for_job(row, ZOOM_ACCOUNT_PREFIX)
        return entries

    def services(self, *, company_id: str) -> list[Service]:
        with read_session(self._engine) as session:
            return [service_from_row(row) for row in _all(session, ServiceRow, company_id)]

    def providers(self, *, company_id: str) -> list[Provider]:
        with read_session(self._engine) as session:
            return [provider_from_row(row) for row in _all(session, ProviderRow, company_id)]

    def merge_catalog(
        self, *, company_id: str, services: list[CatalogEntry], providers: list[CatalogEntry]
    ) -> None:
        with write_session(self._engine) as session:
            _merge(session, ServiceRow, company_id, services)
            _merge(session, ProviderRow, company_id, providers)

    def set_service_online(self, *, company_id: str, external_id: str, enabled: bool) -> None:
        with write_session(self._engine) as session:
            row = _find(session, ServiceRow, company_id, external_id)
            if row is None:
                raise NotFound("service not found")
            row.online_meetings = enabled

    def set_provider_zoom(self, *, company_id: str, external_id: str, zoom_user: str) -> None:
        with write_session(self._engine) as session:
            row = _provider_row(session, company_id, external_id)
            row.platform, row.zoom_user = MeetingPlatform.ZOOM.value, zoom_user

    def set_provider_platform(
        self, *, company_id: str, external_id: str, platform: MeetingPlatform
    ) -> None:
        with write_session(self._engine) as session:
            _provider_row(session, company_id, external_id).platform = platform.value

    def set_provider_channel(
        self, *, company_id: str, external_id: str, channel: ChatTarget
    ) -> None:
        with write_session(self._engine) as session:
            _set_channel(_provider_row(session, company_id, external_id), channel)

    def map_provider(
        self,
        *,
        company_id: str,
        external_id: str,
        platform: MeetingPlatform | None,
        zoom_user: str | None = None,
        channel: ChatTarget | None = None,
    ) -> None:
        with write_session(self._engine) as session:
            row = _provider_row(session, company_id, external_id)
            row.platform = platform.value if platform else None
            row.zoom_user = zoom_user
            if channel is not None:
                _set_channel(row, channel)


@functools.cache
def _one_of(table: type[Row]) -> Select[Any]:
    """A Core select of one catalog row's columns, built once per table (every booking job
    reads two); its values come from `_key`."""
    columns = table.__table__.c  # type: ignore[attr-defined]
    return select(*columns).where(
        columns.company_id == bindparam("company_id"),
        columns.external_id == bindparam("external_id"),
    )


@functools.cache
def _booking_entries() -> Select[Any]:
    """The booking's service and provider, and the company's connected Zoom account with its
    tokens (which the job's first Zoom call takes instead of reading them again): one select,
    built once, from the company's row, so that a missing service or provider is a NULL."""
    company = CompanyRow.__table__.c  # type: ignore[attr-defined]
    service = ServiceRow.__table__  # type: ignore[attr-defined]
    provider = ProviderRow.__table__  # type: ignore[attr-defined]
    zoom = ZoomAccountRow.__table__  # type: ignore[attr-defined]
    labelled = [
        *(column.label(f"{SERVICE_PREFIX}{column.name}") for column in service.c),
        *(column.label(f"{PROVIDER_PREFIX}{column.name}") for column in provider.c),
        *(column.label(f"{ZOOM_ACCOUNT_PREFIX}{column.name}") for column in zoom.c),
    ]
    return (
        select(*labelled)
        .select_from(CompanyRow.__table__)  # type: ignore[attr-defined]
        .outerjoin(service, _entry_of(service, company.id, "service_id"))
        .outerjoin(provider, _entry_of(provider, company.id, "provider_id"))
        .outerjoin(zoom, and_(zoom.c.company_id == company.id, zoom.c.state != DISCONNECTED))
        .where(company.id == bindparam("company_id"))
    )


def _entry_of(table: Any, company_id: Any, external_id: str) -> Any:
    return and_(table.c.company_id == company_id, table.c.external_id == bindparam(external_id))


def _key(company_id: str, external_id: str) -> dict[str, Any]:
    return {"company_id": company_id, "external_id": external_id}


def _find(session: Session, table: type[Row], company_id: str, external_id: str) -> Row | None:
    return session.scalars(
        select(table).where(
            col(table.company_id) == company_id, col(table.external_id) == external_id
        )
    ).first()


def _all(session: Session, table: type[Row], company_id: str) -> list[Row]:
    return list(
        session.scalars(
            select(table).where(col(table.company_id) == company_id).order_by(col(table.name))
        )
    )


def _merge(
    session: Session, table: type[Row], company_id: str, entries: list[CatalogEntry]
) -> None:
    """Adds what SimplyBook.me lists anew and refreshes what it renamed; admins' settings stay."""
    known = {row.external_id: row for row in _all(session, table, company_id)}
    for entry in entries:
        row = known.get(entry.external_id)
        if row is None:
            row = table(company_id=company_id, external_id=entry.external_id, name=entry.name)
            session.add(row)
        row.name = entry.name
        if isinstance(row, ServiceRow):
            row.is_class = entry.is_class
        else:  # a provider whose email SimplyBook.me no longer shows keeps the one known
            row.email = entry.email or row.email


def _provider_row(session: Session, company_id: str, external_id: str) -> ProviderRow:
    row = _find(session, ProviderRow, company_id, external_id)
    if row is None:
        raise NotFound("provider not found")
    return row


def _set_channel(row: ProviderRow, channel: ChatTarget) -> None:
    row.chat_platform, row.chat_workspace_id = channel.platform.value, channel.workspace_id
    row.chat_channel_id = channel.channel_id
