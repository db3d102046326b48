"""Keeps the core tests hermetic and quick.

Every test runs with the network, subprocesses and SQLite shut off, so a core test that reaches
for one fails at once instead of quietly becoming an end-to-end test. Property tests name the
"core" Hypothesis profile: a modest number of examples, no deadline (a busy machine must not make
them flaky) and no example database on disk. It is named, not loaded, so the rest of the suite
keeps its own settings when the whole suite runs.
"""

from __future__ import annotations

import socket
import sqlite3
import subprocess
from collections.abc import Iterator
from typing import Any, NoReturn

import pytest
from hypothesis import HealthCheck, settings

from tests.core.fakes import FakeClock

settings.register_profile(
    "core",
    max_examples=60,
    deadline=None,  # a slow shared machine must not turn into a flaky failure
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class HermeticViolation(AssertionError):
    """A core test tried to reach outside the process."""


def _refuse(what: str) -> Any:
    def refuse(*args: object, **kwargs: object) -> NoReturn:
        raise HermeticViolation(f"core tests must not {what}")

    return refuse


@pytest.fixture(autouse=True)
def hermetic(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No network connection, process or SQLite database for the length of a test."""
    monkeypatch.setattr(socket.socket, "connect", _refuse("open a network connection"))
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse("open a network connection"))
    monkeypatch.setattr(socket, "getaddrinfo", _refuse("resolve a host name"))
    monkeypatch.setattr(subprocess.Popen, "__init__", _refuse("start a process"))
    monkeypatch.setattr(sqlite3, "connect", _refuse("open a SQLite database"))
    yield


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
