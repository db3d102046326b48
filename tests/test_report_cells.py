"""Report CSV cells cannot run as formulas, whatever list separator the spreadsheet uses."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import BookingStatus, PaymentState, ReportRow
from bot.urls import PublicUrls as LinkPaths
from bot.usecases.reports import report_csv

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
SEPARATORS = (";", ",", "\t")
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _row(client: str) -> ReportRow:
    return ReportRow(
        booking_code="B-1",
        start=START,
        end=START + timedelta(hours=1),
        service="Yoga",
        service_external_id="1",
        provider="Olena",
        provider_external_id="1",
        client=client,
        booking_status=BookingStatus.CONFIRMED,
        payment=PaymentState.PAID,
        problem=None,
        meeting_state=None,
        opened_at=None,
        client_token=None,
        host_token=None,
    )


def _client_cell(client: str) -> str:
    written = report_csv(
        [_row(client)], now=START, timezone="UTC", links=LinkPaths("https://meetbot.example")
    ).decode()
    rows = list(csv.DictReader(io.StringIO(written, newline="")))
    return str(rows[0]["client"])


def _cells_as_split_by(cell: str, separator: str) -> list[str]:
    """The cells a spreadsheet makes of the text when it splits on `separator` and on line ends."""
    return [
        piece for line in cell.replace("\r\n", "\n").splitlines() for piece in line.split(separator)
    ]


@pytest.mark.parametrize("separator", SEPARATORS, ids=["semicolon", "comma", "tab"])
@pytest.mark.parametrize("trigger", TRIGGERS, ids=["equals", "plus", "minus", "at", "tab", "cr"])
def test_a_trigger_after_a_separator_cannot_start_a_formula(trigger: str, separator: str) -> None:
    typed = f"Bob{separator}{trigger}1+2"
    cell = _client_cell(typed)
    assert cell.replace("'", "") == typed, "only quote marks are added"
    for split_on in SEPARATORS:
        for piece in _cells_as_split_by(cell, split_on):
            assert not piece.startswith(TRIGGERS), f"{piece!r} of {cell!r} split on {split_on!r}"


@pytest.mark.parametrize("trigger", TRIGGERS, ids=["equals", "plus", "minus", "at", "tab", "cr"])
def test_a_trigger_at_the_start_cannot_start_a_formula(trigger: str) -> None:
    cell = _client_cell(f"{trigger}SUM(A1:A9)")
    assert cell.startswith("'")
    assert cell[1:] == f"{trigger}SUM(A1:A9)"


def test_ordinary_text_is_left_alone() -> None:
    for typed in ("Maria Petrenko", "O'Brien, Ann", "a-b; c+d", "ann@example.com"):
        assert _client_cell(typed) == typed
