"""Where log lines go and how they look; every record is cleaned by `bot.redaction` first.

Two formats: plain text for people (the default) and one JSON object a line for machines
(`MEETBOT_LOG_FORMAT=json`: time, level, logger, message). Either way a line written while a web
request is served carries that request's id, and a line written while a job runs carries the
job's id: both are context variables, set by the web app's middleware and the worker's observer.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from contextvars import ContextVar
from typing import IO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from bot.redaction import install_redaction

REQUEST_ID: ContextVar[str | None] = ContextVar("meetbot_request_id", default=None)
JOB_ID: ContextVar[int | None] = ContextVar("meetbot_job_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s"
NOISY = ("httpx", "httpcore", "slack_sdk", "aiohttp", "uvicorn.access")


class LogContext(logging.Filter):
    """Puts the current request id and job id on each record (as `request_id` / `job_id`, only
    when set) and a short `context` for the text format ("" outside any request or job)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id, job_id = REQUEST_ID.get(), JOB_ID.get()
        parts = []
        if request_id is not None:
            record.request_id = request_id
            parts.append(f"request={request_id}")
        if job_id is not None:
            record.job_id = job_id
            parts.append(f"job={job_id}")
        record.context = f" [{' '.join(parts)}]" if parts else ""
        return True


def json_formatter() -> logging.Formatter:
    return JsonFormatter(
        "%(levelname)s %(name)s %(message)s",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
        reserved_attrs=[*RESERVED_ATTRS, "taskName", "context", "color_message"],
    )


def configure_logging(
    level: str,
    secrets: Iterable[str] = (),
    *,
    log_format: str = "text",
    stream: IO[str] | None = None,
) -> None:
    install_redaction(secrets)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.addFilter(LogContext())
    if log_format == "json":
        handler.setFormatter(json_formatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
