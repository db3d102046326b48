"""The pages' Jinja environment, built on first use."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jinja2 import Environment

_TEMPLATES = Path(__file__).parent / "templates"


@functools.cache
def templates() -> Environment:
    # Imported here: only the link and site pages render HTML, and jinja2 costs close to 2 MiB
    # that a process answering webhooks and chat events alone never needs.
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html"]))
