"""Where log lines go and how they look; every record is cleaned by `bot.redaction` first."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bot.redaction import install_redaction


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    install_redaction(secrets)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "slack_sdk", "aiohttp", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
