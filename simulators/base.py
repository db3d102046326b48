"""What every simulator shares: a fault plan, a request log, a state lock, body parsing."""

from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import JSONResponse

from simulators.faults import ASGIApp, FaultMiddleware, FaultPlan, RecordedRequest, RequestLog


class Simulator:
    """Base of the three simulators.

    State is changed both by handlers (server thread) and by tests (their own
    thread), so every read-modify-write holds `_lock`; handlers never await
    while holding it.
    """

    def __init__(self) -> None:
        self.faults = FaultPlan()
        self._log = RequestLog()
        # The live list: tests may read or clear it.
        self.requests: list[RecordedRequest] = self._log.items
        self._lock = threading.RLock()

    def count(self, method: str | None = None, path_regex: str = ".*") -> int:
        return self._log.count(method, path_regex)

    def _wrap(self, app: ASGIApp) -> ASGIApp:
        return FaultMiddleware(app, self.faults, self._log)


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers=headers)


async def read_json(request: Request) -> Any:
    """The body as JSON, or None when it is empty or not JSON."""
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


async def read_form(request: Request) -> dict[str, str]:
    """Parse a urlencoded body by hand: starlette's form parser needs python-multipart."""
    raw = await request.body()
    return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))


def base_url(request: Request) -> str:
    """The simulator's own base, as the client reached it (no trailing slash)."""
    return str(request.base_url).rstrip("/")


def add_query(url: str, params: dict[str, str]) -> str:
    """`url` with `params` appended to whatever query it already has."""
    parts = urlsplit(url)
    query = "&".join(p for p in (parts.query, urlencode(params)) if p)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
