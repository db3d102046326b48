"""Core tests: the rules of `bot/` checked in memory, in milliseconds.

What belongs here: tests that call the core (grammar, domain rules, messages, templates, name
matching, pacing, redaction, the worker's retry policy, use-case decisions) with the in-memory
stand-ins of `fakes.py` in place of every port. No database, no HTTP, no simulator, no subprocess,
no sleeping: `conftest.py` makes any attempt to open a socket, start a process or open SQLite
fail the test. Run them alone with `pytest tests/core` (this folder's `pytest.ini` keeps the
end-to-end fixtures of `tests/conftest.py` from loading); behaviour over HTTP belongs to the
end-to-end suite in `tests/`.
"""
