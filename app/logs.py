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
from typing import IO, Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from bot.redaction import clean_traceback, install_redaction

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


class JsonLines(JsonFormatter):
    """python-json-logger's lines (level, logger, message, the fields a record carries, the time
    in UTC), with the traceback cleaned: the library formats it again from the exception, past the
    cleaning every record gets when it is made, and a secret in an error's text would reach the
    line."""

    def __init__(self) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
            reserved_attrs=[*RESERVED_ATTRS, "taskName", "context", "color_message"],
        )

    def formatException(self, ei: Any) -> str:
        return clean_traceback(logging.Formatter.formatException(self, ei))


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
