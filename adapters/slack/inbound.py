"""What reaches bolt: only signed requests, strictly parsed, in the shapes meetbot handles.

The signature is checked (slack_sdk's SignatureVerifier) before anything reads the body. A signed
body is then parsed with the shared strict parser and held to the shapes of the requests meetbot
serves (the `/meetings` command, block actions, the SimplyBook.me form and the events it subscribes
to), because bolt reads identity fields with `len()`, `in` and `.get()` on whatever type arrives,
and an unexpected type there would be a server error instead of a 400.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.signature import SignatureVerifier

from adapters.edge.strict import BadInput, Bounds, parse_form, parse_json_object
from adapters.slack.app import COMMAND

INTERACTIONS = ("block_actions", "view_submission")
# A command's text may be as long as the body: the core answers an over-long command "too long"
# in words, which a 400 here could not.
_COMMAND_FORM = Bounds(max_string_chars=512 * 1024)
# The Events API events meetbot subscribes to.
EVENTS = ("app_uninstalled", "tokens_revoked", "app_home_opened")
# Keys bolt follows into nested objects; none belongs to the requests meetbot handles.
_FOREIGN = (
    "authorizations",
    "event",
    "item",
    "assistant_thread",
    "function_data",
    "function_execution_id",
    "bot_access_token",
)


def verified(verifier: SignatureVerifier, body: bytes, timestamp: str, signature: str) -> bool:
    try:
        return verifier.is_valid(body=body, timestamp=timestamp, signature=signature)
    except UnicodeDecodeError:  # no signed Slack body is anything but UTF-8
        return False


# Where Slack's response URLs point; meetbot posts to no other address a payload names.
SLACK_RESPONSE_ORIGINS = ("https://hooks.slack.com/",)


def check_shape(
    body: bytes, content_type: str, response_origins: tuple[str, ...] = SLACK_RESPONSE_ORIGINS
) -> None:
    """Raises BadInput unless the body is a request meetbot handles, in a shape bolt can read.

    The same choice as bolt's parser: JSON when declared or when the body starts with `{`, else
    a form, whose `payload` field (if any) holds an interaction as JSON."""
    if content_type.split(";")[0].strip() == "application/json" or body.startswith(b"{"):
        _check_json_request(parse_json_object(body))
        return
    form = parse_form(body, _COMMAND_FORM)
    if "payload" in form:
        payload = parse_json_object(form["payload"].encode())
        _check_interaction(payload)
        urls = [
            payload.get("response_url"),
            *(entry["response_url"] for entry in payload.get("response_urls") or []),
        ]
        _check_response_urls(urls, response_origins)
        return
    _check_command(form)
    _check_response_urls([form.get("response_url")], response_origins)


def _check_response_urls(urls: list[Any], origins: tuple[str, ...]) -> None:
    if any(url is not None and not url.startswith(origins) for url in urls):
        raise BadInput("response_url is not Slack's")


def _check_json_request(request: dict[str, Any]) -> None:
    if request.get("type") == "event_callback":
        _check_event(request)
        return
    if request.get("type") != "url_verification" or not isinstance(request.get("challenge"), str):
        raise BadInput("not a request meetbot handles")


def _check_event(request: dict[str, Any]) -> None:
    event = request.get("event")
    if not isinstance(event, dict) or event.get("type") not in EVENTS:
        raise BadInput("not an event meetbot handles")
    others = [key for key in _FOREIGN if key not in ("event", "authorizations")]
    if any(key in request or key in event for key in others):
        raise BadInput("not an event meetbot handles")
    authorizations = request.get("authorizations", [])
    if not isinstance(authorizations, list) or not all(
        isinstance(entry, dict)
        and all(isinstance(value, str | bool | None) for value in entry.values())
        for entry in authorizations
    ):
        raise BadInput("authorizations must list plain objects")
    team = request.get("team_id")
    if not isinstance(team, str) or not team:
        raise BadInput("an event without its team")
    for name in ("api_app_id", "enterprise_id", "event_id"):
        _text_or_none(request.get(name), name)
    # bolt reads these as ids, and `in` on anything else is a server error.
    for name in ("user", "channel", "tab", "team", "user_team", "enterprise", "enterprise_id"):
        _text_or_none(event.get(name), f"event.{name}")
    if event["type"] == "app_home_opened" and not event.get("user"):
        raise BadInput("app_home_opened without its user")
    if not isinstance(event.get("view", {}), dict):
        raise BadInput("event.view must be an object")
    tokens = event.get("tokens", {})
    if not isinstance(tokens, dict) or not all(
        isinstance(ids, list) and all(isinstance(i, str) for i in ids) for ids in tokens.values()
    ):
        raise BadInput("tokens must list user ids")


def _check_command(form: dict[str, str]) -> None:
    if any(key in form for key in (*_FOREIGN, "response_urls")):
        raise BadInput("not a request meetbot handles")
    if form.get("command", COMMAND) != COMMAND:
        raise BadInput("not a command meetbot handles")
    if "command" in form and not (form.get("team_id") and form.get("user_id")):
        raise BadInput("a command without its team or user")


def _check_interaction(payload: dict[str, Any]) -> None:
    kind = payload.get("type")
    if kind not in INTERACTIONS or any(key in payload for key in _FOREIGN):
        raise BadInput("not an interaction meetbot handles")
    for name in ("team", "user"):
        _identified(payload.get(name), name, required=True)
    _identified(payload.get("enterprise"), "enterprise", required=False, text_allowed=True)
    _identified(payload.get("channel"), "channel", required=False, text_allowed=True)
    for name in ("team_id", "user_id", "enterprise_id", "channel_id", "response_url"):
        _text_or_none(payload.get(name), name)
    if "is_enterprise_install" in payload and not isinstance(
        payload["is_enterprise_install"], bool
    ):
        raise BadInput("is_enterprise_install must be true or false")
    _response_urls(payload.get("response_urls"))
    view = payload.get("view")
    if kind == "view_submission" or view is not None:
        _view(view)
    if kind == "block_actions":
        _actions(payload.get("actions"))


def _identified(value: Any, name: str, *, required: bool, text_allowed: bool = False) -> None:
    if value is None and not required:
        return
    if text_allowed and isinstance(value, str):
        return
    if not isinstance(value, dict) or not isinstance(value.get("id"), str) or not value["id"]:
        raise BadInput(f"{name} must be an object with an id")
    for key in ("team_id", "enterprise_id"):
        _text_or_none(value.get(key), f"{name}.{key}")


def _text_or_none(value: Any, name: str) -> None:
    if value is not None and not isinstance(value, str):
        raise BadInput(f"{name} must be text")


def _response_urls(value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, list) or not all(
        isinstance(entry, dict) and isinstance(entry.get("response_url"), str) for entry in value
    ):
        raise BadInput("response_urls must be a list of response URLs")


def _view(view: Any) -> None:
    if not isinstance(view, dict):
        raise BadInput("view must be an object")
    for key in ("team_id", "app_installed_team_id", "callback_id", "id"):
        _text_or_none(view.get(key), f"view.{key}")
    state = view.get("state", {})
    values = state.get("values", {}) if isinstance(state, dict) else None
    if not isinstance(values, dict) or not all(
        isinstance(block, dict) and all(isinstance(v, dict | None) for v in block.values())
        for block in values.values()
    ):
        raise BadInput("view.state.values must hold the form's blocks")


def _actions(actions: Any) -> None:
    if not isinstance(actions, list) or not actions:
        raise BadInput("block_actions without actions")
    for action in actions:
        if not isinstance(action, dict) or not isinstance(action.get("action_id"), str):
            raise BadInput("an action without its action_id")
        _text_or_none(action.get("block_id"), "block_id")
