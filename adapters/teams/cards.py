"""ChatMessage → Adaptive Card for Teams. Pure: no I/O, tested on the JSON alone.

Wire facts relied on (Teams docs "Format cards in Teams"; Adaptive Cards "Text features" and
schema; the Adaptive Cards renderers' Markdown parsers):
- Teams renders Markdown in `TextBlock.text` and in `Fact.title` / `Fact.value`, and nowhere
  else (action titles and input labels are plain text). It honours **bold**, _italic_ and
  *italic*, `- ` and `1. ` lists at a line start, [text](url) links; HTML is not rendered. The
  web and desktop clients parse with a CommonMark parser (markdown-it) and the mobile clients with
  the Adaptive Cards object model's (md4c); both also know `code`, ~~strike~~ and <autolinks>,
  and both drop a backslash before ASCII punctuation and show the character literally.
- A single "\\n" is no line break in a TextBlock; "\\n\\n" is.
- `{{DATE(<RFC 3339>, SHORT|LONG)}}` and `{{TIME(<RFC 3339>)}}` in TextBlock text become the
  reader's local date and time; they are expanded before Markdown, so "\\{\\{" stops them.
- A FactSet cannot wrap: a long value (a link) is clipped at the card's edge. Facts are TextBlocks
  ("**label:** value", `wrap: true`) instead.
- Mentions in a card (Teams docs "Mention support within Adaptive Cards"): the text holds
  `<at>name</at>` and the card's `msteams.entities` a {"type": "mention", "text": "<at>name</at>",
  "mentioned": {"id": <Entra object id or Teams user id>, "name"}} per person; only then is the
  person notified.
- Input.Text `style: "password"` masks what is typed (schema 1.5). Action.Submit sends its `data`
  merged with the inputs' values as the `value` of a message activity that replies to the card.
- Teams shows card versions up to 1.5.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC
from typing import Any
from urllib.parse import quote

import re2

from bot.messages import (
    ActionButton,
    ChatMessage,
    Fact,
    Link,
    LinkButton,
    Mentioned,
    Segment,
    Text,
    When,
)

CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
ACTION_KEY = "meetbot_action"  # Action.Submit data of a meetbot button: {ACTION_KEY, "value"}
FORM_KEY = "meetbot_form"
SIMPLYBOOK_FORM = "simplybook"
FORM_FIELDS = ("login", "api_key", "api_secret")
FILE_TEXT_LIMIT = 20 * 1024  # Teams refuses messages over about 28 KB

# Escaped wherever they stand, so no construct can form across two pieces of text either:
# "&" (entities), "{" (the date functions) and the inline Markdown characters.
_INLINE = frozenset("\\*_[]`~<{&")
# Every pattern here meets text anyone may have written, so each runs in linear time: those that
# could retry a long run from many starting points run on RE2; the stdlib keeps the two that do
# constant work per position (no quantifier; a `^`-pinned run of blanks or digits), being faster.
_LINE_START = re.compile(r"^([ \t]*)([-+#>]|\d+(?=[.)]))", re.MULTILINE)
_MENTION = re2.compile(r"<([@#])([A-Za-z0-9._:@-]+)(?:\|([^>]*))?>")
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
_DATE = re2.compile(r"\{\{DATE\(([^,)]+), (?:LONG|SHORT)\)\}\} \{\{TIME\(([^)]+)\)\}\}")
_TIME = re2.compile(r"\{\{TIME\(([^)]+)\)\}\}")
_CODE = re2.compile(r"`([^`\n]{1,300})`")
_AT = re2.compile(r"<at>([^<]{0,200})</at>")
_NOT_IN_NAME = re2.compile(r"[^\pL\pN .'-]")
COMMAND_PREFIX = "/meetings "  # Slack's command; in Teams commands are typed without it


def escape(text: str) -> str:
    """`text` shown literally: every Markdown construct Teams honours is escaped, and so are the
    date functions, so a client named `*x* [a](http://evil)` reads exactly that."""
    escaped = "".join("\\" + char if char in _INLINE else char for char in text)
    escaped = _LINE_START.sub(_escape_marker, escaped)
    return _paragraphs(escaped)


def _escape_marker(found: re.Match[str]) -> str:
    indent, marker = found.group(1), found.group(2)
    if marker.isdigit():  # "1." or "1)" starts an ordered list: escape the punctuation after it
        return f"{indent}{marker}\\"
    return f"{indent}\\{marker}"


def _paragraphs(markdown: str) -> str:
    return markdown.replace("\r\n", "\n").replace("\n", "\n\n")


def _url(url: str) -> str:
    """A link destination that cannot end early or carry Markdown of its own."""
    return quote(url, safe=":/?#@!$&'*+,;=%-._~")


def _with_mentions(text: str, names: Mapping[str, str]) -> str:
    """meetbot's own texts (title, text, note) name commands as `code` (Slack's way): in Teams a
    command is typed without `/meetings`, so it is shown bold and without the prefix."""
    parts: list[str] = []
    position = 0
    for found in _CODE.finditer(text):
        parts.append(_naming(text[position : found.start()], names))
        command = found.group(1).removeprefix(COMMAND_PREFIX).removeprefix("/meetings")
        parts.append(f"**{escape(command.strip() or 'help')}**")
        position = found.end()
    parts.append(_naming(text[position:], names))
    return "".join(parts)


def _naming(text: str, names: Mapping[str, str]) -> str:
    """People and channels named as `<@id>` / `<#id>` are shown by name where known. Everything
    else is escaped; a card never pings anyone this way (only `ChatMessage.mentions` do)."""
    parts: list[str] = []
    position = 0
    for found in _MENTION.finditer(text):
        parts.append(escape(text[position : found.start()]))
        sigil, ident, label = found.group(1), found.group(2), found.group(3)
        parts.append(escape(sigil + (names.get(ident) or label or ident)))
        position = found.end()
    parts.append(escape(text[position:]))
    return "".join(parts)


def segments_markdown(segments: tuple[Segment, ...]) -> str:
    """A company's wording: literal text, real links, and moments in each reader's own zone."""
    out: list[str] = []
    for segment in segments:
        if isinstance(segment, Text):
            out.append(escape(segment.text))
        elif isinstance(segment, Link):
            label = escape(segment.label or segment.url).replace("\n", " ")
            out.append(f"[{label}]({_url(segment.url)})")
        elif isinstance(segment, When):
            out.append(_moment(segment, "LONG"))
    return "".join(out)


def _moment(segment: When, date_style: str) -> str:
    moment = segment.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if segment.time_only:
        return f"{{{{TIME({moment})}}}}"
    return f"{{{{DATE({moment}, {date_style})}}}} {{{{TIME({moment})}}}}"


def _fact_block(fact: Fact) -> dict[str, Any]:
    """A fact as a wrapping TextBlock; its moments in the reader's own zone."""
    if fact.shown:
        value = "".join(
            _moment(part, "SHORT") if isinstance(part, When) else segments_markdown((part,))
            for part in fact.shown
        )
    else:
        value = escape(fact.value)
    return _text_block(f"**{escape(fact.label)}:** {value}", spacing="Small")


