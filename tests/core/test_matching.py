"""Finding a service or provider by the name a person typed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.matching import NameMatch, explain_miss, find_by_name, normalise

NAMES = ["Online Yoga Class", "Yoga for Beginners", "Olena Koval", "Olga Petrenko", "Zoë Adams"]


def find(query: str) -> NameMatch[str]:
    return find_by_name(query, NAMES, lambda name: name)


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("  Olena   KOVAL ", "olena koval"),
        ("Zoë", "zoe"),
        ("STRASSE", "strasse"),
        ("Ａｂｃ", "abc"),
    ],
)
def test_names_are_compared_without_case_accents_or_extra_spaces(raw: str, normal: str) -> None:
    assert normalise(raw) == normal


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("olena koval", "Olena Koval"),  # exact, any case
        ("zoe adams", "Zoë Adams"),  # without the accent
        ("Olen", "Olena Koval"),  # a unique prefix
        ("yoga for", "Yoga for Beginners"),
        ("onl yoga", "Online Yoga Class"),  # each word starts a word, in order
        ("o k", "Olena Koval"),
    ],
)
def test_a_name_that_fits_one_item_finds_it(query: str, found: str) -> None:
    assert find(query).found == found


def test_a_prefix_of_several_names_lists_them() -> None:
    match = find("ol")
    assert match.found is None and match.ambiguous == ["Olena Koval", "Olga Petrenko"]


def test_a_prefix_wins_over_a_name_that_only_contains_the_words() -> None:
    assert find("yoga").found == "Yoga for Beginners"


def test_words_fitting_several_names_are_ambiguous() -> None:
    match = find_by_name("y c", ["Yoga Class", "Yin Class"], lambda name: name)
    assert match.found is None and match.ambiguous == ["Yin Class", "Yoga Class"]


def test_a_near_miss_suggests_close_names() -> None:
    match = find("Olena Kovl")
    assert match.found is None and match.suggestions == ["Olena Koval"]


def test_nothing_close_suggests_nothing() -> None:
    match = find("Pilates")
    assert (match.found, match.ambiguous, match.suggestions) == (None, [], [])


@pytest.mark.parametrize(
    ("query", "names", "expected"),
    [
        ("ol", NAMES, "More than one provider starts with “ol”: Olena Koval, Olga Petrenko."),
        ("Olena Kovl", NAMES, "No provider is called “Olena Kovl”. Did you mean: Olena Koval?"),
        ("Pilates", NAMES, "No provider is called “Pilates”. `providers` lists them."),
    ],
)
def test_a_miss_is_explained_in_words(query: str, names: list[str], expected: str) -> None:
    items: list[object] = list(names)
    match = find_by_name(query, items, str)
    assert explain_miss("provider", query, match, "providers").startswith(expected)


@settings(settings.get_profile("core"))
@given(st.lists(st.text(alphabet="abcdeéf ", min_size=1, max_size=12), min_size=1, max_size=6))
def test_every_distinct_name_finds_itself(names: list[str]) -> None:
    distinct = {normalise(name): name for name in names if normalise(name)}
    for name in distinct.values():
        assert find_by_name(name, list(distinct.values()), str).found == name
