"""Rows to domain values, beside the tables: every repository maps a row the same way.

Where a domain value's fields and the row's columns share their names, `from_row` copies them
and the mapper names only what it converts.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from bot import domain
from storage.crypto import SecretBox
from storage.tables import (
    BookingRow,
    CompanyRow,
    MeetingRow,
    ProviderRow,
    SeatRow,
    ServiceRow,
    StaffMemberRow,
    ZoomAccountRow,
)
from storage.tokens import client_token, host_token

Value = TypeVar("Value")


def from_row(kind: type[Value], row: object, **converted: Any) -> Value:
    """A `kind` from the row's same-named columns, with `converted` for the fields that are not
    stored as they are (a missing column without a default fails here, loudly)."""
    fields = dataclasses.fields(kind)  # type: ignore[arg-type]
    copied = {
        field.name: getattr(row, field.name)
        for field in fields
        if field.name not in converted and hasattr(row, field.name)
    }
    return kind(**copied, **converted)


# A company fed only by a generic booking webhook has no SimplyBook.me login; the unique column
# keeps this placeholder (no SimplyBook.me login has a space), and the domain sees "".
NO_SIMPLYBOOK_LOGIN = "(generic webhook) "


def company_from_row(row: CompanyRow) -> domain.Company:
    company = from_row(domain.Company, row)
    if company.simplybook_login.startswith(NO_SIMPLYBOOK_LOGIN):
        return dataclasses.replace(company, simplybook_login="")
    return company


def service_from_row(row: ServiceRow) -> domain.Service:
    return from_row(domain.Service, row)


def provider_from_row(row: ProviderRow) -> domain.Provider:
    channel = None
    if row.chat_platform and row.chat_workspace_id and row.chat_channel_id:
        channel = domain.ChatTarget(
            domain.ChatPlatform(row.chat_platform), row.chat_workspace_id, row.chat_channel_id
        )
    platform = domain.MeetingPlatform(row.platform) if row.platform else None
    return from_row(domain.Provider, row, platform=platform, channel=channel)


# How a select of several tables' rows labels each table's columns (storage.catalog).
SERVICE_PREFIX, PROVIDER_PREFIX, ZOOM_ACCOUNT_PREFIX = "service_", "provider_", "zoom_account_"


class Prefixed:
    """One table's columns of a row that labels them `prefix` + name, read by their names."""

    __slots__ = ("_prefix", "_row")

    def __init__(self, row: Any, prefix: str) -> None:
        self._row, self._prefix = row, prefix

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, self._prefix + name)


def booking_entries_from_row(row: Any) -> domain.BookingEntries:
    """A missing service, provider or Zoom account is a row of NULLs (an outer join's)."""
    service, provider = Prefixed(row, SERVICE_PREFIX), Prefixed(row, PROVIDER_PREFIX)
    zoom_account_id = getattr(row, f"{ZOOM_ACCOUNT_PREFIX}id")
    return domain.BookingEntries(
        service_from_row(service) if service.id is not None else None,  # type: ignore[arg-type]
        provider_from_row(provider) if provider.id is not None else None,  # type: ignore[arg-type]
        None if zoom_account_id is None else str(zoom_account_id),
    )


def details_from_row(row: BookingRow) -> domain.BookingDetails:
    return domain.BookingDetails(
        external_id=row.external_id,
        code=row.code,
        service_id=row.service_external_id,
        service_name=row.service_name,
        provider_id=row.provider_external_id,
        provider_name=row.provider_name,
        client_name=row.client_name,
        client_email=row.client_email,
        client_phone=row.client_phone,
        start=row.start_at,
        end=row.end_at,
        status=domain.BookingStatus(row.status),
        payment=domain.PaymentState(row.payment),
    )


def booking_from_row(row: BookingRow) -> domain.Booking:
    return domain.Booking(row.id, row.company_id, details_from_row(row), row.problem)


def meeting_from_row(
    row: MeetingRow, seat: SeatRow, box: SecretBox, join_url: str | None = None
) -> domain.Meeting:
    return meeting_with_tokens(row, client_token(box, seat), host_token(box, row), join_url)


def meeting_with_tokens(
    row: MeetingRow, client_link_token: str, host_link_token: str, join_url: str | None = None
) -> domain.Meeting:
    """The meeting of a row whose link tokens are known (decrypted already)."""
    return domain.Meeting(
        id=row.id,
        company_id=row.company_id,
        booking_id=row.booking_id,
        host=domain.MeetingHostRef(
            domain.MeetingPlatform(row.platform), row.account_id, row.host_user
        ),
        marker=row.marker,
        state=domain.MeetingState(row.state),
        start=row.start_at,
        end=row.end_at,
        external_id=row.external_id,
        join_url=join_url or row.join_url,
        client_token=client_link_token,
        host_token=host_link_token,
        opened_at=row.opened_at,
        class_key=row.class_key,
    )


def staff_from_row(row: StaffMemberRow) -> domain.StaffMember:
    return from_row(domain.StaffMember, row, platform=domain.ChatPlatform(row.platform))


def zoom_account_from_row(row: ZoomAccountRow) -> domain.ZoomAccount:
    return from_row(domain.ZoomAccount, row, state=domain.AccountState(row.state))
