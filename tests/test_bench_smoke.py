"""`make bench`'s machinery, end to end at a tiny size, so it cannot rot between benchmark runs:
a fleet seeded through the repositories, past bookings in bulk, the yardstick loop, meetbot's
processes on SQLite (and web + worker processes on PostgreSQL), every booking checked to have
one meeting and one message. The figures themselves are the benchmark's business, not asserted."""

from __future__ import annotations

import re

import pytest

from bench.run import run
from bench.sections import TINY

from .conftest import postgres_available


def _scenario_rows(output: str) -> list[str]:
    """Table rows of scenarios that ran to the end: each ends with its exactly-once column."""
    return [line for line in output.splitlines() if re.search(r"\d+/\d+\s+yes$", line)]


def test_pipeline_and_growth_sections_run_end_to_end_on_sqlite(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(TINY, ["pipeline", "growth"]) == 0
    output = capsys.readouterr().out
    rows = _scenario_rows(output)
    # Two pipeline bursts, then 1 company, the fleet, and the fleet with its history.
    assert len(rows) == 5, output
    assert "sqlite, 3 co + 200 past" in output
    assert len(re.findall(r"^yardstick loop", output, re.MULTILINE)) == 2
    assert "FAILED" not in output


@pytest.mark.postgres
def test_scale_out_section_runs_web_and_worker_processes_on_postgresql(
    capsys: pytest.CaptureFixture[str],
) -> None:
    unavailable = postgres_available()
    if unavailable:
        pytest.skip(unavailable)
    assert run(TINY, ["scale-out"]) == 0
    output = capsys.readouterr().out
    assert [row.split()[0] for row in _scenario_rows(output)] == ["1", "4/s"], output
