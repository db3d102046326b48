"""Where log lines go and how they look; every record is cleaned by `bot.redaction` first.

Two formats: plain text for people (the default) and one JSON object a line for machines
(`MEETBOT_LOG_FORMAT=json`: time, level, logger, message). Either way a line written while a web
request is served carries that request's id, and a line written while a job runs carries the
job's id: both are context variables, set by the web app's middleware and the worker's observer.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonEncoder

from bot.redaction import install_redaction

REQUEST_ID: ContextVar[str | None] = ContextVar("meetbot_request_id", default=None)
JOB_ID: ContextVar[int | None] = ContextVar("meetbot_job_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s"
NOISY = ("httpx", "httpcore", "slack_sdk", "aiohttp", "uvicorn.access")


class LogContext(logging.Filter):
    """Puts the current request id and job id on each record (as `request_id` / `job_id`, only
    when set) and, for the text format, a short `context` ("" outside any request or job)."""

    def __init__(self, *, for_text: bool = True) -> None:
        super().__init__()
        self._for_text = for_text

    def filter(self, record: logging.LogRecord) -> bool:
        request_id, job_id = REQUEST_ID.get(), JOB_ID.get()
        if request_id is not None:
            record.request_id = request_id
        if job_id is not None:
            record.job_id = job_id
        if self._for_text:
            record.context = _context(request_id, job_id)
        return True


def _context(request_id: str | None, job_id: int | None) -> str:
    if request_id is None:
        return "" if job_id is None else f" [job={job_id}]"
    return f" [request={request_id}]" if job_id is None else f" [request={request_id} job={job_id}]"


class TextLines(logging.Formatter):
    """`TEXT_FORMAT`, with the time's date and clock part made once a second, not per line (the
    standard formatter's times, for this formatter has no `datefmt`)."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)
        self._second: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        whole = int(record.created)
        second, text = self._second  # one tuple, read and replaced whole: safe across threads
        if second != whole:
            text = time.strftime(self.default_time_format, self.converter(whole))
            self._second = (whole, text)
        return f"{text},{int(record.msecs):03d}"  # as logging's default_msec_format writes it


# Record attributes that are no field of a JSON line (the record's own, and the text format's).
_NOT_EXTRA = frozenset((*RESERVED_ATTRS, "taskName", "context", "color_message"))


class JsonLines(logging.Formatter):
    """One JSON object a line: level, logger, message, the traceback if any, each field a record
    carries besides its own (request_id, job_id), and the time in UTC (ISO 8601, microseconds).

    Written here, not taken from python-json-logger's formatter: that one formats a traceback
    again from the exception, past the log cleaner (a secret in an error's text reached the line),
    and builds every line through generic steps that a busy worker pays for on each job."""

    def __init__(self) -> None:
        super().__init__()
        self._encode = JsonEncoder().encode  # its `default` writes what JSON cannot (an object)
        self._second: tuple[int, str] = (-1, "")

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:  # cleaned when the record was made
            line["exc_info"] = record.exc_text
        if record.stack_info:
            line["stack_info"] = record.stack_info
        for key in sorted(record.__dict__.keys() - _NOT_EXTRA):
            if not key.startswith("_"):
                line[key] = record.__dict__[key]
        line["time"] = self._utc_time(record.created)
        return self._encode(line)

    def _utc_time(self, created: float) -> str:
        """As `datetime.fromtimestamp(created, timezone.utc).isoformat()` writes it."""
        whole = int(created)
        micro = round((created - whole) * 1_000_000)  # half to even, as datetime rounds
        if micro == 1_000_000:
            whole, micro = whole + 1, 0
        second, text = self._second
        if second != whole:
            text = datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second = (whole, text)
        return f"{text}.{micro:06d}+00:00" if micro else f"{text}+00:00"


def configure_logging(
    level: str,
    secrets: Iterable[str] = (),
    *,
    log_format: str = "text",
    stream: IO[str] | None = None,
) -> None:
    install_redaction(secrets)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    as_json = log_format == "json"
    handler.addFilter(LogContext(for_text=not as_json))
    handler.setFormatter(JsonLines() if as_json else TextLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
