"""Log records that cannot leak secrets and cannot flood (the shell decides where they go).

Every log record is cleaned when it is made (a log-record factory, so it holds for every logger
and every handler, including ones added later): the secret values meetbot knows (its settings,
and every value sealed or opened by the secret box) and anything shaped like a credential are
masked, and a message is cut to `MAX_MESSAGE_BYTES`. Request bodies that meetbot refuses are
described by `body_fingerprint` (length and SHA-256), never logged.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from itertools import islice
from typing import Any

import re2

# A formatted line (time, level, logger name, message) stays under 2 KB.
MAX_MESSAGE_BYTES = 1800
_WINDOW_BYTES = 4 * MAX_MESSAGE_BYTES
_TRACEBACK_BYTES = 32 * 1024
_SHORTEST_SECRET = 8  # shorter values would mask ordinary words
# Words of a remembered value that are looked up on their own: long enough to be no English word
# or field name ("organizations", "response_type"), as tokens, keys and codes are.
_SHORTEST_PIECE = 16
_LONGEST_SECRET = 4096  # a larger value (a token cache) is masked by the patterns instead
_REMEMBERED = 4096
_SEARCHED = 64  # the newest values, also found inside longer words
_PIECE = re.compile(rf"[A-Za-z0-9_-]{{{_SHORTEST_PIECE},}}")
MASK = "[redacted]"

_CREDENTIAL_FIELDS = (
    r"api[_-]?key|api[_-]?secret|secret|client[_-]?secret|signing[_-]?secret|password|passwd"
    r"|token|access[_-]?token|refresh[_-]?token|id[_-]?token|bot[_-]?token|code[_-]?verifier"
    r"|response[_-]?url|authorization|x-token|x-slack-signature|assertion"
)
# RE2: linear time whatever the text (a log line may carry what a stranger typed). Each pattern
# comes with words (case-folded) that any text it matches contains: a pattern is run only on a line
# that holds one of them, so an ordinary line (most of them) costs a few substring searches.
_PATTERNS: list[tuple[Any, str, tuple[str, ...]]] = [
    # key=value, key: value, "key": "value" (JSON, form and header shapes), any prefix too
    # (webhook_secret=, MEETBOT_ZOOM_CLIENT_SECRET=)
    (
        re2.compile(
            rf"(?i)([\"']?\b(?:[a-z0-9]+[_-])*(?:{_CREDENTIAL_FIELDS})[\"']?\s*[:=]\s*[\"']?)"
            r"(?:(?:bearer|basic)\s+)?[^\s\"'&,;}]+"
        ),
        rf"\1{MASK}",
        (
            "key",
            "secret",
            "passw",
            "token",
            "verifier",
            "url",
            "authorization",
            "signature",
            "assertion",
        ),
    ),
    (
        re2.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
        rf"\1 {MASK}",
        ("bearer", "basic"),
    ),
    (re2.compile(r"\bxox[a-z]-[A-Za-z0-9-]+"), f"xox?-{MASK}", ("xox",)),
    (re2.compile(r"\bxapp-[A-Za-z0-9-]+"), f"xapp-{MASK}", ("xapp-",)),
    # Standard Webhooks secrets
    (re2.compile(r"\bwhsec_[A-Za-z0-9+/=]+"), f"whsec_{MASK}", ("whsec_",)),
    (
        re2.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.?[A-Za-z0-9_-]*"),
        f"[jwt {MASK}]",
        ("eyj",),
    ),
    (
        re2.compile(r"https://hooks\.slack\.com/\S+"),
        f"https://hooks.slack.com/{MASK}",
        ("https://hooks.slack.com/",),
    ),
    (
        re2.compile(r"(/(?:webhooks/simplybook|m|h)/)[A-Za-z0-9_-]{16,}"),
        rf"\1{MASK}",
        ("/webhooks/simplybook/", "/m/", "/h/"),
    ),
]


class KnownSecrets:
    """The secret values meetbot knows; thread-safe and bounded. A log line is searched by its
    long words (runs of token characters, looked up in a set), so the cost does not grow with the
    number of values; the newest few values, and every pinned one, are also searched for as
    substrings. Pinned values (the server's own settings) are never forgotten; the others are the
    most recently sealed or opened ones."""

    def __init__(self, limit: int = _REMEMBERED, substring_limit: int = _SEARCHED) -> None:
        self._values: OrderedDict[str, tuple[str, ...]] = OrderedDict()
        self._pinned: set[str] = set()
        self._pieces: dict[str, int] = {}
        self._limit, self._substring_limit = limit, substring_limit
        self._lock = threading.Lock()
        # The values searched for as substrings (the newest and the pinned), kept between lines:
        # every line reads them, while they change only when a new value comes in.
        self._searched: tuple[str, ...] | None = None
        self._newest: frozenset[str] = frozenset()

    def pin(self, value: str) -> None:
        if not _SHORTEST_SECRET <= len(value) <= _LONGEST_SECRET:
            return
        with self._lock:
            if value not in self._pinned:
                self._pinned.add(value)
                self._searched = None
                for piece in _PIECE.findall(value):
                    self._pieces[piece] = self._pieces.get(piece, 0) + 1

    def add(self, value: str) -> None:
        if not _SHORTEST_SECRET <= len(value) <= _LONGEST_SECRET:
            return
        with self._lock:
            if value in self._pinned:
                return
            if value in self._values:
                self._values.move_to_end(value)
                if value not in self._newest:  # it joins the newest, the oldest of them leaves
                    self._searched = None
                return
            pieces = tuple(_PIECE.findall(value))
            self._values[value] = pieces
            self._searched = None
            for piece in pieces:
                self._pieces[piece] = self._pieces.get(piece, 0) + 1
            while len(self._values) > self._limit:
                self._forget(*self._values.popitem(last=False))

    def _forget(self, _value: str, pieces: tuple[str, ...]) -> None:
        for piece in pieces:
            left = self._pieces[piece] - 1
            if left:
                self._pieces[piece] = left
            else:
                del self._pieces[piece]

    def mask(self, text: str) -> str:
        with self._lock:
            found = self._pieces.keys() & _PIECE.findall(text)
            searched = self._searched if self._searched is not None else self._search_again()
        # `filter` with the bound `in` runs the substring searches without a Python-level loop.
        found.update(filter(text.__contains__, searched))
        for value in sorted(found, key=len, reverse=True):
            text = text.replace(value, MASK)
        return text

    def _search_again(self) -> tuple[str, ...]:
        newest = tuple(islice(reversed(self._values), self._substring_limit))
        self._newest = frozenset(newest)
        self._searched = (*newest, *self._pinned)
        return self._searched


KNOWN_SECRETS = KnownSecrets()


def remember_secret(value: str) -> None:
    """Tells the log cleaner a value that must never appear in a log line. A JSON document (a
    sign-in's saved flow, a token set) is remembered by its string values, not as a whole: its
    field names and URLs are no secret and must stay readable in other lines."""
    for secret in _secret_values(value):
        KNOWN_SECRETS.add(secret)


def _secret_values(value: str) -> list[str]:
    if not value.startswith(("{", "[")):
        return [value]
    try:
        document = json.loads(value)
    except ValueError:
        return [value]
    found: list[str] = []
    stack = [document]
    while stack:  # iterative: a sealed document's depth is ours, but stay bounded anyway
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and not _plainly_no_secret(item):
            found.append(item)
    return found


_WORDS = re.compile(r"[A-Za-z_]+( [A-Za-z_.]+)*")


def _plainly_no_secret(value: str) -> bool:
    """A document's URLs, short words ("organizations", "code") and phrases (a scope list) are
    read in other log lines too; masking them would hide what those lines say. Random values
    (verifiers, states, tokens) are long or carry digits and symbols."""
    if value.startswith(("http://", "https://")):
        return True
    return _WORDS.fullmatch(value) is not None and (len(value) < 16 or " " in value)


# Every pattern's words at once: most lines hold none of them and are done after one pass.
_ANY_HINT = tuple(hint for _, _, hints in _PATTERNS for hint in hints)


def redact(text: str) -> str:
    text = KNOWN_SECRETS.mask(text)
    lowered = text.casefold()
    if not any(map(lowered.__contains__, _ANY_HINT)):
        return text
    for pattern, replacement, hints in _PATTERNS:
        if any(map(lowered.__contains__, hints)):
            text = pattern.sub(replacement, text)
            lowered = text.casefold()
    return text


def cap(text: str, limit: int = MAX_MESSAGE_BYTES) -> str:
    if len(text) * 4 <= limit:  # no character takes more than 4 bytes: short enough unencoded
        return text
    raw = text.encode("utf-8", errors="replace")
    if len(raw) <= limit:
        return text
    kept = raw[: limit - 40].decode("utf-8", errors="ignore")
    return f"{kept} … [{len(raw) - len(kept.encode())} more bytes]"


def body_fingerprint(body: bytes | str) -> str:
    """How a refused request body is logged: its length and digest, never its content."""
    raw = body.encode("utf-8", errors="replace") if isinstance(body, str) else body
    return f"{len(raw)} bytes, sha256 {hashlib.sha256(raw).hexdigest()}"


def clean(text: str, limit: int = MAX_MESSAGE_BYTES) -> str:
    """Masked and cut to `limit` bytes. A bounded window is masked first, so a huge message
    costs little; a secret cut at the window's edge lies beyond the final cut anyway."""
    return cap(redact(cap(text, _WINDOW_BYTES)), limit)


def clean_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # arguments that do not fit the format
        message = f"{record.msg!s} {record.args!r}"
    record.msg, record.args = clean(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = _clean_lines(record.exc_text)
    if record.stack_info:
        record.stack_info = _clean_lines(record.stack_info)


def clean_traceback(text: str) -> str:
    """A traceback (or stack) masked and cut, line by line."""
    return _clean_lines(text)


def _clean_lines(text: str) -> str:
    masked = redact(cap(text, _TRACEBACK_BYTES))
    return "\n".join(cap(line) for line in masked.splitlines())


_installed = threading.Lock()
_factory_installed = False


def install_redaction(secrets: Iterable[str] = ()) -> None:
    """Cleans every log record from now on; idempotent, so every entry point may call it."""
    global _factory_installed
    for secret in secrets:
        KNOWN_SECRETS.pin(secret)
    with _installed:
        if _factory_installed:
            return
        logging.setLogRecordFactory(_cleaning(logging.getLogRecordFactory()))
        _factory_installed = True


def _cleaning(make: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        clean_record(record)
        return record

    return factory
