"""Finding a service or provider by the name a person typed: forgiving of case, accents and
spacing, accepting a unique prefix, and suggesting close names when nothing fits."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


def normalise(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())


@dataclass(frozen=True)
class NameMatch(Generic[T]):
    found: T | None = None
    ambiguous: list[str] = field(default_factory=list)  # names that all fit
    suggestions: list[str] = field(default_factory=list)  # close names, when none fit


def find_by_name(query: str, items: Sequence[T], name_of: Callable[[T], str]) -> NameMatch[T]:
    wanted = normalise(query)
    names = {normalise(name_of(item)): item for item in items}
    if wanted in names:
        return NameMatch(found=names[wanted])
    starting = [item for key, item in names.items() if key.startswith(wanted)]
    if len(starting) == 1:
        return NameMatch(found=starting[0])
    if starting:
        return NameMatch(ambiguous=sorted(name_of(item) for item in starting))
    by_words = [item for key, item in names.items() if _words_fit(wanted, key)]
    if len(by_words) == 1:
        return NameMatch(found=by_words[0])
    if by_words:
        return NameMatch(ambiguous=sorted(name_of(item) for item in by_words))
    close = difflib.get_close_matches(wanted, list(names), n=3, cutoff=0.6)
    containing = [key for key in names if wanted in key and key not in close]
    return NameMatch(suggestions=[name_of(names[key]) for key in [*close, *containing][:3]])


def _words_fit(wanted: str, key: str) -> bool:
    """Each typed word starts some word of the name, in order ("onl yoga" fits "online yoga class")."""
    words = key.split()
    position = 0
    for part in wanted.split():
        while position < len(words) and not words[position].startswith(part):
            position += 1
        if position == len(words):
            return False
        position += 1
    return True


def explain_miss(kind: str, query: str, match: NameMatch[object], listing: str) -> str:
    if match.ambiguous:
        return f"More than one {kind} starts with “{query}”: {', '.join(match.ambiguous)}. Type more of the name."
    if match.suggestions:
        return f"No {kind} is called “{query}”. Did you mean: {', '.join(match.suggestions)}?"
    return f"No {kind} is called “{query}”. `{listing}` lists them."
