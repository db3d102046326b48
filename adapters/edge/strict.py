"""Strict, bounded parsing of untrusted JSON and forms, shared by every route.

Python's own parsers accept what a stranger can turn into a crash or a stall: nesting deep
enough to raise RecursionError, a 5,000-digit number (beyond the int-str conversion limit),
lone surrogates that break UTF-8 encoding later, NUL characters PostgreSQL refuses. Everything
here raises `BadInput` with a short reason instead, which a route answers with 400.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl


class BadInput(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Bounds:
    max_depth: int = 32
    max_number_chars: int = 40
    max_string_chars: int = 64 * 1024
    max_items: int = 10_000
    max_form_fields: int = 100


DEFAULT = Bounds()


def decode_utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadInput("the body is not valid UTF-8") from error


def parse_json(raw: bytes, bounds: Bounds = DEFAULT) -> Any:
    """A JSON document within `bounds`; strictly UTF-8 (json.loads would also guess UTF-16/32)."""
    text = decode_utf8(raw)

    def number(literal: str, convert: type[int] | type[float]) -> int | float:
        if len(literal) > bounds.max_number_chars:
            raise BadInput("a number in the body is too long")
        value = convert(literal)
        if isinstance(value, float) and not math.isfinite(value):
            raise BadInput("a number in the body is out of range")
        return value

    def constant(name: str) -> None:
        raise BadInput(f"{name} is not JSON")

    try:
        document = json.loads(
            text,
            parse_int=lambda literal: number(literal, int),
            parse_float=lambda literal: number(literal, float),
            parse_constant=constant,
        )
    except RecursionError as error:
        raise BadInput("the body is nested too deeply") from error
    except BadInput:
        raise
    except ValueError as error:
        raise BadInput("the body is not valid JSON") from error
    check_tree(document, bounds)
    return document


def check_tree(document: Any, bounds: Bounds = DEFAULT) -> None:
    """Depth, size and text of an already parsed document, walked without recursion."""
    pending: list[tuple[Any, int]] = [(document, 1)]
    seen = 0
    while pending:
        value, depth = pending.pop()
        seen += 1
        if seen > bounds.max_items:
            raise BadInput("the body has too many values")
        if isinstance(value, str):
            check_text(value, bounds)
        elif isinstance(value, dict | list):
            if depth > bounds.max_depth:
                raise BadInput("the body is nested too deeply")
            children = value.items() if isinstance(value, dict) else enumerate(value)
            for key, child in children:
                if isinstance(key, str):
                    check_text(key, bounds)
                pending.append((child, depth + 1))


def check_text(value: str, bounds: Bounds = DEFAULT) -> None:
    if len(value) > bounds.max_string_chars:
        raise BadInput("a text in the body is too long")
    if "\x00" in value:
        raise BadInput("a text in the body contains a NUL character")
    try:  # json.loads lets "\ud800" through; encoding it later would fail
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise BadInput("a text in the body is not valid Unicode") from error


def parse_json_object(raw: bytes, bounds: Bounds = DEFAULT) -> dict[str, Any]:
    document = parse_json(raw, bounds)
    if not isinstance(document, dict):
        raise BadInput("the body must be a JSON object")
    return document


def parse_form(raw: bytes | str, bounds: Bounds = DEFAULT) -> dict[str, str]:
    """An `application/x-www-form-urlencoded` body or a query string; the last value of a name wins."""
    text = decode_utf8(raw) if isinstance(raw, bytes) else raw
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            max_num_fields=bounds.max_form_fields,
            encoding="utf-8",
            errors="strict",
        )
    except UnicodeDecodeError as error:
        raise BadInput("a form value is not valid UTF-8") from error
    except ValueError as error:  # more fields than max_num_fields
        raise BadInput("the form has too many fields") from error
    for name, value in pairs:
        check_text(name, bounds)
        check_text(value, bounds)
    return dict(pairs)
