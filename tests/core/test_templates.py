"""Company templates: checked on save, rendered into literal segments, the most specific chosen."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.messages import Link, Text, When
from bot.templates import (
    MAX_LENGTH,
    VARIABLES,
    MessageTemplate,
    TemplateKind,
    TemplateScope,
    TemplateValues,
    as_plain_text,
    choose,
    problems,
    render,
)

AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
VALUES = TemplateValues(
    client_link="https://m/c",
    host_link="https://m/h",
    service="Yoga",
    provider="Olena",
    client="Ann",
    start=AT,
    start_text="1 Dec 10:00 (UTC)",
)


@pytest.mark.parametrize(
    "body",
    [
        "Hello [client]",
        "Join: [online_meeting_link]",
        "[service] with [provider] at [start]; host: [online_meeting_provider_link]",
        "No variables at all",
        "A [bracket with spaces] is plain text",
        "x" * MAX_LENGTH,
    ],
)
def test_good_templates_have_no_problems(body: str) -> None:
    assert problems(body) == []


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("", "the template is empty"),
        ("   \n ", "the template is empty"),
        ("x" * (MAX_LENGTH + 1), f"longer than {MAX_LENGTH} characters"),
        ("Hi [name]", "unknown variable(s) [name]"),
        ("[b] [a] [b]", "unknown variable(s) [a], [b]"),
        ("Hi [Client]", "unknown variable(s) [Client]"),  # names are exact
    ],
)
def test_bad_templates_say_what_is_wrong(body: str, problem: str) -> None:
    found = problems(body)
    assert any(problem in item for item in found), found


def test_unknown_variable_problem_lists_the_valid_ones() -> None:
    (problem,) = problems("[nope]")
    for name in VARIABLES:
        assert f"[{name}]" in problem


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("Hello [client]!", (Text("Hello "), Text("Ann"), Text("!"))),
        ("[service]/[provider]", (Text("Yoga"), Text("/"), Text("Olena"))),
        ("Join [online_meeting_link]", (Text("Join "), Link("https://m/c"))),
        ("[online_meeting_provider_link]", (Link("https://m/h"),)),
        ("At [start]", (Text("At "), When(AT, "1 Dec 10:00 (UTC)"))),
        ("Keep [unknown] as typed", (Text("Keep "), Text("[unknown]"), Text(" as typed"))),
        ("", ()),
    ],
)
def test_render_turns_variables_into_segments(body: str, segments: tuple[object, ...]) -> None:
    assert render(body, VALUES) == segments


def test_values_are_literal_text_even_when_they_look_like_markup() -> None:
    hostile = replace(VALUES, client="<!channel> *bold* [service]")
    assert render("[client]", hostile) == (Text("<!channel> *bold* [service]"),)


def test_plain_text_shows_links_as_urls_and_times_in_the_company_zone() -> None:
    rendered = render("[client] at [start]: [online_meeting_link]", VALUES)
    assert as_plain_text(rendered) == "Ann at 1 Dec 10:00 (UTC): https://m/c"


@settings(settings.get_profile("core"))
@given(st.text(max_size=200).filter(lambda body: "[" not in body))
def test_text_without_variables_renders_back_to_itself(body: str) -> None:
    assert as_plain_text(render(body, VALUES)) == body


@settings(settings.get_profile("core"))
@given(
    st.lists(st.sampled_from(sorted(VARIABLES)), max_size=6), st.text(alphabet="ab ", max_size=5)
)
def test_templates_made_of_known_variables_can_always_be_saved(names: list[str], glue: str) -> None:
    body = "Hi " + glue.join(f"[{name}]" for name in names)
    assert problems(body) == []


def template(
    scope: TemplateScope, scope_id: str, kind: TemplateKind = TemplateKind.PROVIDER
) -> MessageTemplate:
    return MessageTemplate(kind, scope, scope_id, f"{scope}:{scope_id}")


COMPANY = template(TemplateScope.COMPANY, "")
SERVICE = template(TemplateScope.SERVICE, "s1")
PROVIDER = template(TemplateScope.PROVIDER, "p1")
OTHER_PROVIDER = template(TemplateScope.PROVIDER, "p2")
CLIENT_KIND = template(TemplateScope.PROVIDER, "p1", TemplateKind.CLIENT)


@pytest.mark.parametrize(
    ("saved", "chosen"),
    [
        ([COMPANY, SERVICE, PROVIDER], PROVIDER),
        ([COMPANY, SERVICE], SERVICE),
        ([COMPANY, OTHER_PROVIDER], COMPANY),
        ([SERVICE, COMPANY, PROVIDER], PROVIDER),  # order saved does not matter
        ([OTHER_PROVIDER, CLIENT_KIND], None),  # another provider's, or another kind
        ([], None),
    ],
    ids=["provider", "service", "company", "any order", "none fits", "none saved"],
)
def test_the_most_specific_template_is_chosen(
    saved: list[MessageTemplate], chosen: MessageTemplate | None
) -> None:
    found = choose(saved, TemplateKind.PROVIDER, service_id="s1", provider_id="p1")
    assert found == chosen