def _mention_name(person: Mentioned) -> str:
    return _NOT_IN_NAME.sub("", person.name).strip() or "staff"


def _mentions(people: tuple[Mentioned, ...]) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The TextBlock naming each person, and the card's `msteams` entities that notify them."""
    if not people:
        return None, {}
    tags = [f"<at>{_mention_name(person)}</at>" for person in people]
    entities = [
        {
            "type": "mention",
            "text": tag,
            "mentioned": {"id": person.user_id, "name": _mention_name(person)},
        }
        for tag, person in zip(tags, people, strict=True)
    ]
    return _text_block(", ".join(tags)), {"msteams": {"entities": entities}}


def _text_block(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _card(body: list[dict[str, Any]], actions: list[dict[str, Any]]) -> dict[str, Any]:
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "body": body,
    }
    if actions:
        card["actions"] = actions
    return card


def _open_url(button: LinkButton) -> dict[str, Any]:
    action = {"type": "Action.OpenUrl", "title": button.label, "url": button.url}
    return {**action, "style": "positive"} if button.primary else action


def _submit(button: ActionButton) -> dict[str, Any]:
    action: dict[str, Any] = {
        "type": "Action.Submit",
        "title": button.label,
        "data": {ACTION_KEY: button.action_id, "value": button.value},
    }
    style = {"primary": "positive", "danger": "destructive"}.get(button.style)
    return {**action, "style": style} if style else action


