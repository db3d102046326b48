"""Block Kit's limits, checked the way Slack checks a view before taking it.

Wire facts (docs.slack.dev Block Kit reference, surfaces and views.publish):
- A Home tab or modal view holds at most 100 blocks (a message 50); `private_metadata` at most
  3000 characters, `callback_id` and `external_id` 255.
- `block_id` at most 255 characters and unique within the view; `action_id` at most 255 and
  unique among the action ids of its block.
- header: plain_text, at most 150 characters. section: `text` at most 3000 characters, or
  `fields` (at most 10, each at most 2000); an accessory is one element. context: at most 10
  elements. actions: at most 25 elements.
- button: `text` plain_text at most 75 characters, `value` at most 2000, `url` at most 3000,
  `style` "primary" or "danger".
- A text object is `plain_text` or `mrkdwn` with non-empty text.
Slack answers a view that breaks any of these with `invalid_blocks` and says where in
`response_metadata.messages` ("[ERROR] ... [json-pointer:/view/blocks/3/text/text]").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

VIEW_BLOCKS = 100
KNOWN_BLOCKS = {"actions", "context", "divider", "header", "image", "input", "rich_text", "section"}
TEXT_TYPES = ("plain_text", "mrkdwn")


def view_problems(view: Any) -> list[str]:
    """Every limit `view` breaks, each with the JSON pointer Slack would name; [] when none."""
    if not isinstance(view, dict):
        return ["[ERROR] the view must be an object [json-pointer:/view]"]
    problems = list(_view_fields(view))
    blocks = view.get("blocks")
    if not isinstance(blocks, list) or not 1 <= len(blocks) <= VIEW_BLOCKS:
        problems.append(
            f"[ERROR] between 1 and {VIEW_BLOCKS} blocks allowed [json-pointer:/view/blocks]"
        )
        return problems
    seen_ids: set[str] = set()
    for number, block in enumerate(blocks):
        where = f"/view/blocks/{number}"
        problems += list(_block(block, where))
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if isinstance(block_id, str):
            if block_id in seen_ids:
                problems.append(f"[ERROR] duplicate block_id [json-pointer:{where}/block_id]")
            seen_ids.add(block_id)
    return problems


def _view_fields(view: dict[str, Any]) -> Iterator[str]:
    for name, limit in (("private_metadata", 3000), ("callback_id", 255), ("external_id", 255)):
        value = view.get(name, "")
        if not isinstance(value, str) or len(value) > limit:
            yield f"[ERROR] must be text of at most {limit} characters [json-pointer:/view/{name}]"


def _block(block: Any, where: str) -> Iterator[str]:
    if not isinstance(block, dict) or block.get("type") not in KNOWN_BLOCKS:
        yield f"[ERROR] unknown block type [json-pointer:{where}/type]"
        return
    yield from _length(block, "block_id", 255, where)
    kind = block["type"]
    if kind == "header":
        yield from _text(block.get("text"), 150, f"{where}/text", plain_only=True)
    elif kind == "section":
        yield from _section(block, where)
    elif kind == "context":
        yield from _context(block, where)
    elif kind == "actions":
        yield from _elements(block.get("elements"), 25, where)


def _section(block: dict[str, Any], where: str) -> Iterator[str]:
    fields = block.get("fields")
    if "text" not in block and not fields:
        yield f"[ERROR] a section needs text or fields [json-pointer:{where}]"
    if "text" in block:
        yield from _text(block["text"], 3000, f"{where}/text")
    if fields is not None:
        if not isinstance(fields, list) or len(fields) > 10:
            yield f"[ERROR] at most 10 fields [json-pointer:{where}/fields]"
        else:
            for number, item in enumerate(fields):
                yield from _text(item, 2000, f"{where}/fields/{number}")
    if "accessory" in block:
        yield from _elements([block["accessory"]], 1, where, key="accessory")


def _context(block: dict[str, Any], where: str) -> Iterator[str]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
        yield f"[ERROR] between 1 and 10 elements [json-pointer:{where}/elements]"
        return
    for number, element in enumerate(elements):
        if isinstance(element, dict) and element.get("type") == "image":
            continue
        yield from _text(element, 3000, f"{where}/elements/{number}")


def _elements(elements: Any, most: int, where: str, *, key: str = "elements") -> Iterator[str]:
    if not isinstance(elements, list) or not 1 <= len(elements) <= most:
        yield f"[ERROR] between 1 and {most} elements [json-pointer:{where}/{key}]"
        return
    action_ids: set[str] = set()
    for number, element in enumerate(elements):
        at = f"{where}/{key}" if key == "accessory" else f"{where}/{key}/{number}"
        if not isinstance(element, dict):
            yield f"[ERROR] an element must be an object [json-pointer:{at}]"
            continue
        action_id = element.get("action_id")
        if isinstance(action_id, str):
            if action_id in action_ids:
                yield f"[ERROR] duplicate action_id in the block [json-pointer:{at}/action_id]"
            action_ids.add(action_id)
        yield from _length(element, "action_id", 255, at)
        if element.get("type") == "button":
            yield from _button(element, at)


def _button(button: dict[str, Any], where: str) -> Iterator[str]:
    yield from _text(button.get("text"), 75, f"{where}/text", plain_only=True)
    yield from _length(button, "value", 2000, where)
    yield from _length(button, "url", 3000, where)
    if button.get("style", "primary") not in ("primary", "danger"):
        yield f"[ERROR] style must be primary or danger [json-pointer:{where}/style]"


def _text(text: Any, limit: int, where: str, *, plain_only: bool = False) -> Iterator[str]:
    allowed = ("plain_text",) if plain_only else TEXT_TYPES
    if not isinstance(text, dict) or text.get("type") not in allowed:
        yield f"[ERROR] must be a {' or '.join(allowed)} text object [json-pointer:{where}]"
        return
    value = text.get("text")
    if not isinstance(value, str) or not 1 <= len(value) <= limit:
        yield f"[ERROR] must be 1 to {limit} characters [json-pointer:{where}/text]"


def _length(item: dict[str, Any], name: str, limit: int, where: str) -> Iterator[str]:
    value = item.get(name)
    if value is not None and (not isinstance(value, str) or len(value) > limit):
        yield f"[ERROR] must be text of at most {limit} characters [json-pointer:{where}/{name}]"
