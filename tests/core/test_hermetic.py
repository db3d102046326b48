"""The core tests cannot reach outside the process: the guards of conftest.py hold."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import subprocess
import sys

import pytest

from tests.core.conftest import HermeticViolation


def test_a_network_connection_fails_the_test() -> None:
    with socket.socket() as sock, pytest.raises(HermeticViolation, match="network"):
        sock.connect(("127.0.0.1", 5432))


def test_a_connection_by_host_name_fails_the_test() -> None:
    with pytest.raises(HermeticViolation):
        socket.create_connection(("localhost", 80), timeout=0.1)


def test_an_asyncio_connection_fails_the_test() -> None:
    async def connect() -> None:
        await asyncio.open_connection("127.0.0.1", 5432)

    with pytest.raises(HermeticViolation):
        asyncio.run(connect())


def test_a_process_fails_the_test() -> None:
    with pytest.raises(HermeticViolation, match="process"):
        subprocess.run([sys.executable, "-c", "pass"], check=False)


def test_a_sqlite_database_fails_the_test() -> None:
    with pytest.raises(HermeticViolation, match="SQLite"):
        sqlite3.connect(":memory:")


def test_the_event_loop_still_runs() -> None:
    # asyncio's own wake-up pipe is a socket pair, made without connecting anywhere.
    assert asyncio.run(asyncio.sleep(0, result="ran")) == "ran"


def test_heavy_packages_stay_unloaded() -> None:
    # The end-to-end fixtures (tests/conftest.py) bring in storage, the web app and simulators;
    # run alone, as `pytest tests/core`, the core tests never load them.
    if "tests.conftest" in sys.modules:
        pytest.skip("run together with the end-to-end suite, whose fixtures load them")
    loaded = {name.split(".")[0] for name in sys.modules}
    assert not loaded & {"storage", "adapters", "app", "simulators", "sqlalchemy", "httpx"}