def render_card(message: ChatMessage, *, names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The card for `message`; `names` shows `<@id>` / `<#id>` in meetbot's texts by name."""
    known = names or {}
    title = _naming(message.title, known)  # titles hold names as typed: no command markup
    body = [_text_block(title, weight="Bolder", size="Large")]
    if message.text:
        body.append(_text_block(_with_mentions(message.text, known)))
    mentioned, entities = _mentions(message.mentions)
    if mentioned is not None:
        body.append(mentioned)
    if message.body:
        body.append(_text_block(segments_markdown(message.body)))
    body.extend(_fact_block(fact) for fact in message.facts)
    if message.note:
        body.append(_text_block(_with_mentions(message.note, known), isSubtle=True, size="Small"))
    actions = [_open_url(b) for b in message.buttons] + [_submit(a) for a in message.actions]
    return {**_card(body, actions), **entities}


def simplybook_form(
    *, errors: Mapping[str, str] | None = None, login: str = "", note: str = ""
) -> dict[str, Any]:
    """The credentials form. Secrets are masked and never put back in: after a failed try only the
    company login is filled in again."""
    problems = errors or {}
    body = [
        _text_block(escape("Connect SimplyBook.me"), weight="Bolder", size="Large"),
        _text_block(
            escape(
                "Find these in SimplyBook.me: Settings → API. The secret stays encrypted in "
                "meetbot and is never shown again."
            )
        ),
    ]
    if note:
        body.append(_text_block(escape(note), color="Attention"))
    fields = (
        ("login", "Company login", "The login you use to sign in to SimplyBook.me", False),
        ("api_key", "API key", "SimplyBook.me → Settings → API → API key", True),
        ("api_secret", "API secret", "Same page: the secret key", True),
    )
    for name, label, hint, secret in fields:
        field: dict[str, Any] = {
            "type": "Input.Text",
            "id": name,
            "label": label,
            "placeholder": hint,
            "isRequired": True,
            "errorMessage": f"{label} is required",
        }
        if secret:
            field["style"] = "password"
        elif login:
            field["value"] = login
        body.append(field)
        if name in problems:
            body.append(_text_block(escape(problems[name]), color="Attention", size="Small"))
    connect = {"type": "Action.Submit", "title": "Connect", "data": {FORM_KEY: SIMPLYBOOK_FORM}}
    return _card(body, [{**connect, "style": "positive"}])


def notice_card(title: str, text: str = "") -> dict[str, Any]:
    body = [_text_block(escape(title), weight="Bolder", size="Medium")]
    if text:
        body.append(_text_block(escape(text)))
    return _card(body, [])


def file_card(*, title: str, comment: str, filename: str, content: bytes) -> dict[str, Any]:
    """A CSV shown as text: Teams bots cannot attach a file to a chat without asking the person
    first (a file-consent card), so the rows are in the card for copying into `filename`."""
    text = content.decode("utf-8", "replace").lstrip("\ufeff")
    lines = text.splitlines()
    shown, size = 0, 0
    for line in lines:
        size += len(escape(line).encode()) + 2
        if size > FILE_TEXT_LIMIT:
            break
        shown += 1
    if shown == len(lines):
        note = f"Teams does not take files from bots here, so this is the whole of {filename}: copy the lines into a file with that name."
    else:
        note = f"Teams does not take files from bots here, and {filename} is too long for one message: these are its first {shown} of {len(lines)} lines. Narrow the report (dates, service or provider) to see the rest."
    body = [
        _text_block(escape(title), weight="Bolder", size="Large"),
        _text_block(escape(comment)),
        _text_block(escape(note), isSubtle=True, size="Small"),
        _text_block(escape("\n".join(lines[:shown])), fontType="Monospace", size="Small"),
    ]
    return _card(body, [])


def unescape(markdown: str) -> str:
    """What a reader sees of text this module escaped (moments stay as their ISO time)."""
    text = _DATE.sub(lambda found: found.group(1), markdown)
    text = _AT.sub(lambda found: "@" + found.group(1), _TIME.sub(lambda f: f.group(1), text))
    return _ESCAPED.sub(r"\1", _unbold(_link_texts(text))).replace("\n\n", "\n")


def _unbold(markdown: str) -> str:
    """Drops the "**" meetbot adds (user text has every "*" escaped), in one pass."""
    out: list[str] = []
    at = 0
    while at < len(markdown):
        if markdown[at] == "\\":
            out.append(markdown[at : at + 2])
            at += 2
        elif markdown.startswith("**", at):
            at += 2
        else:
            out.append(markdown[at])
            at += 1
    return "".join(out)


def _link_texts(markdown: str) -> str:
    """`[text](url)` → text, escaped characters untouched. Scanned by hand in one pass: a pattern
    would retry every unclosed "[" to the end of the text, which is quadratic."""
    out: list[str] = []
    opened: int | None = None  # where in `out` the last unescaped "[" went
    closes_left = True  # False once no ")" follows: no link can end any more
    at = 0
    while at < len(markdown):
        char = markdown[at]
        if char == "\\":
            out.append(markdown[at : at + 2])
            at += 2
            continue
        close = -1
        if char == "]" and opened is not None and markdown.startswith("(", at + 1) and closes_left:
            close = markdown.find(")", at + 2)
            closes_left = close >= 0
        if close >= 0 and opened is not None:
            out[opened:] = out[opened + 1 :]  # the label stays, its brackets and URL go
            at = close + 1
            opened = None
            continue
        opened = len(out) if char == "[" else None if char == "]" else opened
        out.append(char)
        at += 1
    return "".join(out)


def card_text(card: Mapping[str, Any]) -> str:
    """A card's visible text, one line per block: titles, texts, facts as "label: value", then
    the buttons as "[label] url" (or "[label]" for buttons that come back to meetbot)."""
    lines: list[str] = []
    for element in card.get("body") or []:
        kind = element.get("type")
        if kind == "TextBlock":
            lines.append(unescape(str(element.get("text", ""))))
        elif kind == "FactSet":
            lines.extend(
                f"{unescape(str(fact.get('title', '')))}: {unescape(str(fact.get('value', '')))}"
                for fact in element.get("facts") or []
            )
        elif kind == "Input.Text":
            lines.append(f"{element.get('label', '')}: {element.get('value', '')}".rstrip(": "))
    for action in card.get("actions") or []:
        url = action.get("url")
        lines.append(
            f"[{action.get('title', '')}] {url}" if url else f"[{action.get('title', '')}]"
        )
    return "\n".join(lines)


def activity_cards(activity: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The Adaptive Cards an activity (as JSON) carries."""
    return [
        attachment["content"]
        for attachment in activity.get("attachments") or []
        if attachment.get("contentType") == CONTENT_TYPE
        and isinstance(attachment.get("content"), dict)
    ]
