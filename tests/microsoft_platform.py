"""What a browser does with Microsoft's sign-in answers, for tests."""

from __future__ import annotations

from html.parser import HTMLParser


class FormPost(HTMLParser):
    """What a browser would POST from a form_post answer (an auto-submitting form)."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.action = found["action"]
        elif tag == "input" and found.get("type") == "hidden":
            self.fields[found["name"]] = found["value"]
